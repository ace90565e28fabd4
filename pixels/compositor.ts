import type { LayerBounds } from './frame-layout.js';

/**
 * A rendered layer ready to be blended: on this thread, and (its first four fields) as a layer
 * of a composite band in a worker (pixels/composite-band.ts).
 */
export interface CompositeLayer {
  /**
   * The layer's pixels, premultiplied RGBA words, `bounds.width` per row; for a band that goes
   * to a worker, a view of a SharedArrayBuffer from its offset 0 (the worker sees the buffer).
   */
  pixels: Uint32Array;
  /** Where they go on the frame (may overhang; clipped here). */
  bounds: LayerBounds;
  /** Layer opacity 0..1, multiplied into every pixel. */
  opacity: number;
  /** Every pixel has alpha 255 (rows may be copied when opacity is 1). */
  opaque: boolean;
  /** Part of the outgoing scene of a crossfade (composited into its own frame). */
  ghost?: boolean;
  /** Bumped each time the layer's pixels are drawn again (none: treated as changed every frame). */
  generation?: number;
  /** Where on the frame its visible pixels are (inside `bounds`; none: all of `bounds`); only this is damaged when it changes. */
  content?: LayerBounds;
}

/** A rectangle of frame pixels: `x0`,`y0` inclusive, `x1`,`y1` exclusive. */
export interface ClipRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const RB = 0x00ff00ff;
/** Rounding term for x/255 done as (x + 128 + ((x + 128) >> 8)) >> 8, per 16-bit lane. */
const HALF = 0x00800080;

/**
 * Blends `layer` over `frame` with premultiplied source-over (Porter & Duff 1984):
 * `out = src x o + dst x (1 - srcAlpha x o)`, per channel, only inside the layer's clipped bounds.
 * Two channels are computed per multiply (R,B and G,A in 16-bit lanes of one 32-bit word), so
 * 255 x 255 + 128 never overflows a lane. Fully transparent pixels are skipped, opaque ones
 * copied; an opaque layer at opacity 1 is copied row by row.
 *
 * @param frame  destination words, `frameWidth` x `frameHeight`
 * @param clip   only pixels inside it are written, frame pixels, exclusive ends (a damaged
 *   part of one band of a frame composited in parallel); default: the whole frame
 */
export function blendLayer(frame: Uint32Array, frameWidth: number, frameHeight: number, layer: CompositeLayer, clip?: ClipRect): void {
  const { bounds, pixels } = layer;
  const x0 = Math.max(clip?.x0 ?? 0, bounds.x);
  const y0 = Math.max(clip?.y0 ?? 0, bounds.y);
  const x1 = Math.min(clip?.x1 ?? frameWidth, frameWidth, bounds.x + bounds.width);
  const y1 = Math.min(clip?.y1 ?? frameHeight, frameHeight, bounds.y + bounds.height);
  if (x1 <= x0 || y1 <= y0 || layer.opacity <= 0) return;
  const w = x1 - x0;
  const op = Math.round(layer.opacity * 256);

  if (layer.opaque && op === 256) {
    for (let y = y0; y < y1; y++) {
      const src = (y - bounds.y) * bounds.width + (x0 - bounds.x);
      frame.set(pixels.subarray(src, src + w), y * frameWidth + x0);
    }
    return;
  }

  for (let y = y0; y < y1; y++) {
    let s = (y - bounds.y) * bounds.width + (x0 - bounds.x);
    let d = y * frameWidth + x0;
    const end = d + w;
    for (; d < end; d++, s++) {
      let px = pixels[s]!;
      if (px === 0) continue;
      if (op !== 256) {
        const rb = (((px & RB) * op + HALF) >>> 8) & RB;
        const ga = ((((px >>> 8) & RB) * op + HALF) >>> 8) & RB;
        px = (rb | (ga << 8)) >>> 0;
      }
      const inv = 255 - (px >>> 24);
      if (inv === 0) {
        frame[d] = px;
        continue;
      }
      const dst = frame[d]!;
      let rb = (dst & RB) * inv + HALF;
      rb = ((rb + ((rb >>> 8) & RB)) >>> 8) & RB;
      let ga = ((dst >>> 8) & RB) * inv + HALF;
      ga = ((ga + ((ga >>> 8) & RB)) >>> 8) & RB;
      frame[d] = ((px & RB) + rb) | ((((px >>> 8) & RB) + ga) << 8);
    }
  }
}

/**
 * Fills the frame with one premultiplied pixel (the canvas background).
 * @param clip only this part (frame pixels, exclusive ends; `frameWidth` needed); default: all
 */
export function clearFrame(frame: Uint32Array, pixel: number, clip?: ClipRect, frameWidth = 0): void {
  if (!clip) {
    frame.fill(pixel);
    return;
  }
  if (clip.x0 === 0 && clip.x1 === frameWidth) {
    frame.fill(pixel, clip.y0 * frameWidth, clip.y1 * frameWidth);
    return;
  }
  for (let y = clip.y0; y < clip.y1; y++) frame.fill(pixel, y * frameWidth + clip.x0, y * frameWidth + clip.x1);
}

/**
 * Mixes two whole frames for a crossfade: `dst = dst x w + src x (1 - w)` per channel (both
 * premultiplied, so the mix is premultiplied too), `w` in 0..1 quantised to 1/256. Two channels
 * per multiply as in {@link blendLayer}: 255 x 256 + 128 fits a 16-bit lane.
 * @param dst the incoming scene's frame, overwritten with the mix
 * @param src the outgoing scene's frame, same size
 * @param w   weight of `dst` (the crossfade's eased progress)
 */
export function mixFrames(dst: Uint32Array, src: Uint32Array, w: number): void {
  const a = Math.round(Math.min(1, Math.max(0, w)) * 256);
  if (a === 256) return;
  if (a === 0) {
    dst.set(src);
    return;
  }
  const b = 256 - a;
  for (let i = 0; i < dst.length; i++) {
    const d = dst[i]!;
    const s = src[i]!;
    if (d === s) continue;
    const rb = ((((d & RB) * a + (s & RB) * b + HALF) >>> 8) & RB) >>> 0;
    const ga = (((((d >>> 8) & RB) * a + ((s >>> 8) & RB) * b + HALF) >>> 8) & RB) >>> 0;
    dst[i] = (rb | (ga << 8)) >>> 0;
  }
}
