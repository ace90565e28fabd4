import type { Transform } from '../shared/scene.js';

/** Size in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** Where a layer's box lands in its own buffer, and the buffer's place relative to the transform. */
export interface LayerBox {
  /** The layer box after `width`/`height`/`scale`, before rotation, in pixels. */
  boxWidth: number;
  boxHeight: number;
  /** The buffer: the box's axis-aligned bounding box after rotation, whole pixels. */
  bufferWidth: number;
  bufferHeight: number;
  /** Buffer top-left relative to the transform's `x`,`y`, in whole pixels (<= 0 when rotated). */
  offsetX: number;
  offsetY: number;
  /** Rotation in radians, clockwise. */
  radians: number;
}

/**
 * The layer box from its content's natural size and its transform. A missing `width` or `height`
 * keeps the natural aspect ratio when the other is given; `scale` multiplies both.
 */
export function boxSize(natural: Size, t: Transform): Size {
  let w = t.width;
  let h = t.height;
  if (w === undefined && h === undefined) {
    w = natural.width;
    h = natural.height;
  } else if (w === undefined) {
    w = natural.height > 0 ? ((h as number) * natural.width) / natural.height : natural.width;
  } else if (h === undefined) {
    h = natural.width > 0 ? (w * natural.height) / natural.width : natural.height;
  }
  const s = t.scale ?? 1;
  return { width: Math.max(1, (w as number) * s), height: Math.max(1, (h as number) * s) };
}

/**
 * The buffer that holds a box of `size` turned by `rotationDeg` about its centre: its whole-pixel
 * bounding box (|w cos| + |h sin| by |w sin| + |h cos|) and where it sits relative to the box.
 */
export function layerBox(size: Size, rotationDeg = 0): LayerBox {
  const radians = (rotationDeg * Math.PI) / 180;
  const cos = Math.abs(Math.cos(radians));
  const sin = Math.abs(Math.sin(radians));
  const bw = size.width * cos + size.height * sin;
  const bh = size.width * sin + size.height * cos;
  const bufferWidth = Math.max(1, Math.ceil(bw - 1e-6));
  const bufferHeight = Math.max(1, Math.ceil(bh - 1e-6));
  return {
    boxWidth: size.width,
    boxHeight: size.height,
    bufferWidth,
    bufferHeight,
    offsetX: Math.round((size.width - bufferWidth) / 2),
    offsetY: Math.round((size.height - bufferHeight) / 2),
    radians,
  };
}

/** A rectangle in whole pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The part of a layer's buffer that lies on the canvas, in buffer pixels (0 x 0 when none does):
 * the buffer's top-left is at the transform's rounded `x`,`y` plus the box's offset on the frame,
 * as the compositor places it (orchestrator/render/layer-renderer.ts). Only this part is drawn
 * and kept, so a layer never costs more memory or drawing than the canvas, whatever its size.
 * @param x,y the layer transform's position, frame pixels
 * @param canvasWidth,canvasHeight canvas size, pixels
 */
export function visiblePart(box: LayerBox, x: number, y: number, canvasWidth: number, canvasHeight: number): Rect {
  const left = Math.round(x) + box.offsetX;
  const top = Math.round(y) + box.offsetY;
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(canvasWidth, left + box.bufferWidth);
  const y1 = Math.min(canvasHeight, top + box.bufferHeight);
  if (x1 <= x0 || y1 <= y0) return { x: 0, y: 0, width: 0, height: 0 };
  return { x: x0 - left, y: y0 - top, width: x1 - x0, height: y1 - y0 };
}

/**
 * The part of the layer box (box pixels, before rotation) that buffer rectangle `clip` shows:
 * `clip` itself when unrotated, else the bounding box of its corners turned back about the centre.
 */
export function boxView(box: LayerBox, clip: Rect): Rect {
  if (box.radians === 0) return clip;
  const cos = Math.cos(-box.radians);
  const sin = Math.sin(-box.radians);
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [bx, by] of [
    [clip.x, clip.y],
    [clip.x + clip.width, clip.y],
    [clip.x, clip.y + clip.height],
    [clip.x + clip.width, clip.y + clip.height],
  ] as const) {
    const dx = bx - box.bufferWidth / 2;
    const dy = by - box.bufferHeight / 2;
    const x = dx * cos - dy * sin + box.boxWidth / 2;
    const y = dx * sin + dy * cos + box.boxHeight / 2;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x: Math.floor(x0), y: Math.floor(y0), width: Math.ceil(x1) - Math.floor(x0), height: Math.ceil(y1) - Math.floor(y0) };
}
