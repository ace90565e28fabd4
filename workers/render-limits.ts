/**
 * Render-time bounds relative to the canvas, for what the scene schema (shared/scene.ts) accepts
 * but a canvas cannot show. Sizes need none: a worker draws only a layer's part on the canvas
 * (layout.ts `visiblePart`), so a layer never costs more memory or drawing than the canvas.
 * Text does: every line is laid out, and a stroke much wider than its glyphs paints its whole
 * width for each of them, whatever the clip.
 */
import type { TextStyle } from '../shared/scene.js';
import type { Size } from './layout.js';

/** Text is drawn at most this many canvas heights tall (a glyph taller cannot show whole). */
export const MAX_FONT_CANVAS_HEIGHTS = 2;
/** A text stroke is drawn at most this many font sizes wide (wider, it is a blob that only grows). */
export const MAX_STROKE_FONT_SIZES = 1;

/**
 * `style` as drawn on `canvas`: `fontSize` at most {@link MAX_FONT_CANVAS_HEIGHTS} canvas heights,
 * `strokeWidth` at most {@link MAX_STROKE_FONT_SIZES} of that font size (pixels). The same
 * object when nothing is clamped.
 */
export function drawnTextStyle(style: TextStyle, canvas: Size): TextStyle {
  const fontSize = Math.min(style.fontSize, Math.max(1, canvas.height * MAX_FONT_CANVAS_HEIGHTS));
  const strokeWidth = style.strokeWidth === undefined ? undefined : Math.min(style.strokeWidth, fontSize * MAX_STROKE_FONT_SIZES);
  if (fontSize === style.fontSize && strokeWidth === style.strokeWidth) return style;
  return { ...style, fontSize, ...(strokeWidth === undefined ? {} : { strokeWidth }) };
}
