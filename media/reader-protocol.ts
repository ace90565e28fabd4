import type { RingBuffers } from './frame-ring.js';

/** What a reader thread is started with (`workerData`). */
export interface ReaderData {
  ffmpegPath: string;
  /** The decoder's arguments (media/decoder-args.ts), an array: never a shell line. */
  args: string[];
  /** A live feed: when the ring stays full the newest frame is dropped rather than the decoder paused for long. */
  live: boolean;
  /** The program's frame interval, ms (how long a live writer waits for room before dropping a frame). */
  frameMs: number;
}

/** Messages from a reader thread to the main thread, in this order (some may be missing). */
export type ReaderMessage =
  /** ffmpeg was started with this pid. */
  | { type: 'spawned'; pid: number }
  /** The picture size is known and the ring allocated; frames follow. `source`: the input as ffmpeg reports it. */
  | { type: 'format'; ring: RingBuffers; source: { width: number; height: number; fps: number } | null }
  /** The first frame is in the ring. */
  | { type: 'firstFrame' }
  /** A live ring is full: the main thread should release what it does not need (the newest frame wins). */
  | { type: 'full' }
  /** ffmpeg's CPU time so far (user + system), seconds, about once a second. */
  | { type: 'cpu'; seconds: number }
  /**
   * ffmpeg exited (the last message): its code or signal, the tail of its log, and `error` when
   * the thread itself gave up on it (ffmpeg missing, an unreadable log, a picture too large).
   */
  | { type: 'exit'; code: number | null; signal: string | null; frames: number; stderr: string; error: string | null };

/** Messages from the main thread to a reader thread. */
export type ReaderCommand = { type: 'stop' };
