import type { RingBuffers } from './frame-ring.js';

/** What one decoder run is started with. */
export interface RunSpec {
  ffmpegPath: string;
  /** The decoder's arguments (media/decoder-args.ts), an array: never a shell line. */
  args: string[];
  /** A live feed: when the ring stays full the newest frame is dropped rather than the decoder paused for long. */
  live: boolean;
  /** The program's frame interval, ms (how long a live writer waits for room before dropping a frame). */
  frameMs: number;
}

/** Starts decoder run `run` (ids are the main thread's, unique per thread). */
export interface RunStart extends RunSpec {
  type: 'start';
  run: number;
}

/** Messages from the main thread to a source's reader thread. */
export type ReaderCommand =
  | RunStart
  /** Kills run `run`'s ffmpeg (its `exit` follows). */
  | { type: 'stop'; run: number }
  /** Kills every run; the thread ends once their exits are posted. */
  | { type: 'close' }
  /** Asks whether the thread still answers (a stopped run's exit is late): `pong` with the same `id` follows. */
  | { type: 'ping'; id: number };

/** Messages from a reader thread to the main thread, per run, in this order (some may be missing). */
export type ReaderMessage =
  /** The answer to `ping` `id`: the thread's event loop still turns. */
  | { type: 'pong'; run: 0; id: number }
  /** ffmpeg was started with this pid. */
  | { type: 'spawned'; run: number; pid: number }
  /** The picture size is known and the ring allocated; frames follow. `source`: the input as ffmpeg reports it. */
  | { type: 'format'; run: number; ring: RingBuffers; source: { width: number; height: number; fps: number } | null }
  /** The first frame is in the ring. */
  | { type: 'firstFrame'; run: number }
  /** A live ring is full: the main thread should release what it does not need (the newest frame wins). */
  | { type: 'full'; run: number }
  /** ffmpeg's CPU time so far (user + system), seconds, about once a second. */
  | { type: 'cpu'; run: number; seconds: number }
  /**
   * ffmpeg exited (the run's last message): its code or signal, the tail of its log, and `error`
   * when the thread itself gave up on it (ffmpeg missing, an unreadable output, a picture too large).
   */
  | { type: 'exit'; run: number; code: number | null; signal: string | null; frames: number; stderr: string; error: string | null };
