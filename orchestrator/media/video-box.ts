import type { VideoBox } from '../../media/decoder-args.js';
import { MAX_PICTURE_PIXELS } from '../../media/frame-ring.js';
import { premultipliedPixel } from '../../shared/color.js';
import type { VideoContent } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';
import type { VideoFrame } from '../render/video-frames.js';

/** True when a file plays again at its end (`loop`, or `onEnd: loop`). */
export function looping(c: VideoContent): boolean {
  return c.loop || c.onEnd === 'loop';
}

/** The box of a video layer from its transform and fit. */
export function videoBox(layer: Layer): VideoBox {
  const c = layer.content as VideoContent;
  const t = layer.transform;
  return { width: t.width, height: t.height, scale: t.scale, fit: c.fit };
}

/** What a decoder run depends on besides its start: a change of it needs a new run. */
export function boxKey(box: VideoBox, fps: number): string {
  return `${box.width}x${box.height}x${box.scale ?? 1}:${box.fit}@${fps}`;
}

/** The box's size in whole pixels, or null when a side follows the source (not given). */
export function boxPixels(box: VideoBox): { width: number; height: number } | null {
  if (box.width === undefined || box.height === undefined) return null;
  const s = box.scale ?? 1;
  return { width: Math.max(1, Math.round(box.width * s)), height: Math.max(1, Math.round(box.height * s)) };
}

/** Where a decoded `width` x `height` picture sits in `box`: centred when contained in a box of both sides, else at its corner. */
export function fitOffset(box: VideoBox, width: number, height: number): { x: number; y: number } {
  const b = boxPixels(box);
  if (box.fit !== 'contain' || !b) return { x: 0, y: 0 };
  return { x: Math.round((b.width - width) / 2), y: Math.round((b.height - height) / 2) };
}

/**
 * A slate: the layer box filled with one colour (a live feed with no picture yet), made once per
 * size and colour (a SharedArrayBuffer, so workers composite it like a picture).
 */
export class Slate {
  #key = '';
  #frame: VideoFrame | null = null;

  /** The slate of `color` over `box`, or null when the box has no fixed size or is too large. */
  frame(box: VideoBox, color: string): VideoFrame | null {
    const b = boxPixels(box);
    if (!b || b.width * b.height > MAX_PICTURE_PIXELS) return null;
    const key = `${b.width}x${b.height}:${color}`;
    if (key !== this.#key || !this.#frame) {
      const pixel = premultipliedPixel(color);
      const pixels = new Uint32Array(new SharedArrayBuffer(b.width * b.height * 4)).fill(pixel);
      this.#key = key;
      this.#frame = { pixels, width: b.width, height: b.height, offsetX: 0, offsetY: 0, opaque: pixel >>> 24 === 255, generation: -1 };
    }
    return this.#frame;
  }
}
