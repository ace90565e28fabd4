import type { LayerBounds } from './frame-layout.js';

/**
 * The smallest box of a layer buffer outside of which every pixel is fully transparent, in
 * buffer pixels; `width` and `height` 0 when every pixel is. The compositor damages only this
 * box when the layer changes: a host picture is about half transparent margin (S1 at 1080p:
 * 78% of its 708x921 buffer), which would otherwise be redrawn and converted every frame.
 *
 * Scans inward from each edge and stops at the first pixel with alpha > 0, so an opaque layer
 * costs a few reads and a layer with margins about the margins' pixels (0.1 ms for the S1 host).
 * @param words premultiplied RGBA words, `width` per row (frame-layout.ts)
 */
export function contentBox(words: Uint32Array, width: number, height: number): LayerBounds {
  let top = 0;
  topScan: for (; top < height; top++) {
    const row = top * width;
    for (let x = 0; x < width; x++) if (words[row + x]! > 0xffffff) break topScan;
  }
  if (top === height) return { x: 0, y: 0, width: 0, height: 0 };
  let bottom = height - 1;
  bottomScan: for (; bottom > top; bottom--) {
    const row = bottom * width;
    for (let x = 0; x < width; x++) if (words[row + x]! > 0xffffff) break bottomScan;
  }
  // Left and right edges row by row (sequential reads), each row only as far as the edges found so far.
  let left = width;
  let right = -1;
  for (let y = top; y <= bottom; y++) {
    const row = y * width;
    for (let x = 0; x < left; x++) {
      if (words[row + x]! > 0xffffff) {
        left = x;
        break;
      }
    }
    for (let x = width - 1; x > right; x--) {
      if (words[row + x]! > 0xffffff) {
        right = x;
        break;
      }
    }
  }
  return { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}
