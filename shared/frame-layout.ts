/**
 * Pixel layout shared by the orchestrator and the render workers.
 *
 * Every frame buffer and layer buffer is a SharedArrayBuffer holding premultiplied RGBA, 8 bits
 * per channel, rows top to bottom with no padding (stride = width x 4 bytes). Read as a
 * little-endian Uint32Array, one pixel is `A << 24 | B << 16 | G << 8 | R`; the orchestrator
 * refuses to start on a big-endian host.
 *
 * Who writes which buffer when (one frame interval):
 *
 *   tick N ──► scheduler posts render tasks ──► workers write layer buffers (one writer each)
 *                                                   │ all tasks settled
 *                                                   ▼
 *              compositor (main thread) reads layer buffers, writes one pooled frame buffer
 *                                                   │
 *                     ┌─────────────────────────────┼──────────────────────┐
 *                     ▼                             ▼                      ▼
 *               ffmpeg stdin (reads)        preview task (reads)     /snapshot (reads)
 *
 * A layer buffer is written only while its render task is in flight and read only after it
 * settled; the scheduler never posts the next batch before the compositor is done, so no lock or
 * Atomics call is needed. A frame buffer is handed back to its pool only when every reader has
 * released it (a reference count on the main thread).
 */

/** Bytes per pixel of every frame and layer buffer (RGBA). */
export const BYTES_PER_PIXEL = 4;

/** Size in bytes of a `width` x `height` RGBA buffer. */
export function frameBytes(width: number, height: number): number {
  return width * height * BYTES_PER_PIXEL;
}

/** Where a rendered layer's pixels go on the frame, in frame pixels. */
export interface LayerBounds {
  /** Left edge on the frame (may be negative or past the right edge; the compositor clips). */
  x: number;
  /** Top edge on the frame. */
  y: number;
  /** Width in pixels of the pixels in the layer buffer. */
  width: number;
  /** Height in pixels. */
  height: number;
}
