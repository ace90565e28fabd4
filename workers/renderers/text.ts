import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { LayerContent, TextStyle } from '../../shared/scene.js';
import { drawnTextStyle } from '../render-limits.js';
import type { PreparedContent, RenderEnv } from './types.js';

type TextContent = Extract<LayerContent, { type: 'text' }>;

/** Line height as a multiple of the font size (CSS `normal` is about 1.15-1.2 for Arial). */
const LINE_HEIGHT = 1.25;
/** Padding around text that has a background box, as a multiple of the font size. */
export const BOX_PADDING = 0.4;

let measureCtx: SKRSContext2D | undefined;

/** The CSS font shorthand for a style, e.g. `24px "Arial"`. */
export function cssFont(style: TextStyle): string {
  return `${style.fontSize}px "${style.font.replace(/"/g, '')}"`;
}

/**
 * Lines of text, optionally on a background box. Natural size: the widest line plus padding by
 * the lines' height; with a given box width the text is aligned inside it. The font size and
 * stroke are bounded by the canvas (render-limits.ts); only lines in view are drawn.
 */
export function prepareText(content: TextContent, env: RenderEnv): PreparedContent {
  const style = drawnTextStyle(content.style, env.canvas);
  const lines = content.content.split('\n');
  measureCtx ??= createCanvas(1, 1).getContext('2d');
  measureCtx.font = cssFont(style);
  const widest = Math.max(0, ...lines.map((l) => measureCtx!.measureText(l).width));
  const stroke = style.strokeColor ? (style.strokeWidth ?? 1) : 0;
  const pad = (style.background ? Math.round(style.fontSize * BOX_PADDING) : 0) + Math.ceil(stroke / 2);
  const lineHeight = style.fontSize * LINE_HEIGHT;
  return {
    natural: { width: Math.ceil(widest + 2 * pad), height: Math.ceil(lines.length * lineHeight + 2 * pad) },
    draw(ctx, width, height, _timeMs, view) {
      if (style.background) {
        ctx.fillStyle = style.background;
        ctx.fillRect(0, 0, width, height);
      }
      ctx.font = cssFont(style);
      ctx.textBaseline = 'middle';
      const align = style.align ?? 'left';
      ctx.textAlign = align;
      const x = align === 'left' ? pad : align === 'right' ? width - pad : width / 2;
      const top = (height - lines.length * lineHeight) / 2;
      // Only the lines that reach into the part of the box on the canvas (glyphs and stroke
      // stay within a font size plus the stroke of their line's middle).
      const reach = style.fontSize + stroke;
      const first = view ? Math.max(0, Math.floor((view.y - reach - top) / lineHeight)) : 0;
      const last = view ? Math.min(lines.length, Math.ceil((view.y + view.height + reach - top) / lineHeight)) : lines.length;
      lines.slice(first, last).forEach((line, k) => {
        const y = top + (first + k + 0.5) * lineHeight;
        if (stroke > 0 && style.strokeColor) {
          ctx.lineWidth = stroke;
          ctx.strokeStyle = style.strokeColor;
          ctx.lineJoin = 'round';
          ctx.strokeText(line, x, y);
        }
        ctx.fillStyle = style.color;
        ctx.fillText(line, x, y);
      });
    },
  };
}
