import colorString from 'color-string';
import { z } from 'zod';

/**
 * A CSS colour as accepted everywhere in the API: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`,
 * `rgb()`/`rgba()`, a CSS named colour or `transparent` (parsed by `color-string`).
 */
export const ColorSchema = z
  .string()
  .max(64)
  .refine((s) => colorString.get.rgb(s) !== null, {
    message: 'Expected a CSS colour (#rrggbb, #rrggbbaa, rgb(), rgba() or a named colour)',
  });

/** A parsed colour: channels 0..255, alpha 0..1 (straight, not premultiplied). */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/**
 * Parses a CSS colour.
 * @throws Error when the string is not a colour (schemas reject such strings before this runs)
 */
export function parseColor(css: string): Rgba {
  const v = colorString.get.rgb(css);
  if (!v) throw new Error(`Not a CSS colour: ${css}`);
  return { r: v[0], g: v[1], b: v[2], a: v[3] };
}

/**
 * Packs a colour as one premultiplied RGBA pixel in a little-endian `Uint32Array` word
 * (memory order R, G, B, A), the layout of every frame and layer buffer.
 */
export function premultipliedPixel(css: string): number {
  const { r, g, b, a } = parseColor(css);
  const a8 = Math.round(a * 255);
  const pm = (c: number): number => Math.round((c * a8) / 255);
  return ((a8 << 24) | (pm(b) << 16) | (pm(g) << 8) | pm(r)) >>> 0;
}
