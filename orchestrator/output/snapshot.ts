import sharp from 'sharp';
import { AppError } from '../../shared/errors.js';
import type { Frame, FramePool } from '../render/frame-pool.js';

/** Where a snapshot's frame comes from (the frame producer): the last live frame, or one composed now. */
export interface SnapshotSource {
  /** Settles when the newest frame in the making is done (null: none is). */
  readonly inflight: Promise<void> | null;
  /** The last frame made, or null. */
  readonly last: Frame | null;
  /** One frame at scene time `timeMs` (ms) with a reference for the caller; null: no free buffer. */
  compose(timeMs: number): Promise<Frame | null>;
}

/**
 * A PNG of the picture now: the last live frame (after the one in the making) while live; when
 * not live, the scene composed once at scene time `timeMs()`.
 * @param framesNow the frame pool now; @param liveNow whether the stream is live now
 * @param width downscale to this many pixels wide
 * @throws AppError SM_ERR_NO_FRAME when no frame buffer is free
 */
export async function takeSnapshot(
  source: SnapshotSource,
  framesNow: () => FramePool,
  liveNow: () => boolean,
  timeMs: () => number,
  width?: number,
): Promise<Buffer> {
  const inflight = source.inflight;
  if (inflight) await inflight;
  // Read after the wait: a canvas change meanwhile swaps the frame pool (and a stop, the live flag).
  const frames = framesNow();
  const live = liveNow();
  const last = source.last;
  let frame = last && live ? frames.retain(last) : null;
  if (!frame) {
    frame = await source.compose(timeMs());
    if (!frame) throw new AppError('SM_ERR_NO_FRAME', 'No frame buffer is free; try again');
  }
  try {
    return await encodeSnapshot(frame, width);
  } finally {
    frames.release(frame);
  }
}

/**
 * Encodes a composited frame as PNG with sharp, un-premultiplying on the way (sharp's raw input
 * `premultiplied` flag), optionally downscaled to `width` pixels wide (aspect kept).
 * The caller holds a reference on the frame until the returned promise settles.
 */
export async function encodeSnapshot(frame: Frame, width?: number): Promise<Buffer> {
  let image = sharp(frame.bytes, {
    raw: { width: frame.width, height: frame.height, channels: 4, premultiplied: true },
  });
  if (width !== undefined && width < frame.width) image = image.resize({ width });
  return image.png({ compressionLevel: 3 }).toBuffer();
}
