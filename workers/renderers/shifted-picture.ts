/**
 * The host's pictures, scaled once per size and shifted by sub-pixel phases, kept per worker
 * (least recent out first); and writing into a layer buffer without reading a whole canvas
 * back: a shifted picture's rows (`blit`), small parts drawn over them (`overlayParts`).
 */
import { createCanvas, type Canvas, type Image, type SKRSContext2D } from '@napi-rs/canvas';
import { blendLayer } from '../../pixels/compositor.js';
import { contentBox } from '../../pixels/content-box.js';
import type { LayerBounds } from '../../pixels/frame-layout.js';

/** Bytes of scaled (and sub-pixel shifted) character pictures kept per worker, least recent out first. */
const SCALED_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Bytes one picture size may spend on sub-pixel shifted copies: it gets as many phases as fit,
 * up to {@link MAX_PHASES} (a 708x921 host at 1080p, 2.6 MB a copy: 6 phases, 1/6 px steps). A
 * copy over half of it gets one phase and moves by whole pixels (a full-frame 4K host: 33 MB,
 * 26 px of bob), so that two huge copies never crowd the cache and get redrawn every frame.
 */
const PHASE_BUDGET_BYTES = 16 * 1024 * 1024;
const MAX_PHASES = 16;
/** A scaled, shifted copy's pixels (premultiplied RGBA words, `width` per row) and the box of its visible pixels (pixels/content-box.ts). */
export interface Shifted {
  pixels: Uint32Array;
  width: number;
  height: number;
  content: LayerBounds;
}
/** The cache: scaled pictures (canvases, to shift from) and their shifted copies (pixels). */
const scaled = new Map<string, { image: Image; bytes: number; canvas?: Canvas; shifted?: Shifted }>();
let scaledBytes = 0;

/** How many vertical sub-pixel phases a `width` x `height` picture gets (see {@link PHASE_BUDGET_BYTES}). */
export function phaseCount(width: number, height: number): number {
  return Math.max(1, Math.min(MAX_PHASES, Math.floor(PHASE_BUDGET_BYTES / (width * (height + 1) * 4))));
}

/** The cache entry under `key` for `image` (made most recent), or undefined. */
function cached(key: string, image: Image): { canvas?: Canvas; shifted?: Shifted } | undefined {
  const hit = scaled.get(key);
  if (!hit || hit.image !== image) return undefined;
  scaled.delete(key);
  scaled.set(key, hit);
  return hit;
}

/** Puts an entry of `bytes` under `key`, evicting least recent entries while over the budget. */
function remember(key: string, image: Image, bytes: number, value: { canvas?: Canvas; shifted?: Shifted }): void {
  const old = scaled.get(key);
  if (old) scaledBytes -= old.bytes;
  scaled.delete(key);
  for (const [k, e] of scaled) {
    if (scaledBytes + bytes <= SCALED_CACHE_BYTES) break;
    scaled.delete(k);
    scaledBytes -= e.bytes;
  }
  scaled.set(key, { image, bytes, ...value });
  scaledBytes += bytes;
}

/**
 * `image` scaled to `w` x `h` with high-quality smoothing (~8 ms at 1080p), drawn once per size,
 * on a canvas one transparent row taller (shifted copies resample the bottom row against it).
 */
export function scaledPicture(image: Image, src: string, w: number, h: number): Canvas {
  const key = `${src}\u0000${w}x${h}`;
  const hit = cached(key, image)?.canvas;
  if (hit) return hit;
  const canvas = createCanvas(w, h + 1);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, 0, 0, w, h);
  remember(key, image, w * (h + 1) * 4, { canvas });
  return canvas;
}

