/**
 * Pixel layout shared by the orchestrator and the render workers.
 *
 * Every frame buffer and layer buffer is a SharedArrayBuffer holding premultiplied RGBA, 8 bits
 * per channel, rows top to bottom with no padding (stride = width x 4 bytes). Read as a
 * little-endian Uint32Array, one pixel is `A << 24 | B << 16 | G << 8 | R`; the orchestrator
 * refuses to start on a big-endian host.
 *
 * Who writes which buffer when (frame-composer.ts makes frames in two stages that overlap):
 *
 *   render stage, frame N: render tasks ──► workers write a SPARE buffer of each layer drawn
 *                          again (one writer each), then it becomes the layer's front buffer
 *                                                   │ all tasks settled
 *                                                   ▼
 *   composite stage, frame N: band tasks ──► workers read the layers' front buffers and write
 *                          disjoint row bands of one pooled frame buffer and of its I420 copy
 *                          (only where the frame changed since that buffer was last drawn)
 *                                                   │
 *                     ┌─────────────────────────────┼──────────────────────┐
 *                     ▼                             ▼                      ▼
 *               ffmpeg stdin (reads)        preview task (reads)     /snapshot (reads)
 *
 * Frame N+1 may render while frames N and N-1 composite or wait to: it writes only spare buffers
 * that no frame still being composited reads (each layer buffer records the last frame that
 * reads it), and they read only the fronts they were handed. Frame N+3 renders only after frame
 * N has been composited (PIPELINE_DEPTH in frame-composer.ts), so a layer has at most three
 * buffers. Each buffer has one writer at a time and is read only after
 * its writer's task settled, so no lock or Atomics call is needed. A frame buffer is handed back
 * to its pool only when every reader has released it (a reference count on the main thread).
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
