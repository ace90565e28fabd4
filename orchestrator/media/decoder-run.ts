import { Worker } from 'node:worker_threads';
import { dropped, ringOf, written, type FrameRing } from '../../media/frame-ring.js';
import type { ReaderData, ReaderMessage } from '../../media/reader-protocol.js';
import type { OutputProcess } from '../output/supervised-output.js';

/** The reader thread's entry, built beside this file's folder (dist/media/source-reader.js). */
const READER_FILE = new URL('../../media/source-reader.js', import.meta.url);

/** After a stop, the reader thread is terminated if it has not ended by itself within this long, ms. */
const STOP_GRACE_MS = 2000;

/** Lines of ffmpeg's log kept as a run's error message. */
const ERROR_LINES = 3;

/** How a decoder run ended. */
export interface RunExit {
  /** `exited`: stopped on purpose, or the output ended cleanly; `failed`: anything else. */
  state: 'exited' | 'failed';
  /** ffmpeg's exit code (null when killed by a signal or never started). */
  code: number | null;
  /** Why it failed, for `lastError`: the thread's own reason or the last lines of ffmpeg's log. */
  message?: string;
  /** Frames it wrote into its ring. */
  frames: number;
}

/** Callbacks of a {@link DecoderRun}, on the main thread. */
export interface DecoderRunEvents {
  /** The picture size is known and the ring exists (frames follow). */
  onFormat?(run: DecoderRun): void;
  onFirstFrame?(run: DecoderRun): void;
  /** A live ring is full: release what is not needed (the newest frame wins). */
  onFull?(run: DecoderRun): void;
  onExit?(run: DecoderRun, exit: RunExit): void;
  /** A callback above threw (a bug): reported here instead of ending the process. */
  onError?(err: Error): void;
}

/**
 * One run of a source's decoder: a reader thread (media/source-reader.ts) and the ffmpeg it
 * spawns, from a start position until it ends or is stopped; a seek, a restart or a new picture
 * size is a new run with a new ring. Usable as a supervised output's process (live feeds reuse
 * the outputs' restart policy): it `flows` while new frames arrive.
 */
export class DecoderRun implements OutputProcess {
  readonly #worker: Worker;
  readonly #events: DecoderRunEvents;
  readonly #stallMs: number;
  #pid: number | undefined;
  #ring: FrameRing | null = null;
  #running = true;
  #stopped = false;
  #seenFrames = 0;
  #exitMessage: Extract<ReaderMessage, { type: 'exit' }> | null = null;
  #gotFrame = false;
  /** `performance.now()` of the start, or of the last time new frames were seen ({@link poll}). */
  lastProgressAt = performance.now();
  /** ffmpeg's CPU time so far, seconds (user + system). */
  cpuSeconds = 0;
  /** The input's video stream as ffmpeg reported it (natural size, frame rate), or null. */
  source: { width: number; height: number; fps: number } | null = null;
  readonly exited: Promise<{ state: 'exited' | 'failed'; message?: string }>;
  /** Settles with the full exit record once the thread has ended. */
  readonly ended: Promise<RunExit>;

  /**
   * Starts the thread (it spawns ffmpeg at once).
   * @param stallMs ms without a new frame, once frames flowed, after which a supervisor kills it (live)
   */
  constructor(data: ReaderData, events: DecoderRunEvents, stallMs: number) {
    this.#events = events;
    this.#stallMs = stallMs;
    let done!: (exit: RunExit) => void;
    this.ended = new Promise<RunExit>((resolve) => (done = resolve));
    this.exited = this.ended.then((e) => ({ state: e.state, ...(e.message === undefined ? {} : { message: e.message }) }));
    this.#worker = new Worker(READER_FILE, { workerData: data, stdout: false, stderr: false });
    this.#worker.unref();
    this.#worker.on('message', (m: ReaderMessage) => {
      try {
        this.#message(m);
      } catch (err) {
        this.#events.onError?.(err as Error);
      }
    });
    const finish = (threadError: string | null): void => {
      if (!this.#running) return;
      this.#running = false;
      const m = this.#exitMessage;
      const frames = m?.frames ?? (this.#ring ? written(this.#ring) : 0);
      let exit: RunExit;
      if (this.#stopped) exit = { state: 'exited', code: m?.code ?? null, frames };
      else if (m && m.code === 0 && m.error === null) exit = { state: 'exited', code: 0, frames };
      else {
        const reason = m?.error ?? threadError ?? lastLines(m?.stderr ?? '') ?? `ffmpeg exited with ${m?.signal ?? `code ${m?.code}`}`;
        exit = { state: 'failed', code: m?.code ?? null, message: reason, frames };
      }
      try {
        this.#events.onExit?.(this, exit);
      } catch (err) {
        this.#events.onError?.(err as Error);
      }
      done(exit);
    };
    this.#worker.on('error', (err) => finish(`the reader thread failed: ${err.message}`));
    this.#worker.on('exit', () => finish(null));
  }

  #message(m: ReaderMessage): void {
    switch (m.type) {
      case 'spawned':
        this.#pid = m.pid;
        break;
      case 'format':
        this.#ring = ringOf(m.ring);
        this.source = m.source;
        this.#events.onFormat?.(this);
        break;
      case 'firstFrame':
        this.#gotFrame = true;
        this.lastProgressAt = performance.now();
        this.#events.onFirstFrame?.(this);
        break;
      case 'full':
        this.#events.onFull?.(this);
        break;
      case 'cpu':
        this.cpuSeconds = m.seconds;
        break;
      case 'exit':
        this.#exitMessage = m;
        this.#pid = undefined;
        break;
    }
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  /** The ring, once the picture size is known. */
  get ring(): FrameRing | null {
    return this.#ring;
  }

  /** True until the thread has ended. */
  get running(): boolean {
    return this.#running;
  }

  /** Frames arrive: the first came, and the last came within the stall limit. */
  get flowing(): boolean {
    return this.#gotFrame && performance.now() - this.lastProgressAt < this.#stallMs;
  }

  /** Until the first frame: `connectMs` (a feed may wait for its publisher); then the run's stall limit. */
  stallLimitMs(connectMs: number): number {
    return this.#gotFrame ? this.#stallMs : connectMs;
  }

  /** Notes new frames (call from a watchdog): moves `lastProgressAt` when the ring's count rose. */
  poll(now = performance.now()): void {
    if (!this.#ring) return;
    // Frames dropped because the reader held on to its frames (a paused live feed) still prove the feed flows.
    const n = written(this.#ring) + dropped(this.#ring);
    if (n > this.#seenFrames) {
      this.#seenFrames = n;
      this.lastProgressAt = now;
    }
  }

  /** Stops decoding at once (ffmpeg is killed; a decoder has nothing to flush). The ring stays readable. */
  kill(): void {
    if (!this.#running) return;
    this.#stopped = true;
    this.#worker.postMessage({ type: 'stop' });
    // The thread kills it too; this one also works when the thread is stuck.
    if (this.#pid !== undefined) {
      try {
        process.kill(this.#pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const worker = this.#worker;
    setTimeout(() => void worker.terminate(), STOP_GRACE_MS).unref();
  }

  /** Stops it and waits until its thread has ended. */
  async end(): Promise<{ state: 'exited' | 'failed' }> {
    this.kill();
    const e = await this.ended;
    return { state: e.state };
  }
}

/** The last lines of ffmpeg's log that say something (its error), or null. */
function lastLines(log: string): string | null {
  const lines = log
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(frame=|video:|Press \[q\])/.test(l));
  return lines.length ? lines.slice(-ERROR_LINES).join(' | ') : null;
}
