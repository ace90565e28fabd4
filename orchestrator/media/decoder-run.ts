import { Worker } from 'node:worker_threads';
import { dropped, ringOf, written, type FrameRing } from '../../media/frame-ring.js';
import type { ReaderCommand, ReaderMessage, RunSpec } from '../../media/reader-protocol.js';
import type { OutputProcess } from '../output/supervised-output.js';

/** The reader thread's entry, built beside this file's folder (dist/media/source-reader.js). */
const READER_FILE = new URL('../../media/source-reader.js', import.meta.url);

/** A run whose exit the thread has not reported this long after it was stopped is given up (the thread is replaced), ms. */
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
  /** The reader thread failed or was replaced, not ffmpeg: the input is not to blame (worth another run). */
  threadFailed?: boolean;
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
  /**
   * The failure message with secrets removed (a live URL's stream key, user info, query values:
   * ffmpeg quotes its input), applied before the exit reaches anyone: `onExit`, `exited` (whose
   * reason the supervisor logs and keeps as `lastError`), `ended`.
   */
  scrub?(message: string): string;
}

/**
 * The reader thread of one video source (media/source-reader.ts): one `worker_threads` Worker,
 * started with the source's first run and kept for the next ones (a seek, a restart, a reconnect
 * start only an ffmpeg). Should the thread die, its runs fail and the next run starts a new one.
 */
export class SourceThread {
  #worker: Worker | null = null;
  readonly #runs = new Map<number, DecoderRun>();
  #nextId = 1;
  #closed = false;
  /** The liveness question in flight ({@link stuck}): its id and the timer that replaces a thread that does not answer. */
  #ping: { id: number; timer: NodeJS.Timeout } | null = null;
  #nextPing = 1;

  /**
   * Starts a decoder run on the thread (starting the thread first when there is none).
   * @param stallMs ms without a new frame, once frames flowed, after which a supervisor kills it (live)
   */
  run(spec: RunSpec, events: DecoderRunEvents, stallMs: number): DecoderRun {
    const id = this.#nextId++;
    const run = new DecoderRun(this, id, events, stallMs);
    this.#runs.set(id, run);
    if (this.#closed) {
      run.finish({ state: 'failed', code: null, message: 'the source is closed', frames: 0 });
      return run;
    }
    run.worker = this.#post({ type: 'start', run: id, ...spec });
    return run;
  }

  /** Stops every run and ends the thread; resolves once it has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    const gone = new Promise((r) => worker.once('exit', r));
    worker.postMessage({ type: 'close' } satisfies ReaderCommand);
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }

  /** @internal Posts `command` to the thread (a run's stop). */
  post(command: ReaderCommand): void {
    this.#post(command);
  }