/**
 * `image` scaled to `width` x `height` and shifted down by `phase / phases` of a pixel
 * (bilinear), as pixels: drawn once and reused; the copy is one row taller to hold the shifted
 * bottom row. The host moves by fractions of a pixel every frame (a slow idle breath at a small
 * size moves ~0.1 px a frame): copying a shifted copy's rows at a whole-pixel offset costs ~0.2 ms
 * at 1080p where drawing the picture at a sub-pixel offset resamples every pixel, ~2.5 ms (and a
 * high-quality scale of the whole picture ~8 ms; bench `render` S1). Kept as JS memory, so that a
 * frame reads no canvas back (each read wraps Skia's pixels in a new external buffer, and those
 * made V8 run a full collection every ~26 frames).
 */
export function shiftedPicture(image: Image, src: string, width: number, height: number, phase: number, phases: number): Shifted {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const key = `${src}\u0000${w}x${h}\u0000${phase}/${phases}`;
  const hit = cached(key, image)?.shifted;
  if (hit) return hit;
  const picture = scaledPicture(image, src, w, h);
  let canvas = picture;
  if (phase !== 0) {
    canvas = createCanvas(w, h + 1);
    canvas.getContext('2d').drawImage(picture, 0, phase / phases);
  }
  const pixels = new Uint32Array(Uint8Array.from(canvas.data()).buffer);
  const shifted = { pixels, width: w, height: h + 1, content: contentBox(pixels, w, h + 1) };
  remember(key, image, pixels.byteLength, { shifted });
  return shifted;
}

/**
 * Writes `picture` into `target` (`width` x `height` words) with its top at row `top` and its
 * left edge at column `left` (<= 0: a layer cut at the canvas's left edge), and zeros every other
 * pixel; only the picture's visible box is copied.
 */
export function blit(target: Uint32Array, width: number, height: number, picture: Shifted, top: number, left = 0): void {
  const c = picture.content;
  const y0 = Math.max(0, top + c.y);
  const y1 = Math.min(height, top + c.y + c.height);
  const x0 = Math.max(0, Math.min(width, left + c.x));
  const x1 = Math.min(width, left + c.x + c.width);
  if (y1 <= y0 || x1 <= x0) {
    target.fill(0, 0, width * height);
    return;
  }
  let zeroFrom = 0;
  for (let y = y0; y < y1; y++) {
    const d = y * width;
    target.fill(0, zeroFrom, d + x0);
    const s = (y - top) * picture.width - left;
    target.set(picture.pixels.subarray(s + x0, s + x1), d + x0);
    zeroFrom = d + x1;
  }
  target.fill(0, zeroFrom, width * height);
}

/** A small canvas the face parts are drawn on before they are blended into a layer buffer (grown as needed). */
let partsCanvas: Canvas | undefined;

/**
 * Draws with `draw` (box coordinates) the part of a layer inside `box` on a small transparent
 * canvas and blends it over `target` (`width` x `height` words) with premultiplied source-over:
 * a few thousand pixels read back instead of the whole layer.
 */
export function overlayParts(
  target: Uint32Array,
  width: number,
  height: number,
  box: LayerBounds,
  draw: (ctx: SKRSContext2D) => void,
): void {
  const x0 = Math.max(0, box.x);
  const y0 = Math.max(0, box.y);
  const x1 = Math.min(width, box.x + box.width);
  const y1 = Math.min(height, box.y + box.height);
  if (x1 <= x0 || y1 <= y0) return;
  if (!partsCanvas || partsCanvas.width < x1 - x0 || partsCanvas.height < y1 - y0) {
    partsCanvas = createCanvas(Math.max(x1 - x0, partsCanvas?.width ?? 0), Math.max(y1 - y0, partsCanvas?.height ?? 0));
  }
  const ctx = partsCanvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, x1 - x0, y1 - y0);
  ctx.translate(-x0, -y0);
  draw(ctx);
  const data = partsCanvas.data();
  const words =
    data.byteOffset % 4 === 0
      ? new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2)
      : new Uint32Array(Uint8Array.from(data).buffer);
  const bounds = { x: x0, y: y0, width: partsCanvas.width, height: partsCanvas.height };
  blendLayer(target, width, height, { pixels: words, bounds, opacity: 1, opaque: false }, { x0, y0, x1, y1 });
}
