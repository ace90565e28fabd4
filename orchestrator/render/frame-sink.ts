import type { Frame } from './frame-pool.js';

/**
 * Where the frame producer hands its frames: the render side's view of the outputs, which the
 * output side implements (the output hub), so that render never imports an encoder.
 * "Main" is the stream's own output (`config.output.url`): its encoder sets the pace, and its
 * backpressure and outages are what the producer counts as delivered or dropped frames.
 */
export interface FrameSink {
  /** The main output is up and takes frames; while it is not, each frame interval counts as dropped (`error`). */
  readonly ready: boolean;
  /** Frames the main output holds unread; at the producer's bound the interval is dropped (`encoder_backpressure`), never queued. */
  readonly queued: number;
  /** Some other output takes frames even while the main one is down: the producer goes on making them. */
  readonly othersActive: boolean;
  /**
   * Hands one frame (a new one, or the held or repeated last one) to every output; each that
   * keeps it takes its own reference. Returns true when the main output took it (a delivered frame).
   */
  write(frame: Frame): boolean;
  /**
   * Before the frame clock starts: hands the first frame to the main output ahead of its time
   * (its ffmpeg opens the stream on it) and waits, boundedly, until it was read.
   * @returns the copies written, each a delivered frame (0 when the main output is down)
   */
  prime(frame: Frame): Promise<number>;
  /** A newly composited frame, whose making started at `startedAt` (`performance.now()`): previews sample these. */
  made(frame: Frame, startedAt: number): void;
}
