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
