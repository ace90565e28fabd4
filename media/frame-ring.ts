/**
 * The frame ring: how a source's reader thread (media/source-reader.ts) hands decoded pictures to
 * the main thread without a copy. K slots, each a SharedArrayBuffer of `width x height x 4` bytes
 * (premultiplied RGBA words, the compositor's own format, so a slot's words are a layer's pixels
 * as they are), and a header of Int32 words read and written with Atomics:
 *
 * - `WRITTEN`: frames complete so far; frame n lives in slot n % K.
 * - `RELEASED`: frames the main thread is done with; every frame below it may be overwritten.
 * - `END`: 0 while decoding, {@link END_CLEAN} after the decoder's output ended normally,
 *   {@link END_FAILED} after it failed.
 * - `DROPPED`: frames the writer threw away unseen because the ring stayed full (live feeds).
 *
 * The writer may write frame n only while `n - RELEASED < K`; the reader may read any frame in
 * `[RELEASED, WRITTEN)`. One writer, one reader; the only waits are the writer's (on `RELEASED`).
 */

/** Header words (Int32). */
export const H_WRITTEN = 0;
export const H_RELEASED = 1;
export const H_END = 2;
export const H_DROPPED = 3;
/** Int32 words in a ring header. */
export const HEADER_WORDS = 8;

/** `END` after the decoder's output ended normally (end of file). */
export const END_CLEAN = 1;
/** `END` after the decoder failed (exit code not 0, killed, unreadable output). */
export const END_FAILED = 2;

/** The largest picture a source may decode to, pixels (4096 x 4096; a layer box beyond it is refused). */
export const MAX_PICTURE_PIXELS = 4096 * 4096;
/** The largest width or height of a decoded picture, pixels. */
export const MAX_PICTURE_SIDE = 8192;

/**
 * Slots of a ring for pictures of `frameBytes`: 6 (three frames pinned by frames being made, see
 * orchestrator/render/frame-composer.ts PIPELINE_DEPTH, and three decoded ahead), 4 for pictures
 * over 16 MB (past 2048 x 2048) so that one source stays under ~130 MB.
 */
export function ringSlots(frameBytes: number): number {
  return frameBytes > 16 * 1024 * 1024 ? 4 : 6;
}

/** A ring as both threads see it: the header, the slots and their word views. */
export interface FrameRing {
  header: Int32Array;
  slots: SharedArrayBuffer[];
  /** One Uint32Array per slot, each a view of its whole SharedArrayBuffer from offset 0. */
  words: Uint32Array[];
  width: number;
  height: number;
}

/** The SharedArrayBuffers of a ring, as posted from the reader thread to the main thread. */
export interface RingBuffers {
  header: SharedArrayBuffer;
  slots: SharedArrayBuffer[];
  width: number;
  height: number;
}

/**
 * Allocates a ring for `width x height` pictures (once per decoder run, never per frame).
 * @throws RangeError when the picture is larger than {@link MAX_PICTURE_PIXELS} or memory is short
 */
export function allocateRing(width: number, height: number): RingBuffers {
  if (!(width > 0 && height > 0) || width > MAX_PICTURE_SIDE || height > MAX_PICTURE_SIDE || width * height > MAX_PICTURE_PIXELS)
    throw new RangeError(`A ${width}x${height} picture is larger than a source may decode to (${MAX_PICTURE_PIXELS} pixels)`);
  const bytes = width * height * 4;
  const slots = Array.from({ length: ringSlots(bytes) }, () => new SharedArrayBuffer(bytes));
  return { header: new SharedArrayBuffer(HEADER_WORDS * 4), slots, width, height };
}

/** The views of a ring's buffers (each thread makes its own). */
export function ringOf(buffers: RingBuffers): FrameRing {
  return {
    header: new Int32Array(buffers.header),
    slots: buffers.slots,
    words: buffers.slots.map((s) => new Uint32Array(s)),
    width: buffers.width,
    height: buffers.height,
  };
}

/** Frames complete so far. */
export function written(ring: FrameRing): number {
  return Atomics.load(ring.header, H_WRITTEN);
}

/** Frames the reader is done with (every frame below may be overwritten). */
export function released(ring: FrameRing): number {
  return Atomics.load(ring.header, H_RELEASED);
}

/** True when the writer may write frame `n` now (`n - RELEASED < K`). */
export function canWrite(ring: FrameRing, n: number): boolean {
  return n - released(ring) < ring.slots.length;
}

/** Writer: frame `n` is complete in its slot (frames are published in order). */
export function publish(ring: FrameRing, n: number): void {
  Atomics.store(ring.header, H_WRITTEN, n + 1);
}

/** Reader: frames below `upTo` may be overwritten (never moves back); wakes a writer waiting for room. */
export function release(ring: FrameRing, upTo: number): void {
  if (upTo <= Atomics.load(ring.header, H_RELEASED)) return;
  Atomics.store(ring.header, H_RELEASED, upTo);
  Atomics.notify(ring.header, H_RELEASED);
}

/** Writer: the decoder's output ended ({@link END_CLEAN} or {@link END_FAILED}); wakes nobody (the reader polls). */
export function markEnd(ring: FrameRing, how: typeof END_CLEAN | typeof END_FAILED): void {
  Atomics.store(ring.header, H_END, how);
}

/** How the decoder's output ended: 0 (still decoding), {@link END_CLEAN} or {@link END_FAILED}. */
export function endOf(ring: FrameRing): number {
  return Atomics.load(ring.header, H_END);
}

/** Frames the writer dropped unseen so far. */
export function dropped(ring: FrameRing): number {
  return Atomics.load(ring.header, H_DROPPED);
}

/**
 * Writer: waits until `RELEASED` moves past `seen` or `timeoutMs` passes (without blocking the
 * thread's event loop: Atomics.waitAsync).
 */
export async function waitRelease(ring: FrameRing, seen: number, timeoutMs: number): Promise<void> {
  const w = Atomics.waitAsync(ring.header, H_RELEASED, seen, timeoutMs);
  if (w.async) await w.value;
}