  /**
   * @internal A stopped run has not ended in time. That alone is no reason to end the thread (its
   * other runs, a seek's new one among them, would fail with it): on a loaded machine an exit can
   * simply be late. The thread is asked whether its event loop still turns; one that does not
   * answer within {@link STOP_GRACE_MS} is stuck and replaced (its runs fail, the next run starts a
   * new thread).
   */
  stuck(): void {
    const worker = this.#worker;
    if (!worker || this.#ping) return;
    const id = this.#nextPing++;
    const timer = setTimeout(() => {
      if (this.#ping?.id !== id) return;
      this.#ping = null;
      // New runs go to a new thread at once; this one's runs fail when it has ended.
      if (this.#worker === worker) this.#worker = null;
      void worker.terminate();
    }, STOP_GRACE_MS);
    timer.unref();
    this.#ping = { id, timer };
    worker.postMessage({ type: 'ping', id } satisfies ReaderCommand);
  }

  /** Posts `command` to the thread (started when there is none); returns that thread. */
  #post(command: ReaderCommand): Worker {
    const worker = this.#worker ?? this.#start();
    worker.postMessage(command);
    return worker;
  }

  #start(): Worker {
    const worker = new Worker(READER_FILE, { stdout: false, stderr: false });
    worker.unref();
    this.#worker = worker;
    worker.on('message', (m: ReaderMessage) => {
      if (m.type !== 'pong') this.#runs.get(m.run)?.message(m);
      else if (this.#ping?.id === m.id) {
        clearTimeout(this.#ping.timer);
        this.#ping = null;
      }
    });
    const ended = (why: string): void => {
      if (this.#worker === worker) {
        this.#worker = null;
        if (this.#ping) clearTimeout(this.#ping.timer);
        this.#ping = null;
      }
      // Only this thread's runs: a replacement may already have runs of its own.
      for (const run of [...this.#runs.values()]) {
        if (run.worker !== worker) continue;
        // Its ffmpeg would otherwise live on until its next write into a closed pipe.
        run.killProcess();
        run.finish(run.exitFromThread(why));
      }
    };
    worker.on('error', (err) => ended(`the reader thread failed: ${err.message}`));
    worker.on('exit', () => ended('the reader thread ended'));
    return worker;
  }

  /** @internal */
  forget(id: number): void {
    this.#runs.delete(id);
  }
}

/**
 * One run of a source's decoder: the ffmpeg its reader thread spawns, from a start position until
 * it ends or is stopped; a seek, a restart or a new picture size is a new run with a new ring.
 * Usable as a supervised output's process (live feeds reuse the outputs' restart policy): it
 * `flows` while new frames arrive.
 */
export class DecoderRun implements OutputProcess {
  readonly #thread: SourceThread;
  readonly #id: number;
  readonly #events: DecoderRunEvents;
  readonly #stallMs: number;
  #pid: number | undefined;
  #ring: FrameRing | null = null;
  #running = true;
  #stopped = false;
  #seenFrames = 0;
  #exitMessage: Extract<ReaderMessage, { type: 'exit' }> | null = null;
  /** @internal The reader thread the run was posted to. */
  worker: Worker | null = null;
  #gotFrame = false;
  #done!: (exit: RunExit) => void;
  /** `performance.now()` of the start, or of the last time new frames were seen ({@link poll}). */
  lastProgressAt = performance.now();
  /** ffmpeg's CPU time so far, seconds (user + system). */
  cpuSeconds = 0;
  /** The input's video stream as ffmpeg reported it (natural size, frame rate), or null. */
  source: { width: number; height: number; fps: number } | null = null;
  readonly exited: Promise<{ state: 'exited' | 'failed'; message?: string }>;
  /** Settles with the full exit record once ffmpeg has exited and the thread is done with the run. */
  readonly ended: Promise<RunExit>;

  /** Made by {@link SourceThread.run}. */
  constructor(thread: SourceThread, id: number, events: DecoderRunEvents, stallMs: number) {
    this.#thread = thread;
    this.#id = id;
    this.#events = events;
    this.#stallMs = stallMs;
    this.ended = new Promise<RunExit>((resolve) => (this.#done = resolve));
    this.exited = this.ended.then((e) => ({ state: e.state, ...(e.message === undefined ? {} : { message: e.message }) }));
  }

  /** @internal A message of this run from the thread. */
  message(m: ReaderMessage): void {
    try {
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
          this.finish(this.exitFromThread(null));
          break;
      }
    } catch (err) {
      this.#events.onError?.(err as Error);
    }
  }

  /** @internal How the run ended, from its exit message (or, without one, `threadError`). */
  exitFromThread(threadError: string | null): RunExit {
    const m = this.#exitMessage;
    const frames = m?.frames ?? (this.#ring ? written(this.#ring) : 0);
    if (this.#stopped) return { state: 'exited', code: m?.code ?? null, frames };
    if (m && m.code === 0 && m.error === null) return { state: 'exited', code: 0, frames };
    const reason = m?.error ?? threadError ?? lastLines(m?.stderr ?? '') ?? `ffmpeg exited with ${m?.signal ?? `code ${m?.code}`}`;
    const message = this.#events.scrub ? this.#events.scrub(reason) : reason;
    return { state: 'failed', code: m?.code ?? null, message, frames, ...(!m && threadError ? { threadFailed: true } : {}) };
  }

  /** @internal The run is over: reported once. */
  finish(exit: RunExit): void {
    if (!this.#running) return;
    this.#running = false;
    this.#thread.forget(this.#id);
    try {
      this.#events.onExit?.(this, exit);
    } catch (err) {
      this.#events.onError?.(err as Error);
    }
    this.#done(exit);
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  /** The ring, once the picture size is known. */
  get ring(): FrameRing | null {
    return this.#ring;
  }

  /** True until ffmpeg has exited and the thread is done with the run. */
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
    if (!this.#running || this.#stopped) return;
    this.#stopped = true;
    this.#thread.post({ type: 'stop', run: this.#id });
    // The thread kills it too; this one also works when the thread is stuck.
    this.killProcess();
    setTimeout(() => {
      if (!this.#running) return;
      // Stopped on purpose and its ffmpeg killed from here too: it is over for the source now; its
      // late exit, should it come, finds no run. The thread is checked, not assumed stuck.
      this.#thread.stuck();
      this.finish(this.exitFromThread(null));
    }, STOP_GRACE_MS).unref();
  }

  /** @internal Kills its ffmpeg from this thread (its pid, while it has not exited). */
  killProcess(): void {
    if (this.#pid === undefined) return;
    try {
      process.kill(this.#pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Stops it and waits until it has ended. */
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
