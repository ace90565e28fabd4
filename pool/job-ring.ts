import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  claimAt,
  CONTROL_BYTES,
  DATA_BYTES,
  doneAt,
  encodeBands,
  JOB_SLOTS,
  kindAt,
  MESSAGE_BYTES,
  messageAt,
  ownerAt,
  readResult,
  SEQ,
  slotWords,
  STOP,
  statusAt,
  type JobRingInit,
} from './job-ring-layout.js';
import { encodeRenders, KIND_BANDS, KIND_RENDERS, LayerEncoder, readRenderResult } from './render-ring-codec.js';
import type { CompositeResult, CompositeTask, RenderFailed, RenderResult, RenderTask } from './messages.js';
import type { PoolMetrics } from './pool-metrics.js';
import { BandFailedError, JobTooLargeError, PoolClosedError, WorkerExitError, WorkerTimeoutError, NoWorkerError } from './pool-errors.js';
import type { PoolUtilization } from './pool-utilization.js';
import { RingBuffers } from './ring-buffers.js';

/**
 * Lets the caller of {@link JobRing.runRenders} take the renders of a job that are done before
 * the whole job is: the ring sets `flush` while the job runs; calling it hands `partial` the
 * results known now. `partial` also gets those done before a job failed whole (timeout, exit).
 */
export interface RenderProgress {
  /** Hands `partial` every render done so far; null when the job is not running (any more). */
  flush: (() => void) | null;
  /** Results by task index; undefined: not done (yet). A result may be handed more than once. */
  partial(results: ReadonlyArray<RenderResult | RenderFailed | undefined>): void;
}

/** What a {@link JobRing} needs. */
export interface JobRingOptions {
  /** A job that has not finished after this long fails, ms. */
  timeoutMs: number;
  /** The worker threads now running (to terminate the one stuck in a task). */
  threads: () => readonly Worker[];
  metrics?: PoolMetrics | undefined;
  log?: Logger | undefined;
  /** How long a worker polls for the next job before it waits, µs (default 0: never; see {@link JobRingInit}). */
  spinUs?: number | undefined;
  /** Where each finished task's worker time goes (the pool's utilisation). */
  utilization?: PoolUtilization | undefined;
}

/** Results of one job, or the Error it failed with (thrown by {@link JobRing}'s #settle). */
type Read<R> = (n: number) => R[] | Error;

/**
 * Hands composite bands and layer renders to the render workers through shared memory, the
 * pool's one way to them for this work: per job (the bands of one frame stage, or a frame's
 * renders) one write of the tasks' fields into a free job slot, one `Atomics.notify`, and one
 * `Atomics.waitAsync` for the last task, instead of a message round trip per task (the main
 * thread's CPU per frame is what bounds the fps at many workers; bench:render's `main CPU
 * us/frame`). Layout and protocol: pool/job-ring-layout.ts, and pool/render-ring-codec.ts for
 * renders (a layer goes as JSON, encoded once per layer object).
 *
 * The workers learn each SharedArrayBuffer once ({@link RingBuffers}). A worker takes part from
 * the time it has the list of buffers. A job waits, in order, for a free slot, and before the
 * first worker has joined; a job with more tasks than fit one slot goes as several jobs. The
 * caller bounds how many wait ({@link waiting}).
 *
 * Faults: a job that has not finished after `timeoutMs` (from when it was published) fails with
 * {@link WorkerTimeoutError}; its unclaimed tasks are withdrawn, the threads still in its tasks
 * are terminated (the pool replaces them), and its slot is reused once they have exited. A job
 * one of whose tasks was claimed by a thread that then exited ({@link threadGone}) fails at once
 * with {@link WorkerExitError}; its slot is reused once its other tasks are done. A band that
 * throws fails its job ({@link BandFailedError}); a render that throws fails alone (an `error`
 * result).
 */
export class JobRing {
  readonly init: JobRingInit;
  readonly #o: JobRingOptions;
  readonly #control: Int32Array;
  readonly #words: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #buffers: RingBuffers;
  readonly #free: number[] = [];
  readonly #gen = new Uint16Array(JOB_SLOTS);
  readonly #layers = new LayerEncoder();
  #closed = false;
  #jobs = 0;
  /** Slots with a job in flight. */
  readonly #busy = new Set<number>();
  /** Jobs waiting for a slot, first first: each is handed the slot it gets, or rejected at close. */
  readonly #queue: Array<{ resolve: (j: number) => void; reject: (err: Error) => void }> = [];
  /** When each slot's job times out, performance.now() ms. */
  readonly #deadline = new Float64Array(JOB_SLOTS);
  /**
   * Wakes jobs past their deadline; ref'd only while jobs are in flight, since nothing else may
   * hold the event loop open then (idle pool threads are unref'd, and a pending
   * Atomics.waitAsync does not count). One timer for all jobs: a timer or a waitAsync timeout
   * per job left garbage that V8 promoted, and the live bench's RSS crept up.
   */
  readonly #watchdog: NodeJS.Timeout;
  /** Called when the last job in flight settles (close waits for it). */
  #onIdle: (() => void) | null = null;
  /** Threads that have exited (a few per fault; never reused ids). */
  readonly #gone = new Set<number>();

  constructor(options: JobRingOptions) {
    this.#o = options;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const data = new SharedArrayBuffer(DATA_BYTES);
    this.init = { control, data, channel: `stream-manager-jobs:${randomUUID()}`, spinUs: options.spinUs ?? 0 };
    this.#control = new Int32Array(control);
    this.#words = slotWords(data);
    this.#bytes = new Uint8Array(data);
    for (let j = JOB_SLOTS - 1; j >= 0; j--) this.#free.push(j);
    this.#buffers = new RingBuffers(this.init.channel, () => this.#handOut());
    this.#watchdog = setInterval(
      () => {
        const now = performance.now();
        for (const j of this.#busy) if (now >= this.#deadline[j]!) Atomics.notify(this.#control, doneAt(j));
      },
      Math.max(5, Math.min(250, this.#o.timeoutMs / 4)),
    );
    this.#watchdog.unref();
  }

  /** Jobs published so far (a call whose tasks did not fit one slot counts once per slot it took). */
  get jobs(): number {
    return this.#jobs;
  }

  /** Jobs waiting for a free slot (or for the first worker to join). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Buffers announced to the workers and not yet collected here (each is forgotten there when it is). */
  get buffers(): number {
    return this.#buffers.size;
  }

  /** Workers that have asked to join so far (replacements count again). */
  get hellos(): number {
    return this.#buffers.hellos;
  }

  /**
   * Runs `tasks` (the bands of one stage; disjoint, so in any order and in parallel) on the
   * workers, waiting for a free slot if need be.
   * @returns each band's times in `tasks`' order
   * @throws WorkerTimeoutError (as a rejection) when a job ran past the timeout
   * @throws WorkerExitError (as a rejection) when a thread exited in one of its bands
   * @throws BandFailedError (as a rejection) when a band threw in its worker
   * @throws PoolClosedError (as a rejection) after {@link close}
   */
  run(tasks: readonly CompositeTask[]): Promise<CompositeResult[]> {
    return this.#submit(
      tasks,
      KIND_BANDS,
      'composite',
      (j, from) => encodeBands(this.#words, j, tasks, from, this.#buffers.idOf),
      (j) => (n) => {
        const results: CompositeResult[] = [];
        let failed: string | null = null;
        for (let i = 0; i < n; i++) {
          if (Atomics.load(this.#control, statusAt(j, i)) === 2) failed ??= this.#message(j);
          results.push(readResult(this.#words, j, i));
        }
        return failed === null ? results : new BandFailedError(failed);
      },
    );
  }

  /**
   * Draws `tasks` (layer renders of one frame, into distinct buffers) on the workers, waiting for
   * a free slot if need be. Each layer travels as JSON, encoded once per layer object.
   * @param progress takes the renders done before the whole job is
   * @returns each render's result in `tasks`' order (one that threw: `status: 'error'`)
   * @throws WorkerTimeoutError (as a rejection) when a job ran past the timeout
   * @throws WorkerExitError (as a rejection) when a thread exited in one of its renders
   * @throws PoolClosedError (as a rejection) after {@link close}
   */
  runRenders(tasks: readonly RenderTask[], progress?: RenderProgress): Promise<Array<RenderResult | RenderFailed>> {
    return this.#submit(
      tasks,
      KIND_RENDERS,
      'render',
      (j, from) => encodeRenders(this.#words, this.#bytes, j, tasks, from, this.#buffers.idOf, this.#layers.encode),
      (j) => (n) => Array.from({ length: n }, (_, i) => readRenderResult(this.#words, this.#bytes, j, i)),
      progress,
    );
  }

  /**
   * Runs `tasks` as one job when a slot is free and they fit it (the usual case: nothing is
   * awaited before the job is published), else as {@link #chunks}.
   * @param encode writes tasks from `from` on into slot `j`; how many it wrote
   * @param read slot `j`'s results, taken before the slot is freed
   */
  #submit<R extends { runMs: number }>(
    tasks: readonly unknown[],
    kind: number,
    task: string,
    encode: (j: number, from: number) => number,
    read: (j: number) => Read<R>,
    progress?: RenderProgress,
  ): Promise<R[]> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    if (tasks.length === 0) return Promise.resolve([]);
    const j = this.#queue.length === 0 && this.#buffers.hellos > 0 ? this.#free.pop() : undefined;
    if (j === undefined) return this.#chunks(tasks, kind, task, encode, read, progress, undefined);
    const n = encode(j, 0);
    if (n === tasks.length) return this.#publish(j, kind, n, task, read(j), progress);
    return this.#chunks(tasks, kind, task, encode, read, progress, j);
  }

  /**
   * Runs `tasks` as as many jobs as they need, each in the next free slot (`first`: one taken
   * already). Renders done go to `progress` by their index in `tasks`. When a job fails, the
   * others are still waited for (their results go to `progress` too), then its error is thrown.
   */
  async #chunks<R extends { runMs: number }>(
    tasks: readonly unknown[],
    kind: number,
    task: string,
    encode: (j: number, from: number) => number,
    read: (j: number) => Read<R>,
    progress: RenderProgress | undefined,
    first: number | undefined,
  ): Promise<R[]> {
    const jobs: Array<{ from: number; sub: RenderProgress | undefined; done: Promise<R[]> }> = [];
    if (progress) progress.flush = () => jobs.forEach((job) => job.sub?.flush?.());
    let error: unknown = null;
    let from = 0;
    let j = first;
    while (from < tasks.length) {
      try {
        j ??= await this.#slot();
      } catch (err) {
        error = err;
        break;
      }
      const n = encode(j, from);
      if (n === 0) {
        this.#giveBack(j);
        error = new JobTooLargeError(task === 'render' ? 'layer render' : undefined);
        break;
      }
      const at = from;
      const sub: RenderProgress | undefined = progress && {
        flush: null,
        partial: (results) => {
          const all = new Array<RenderResult | RenderFailed | undefined>(tasks.length);
          results.forEach((r, i) => (all[at + i] = r));
          progress.partial(all);
        },
      };
      jobs.push({ from, sub, done: this.#publish(j, kind, n, task, read(j), sub) });
      from += n;
      j = undefined;
    }
    const settled = await Promise.allSettled(jobs.map((job) => job.done));
    if (progress) progress.flush = null;
    const results = new Array<R>(tasks.length);
    settled.forEach((s, k) => {
      if (s.status === 'rejected') error ??= s.reason;
      else s.value.forEach((r, i) => (results[jobs[k]!.from + i] = r));
    });
    if (error === null) return results;
    progress?.partial(results as unknown as Array<RenderResult | RenderFailed | undefined>);
    throw error;
  }

  /** The next free slot, once every job queued before has one and a worker has joined. @throws PoolClosedError (as a rejection) at {@link close} */
  #slot(): Promise<number> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#queue.push(waiter);
      this.#handOut();
      // Before any worker has joined, a slot may never come (a worker that cannot start): the
      // wait is bounded by the job timeout then, as a job in a slot is.
      if (this.#buffers.hellos === 0) {
        setTimeout(() => {
          const at = this.#queue.indexOf(waiter);
          if (at < 0 || this.#buffers.hellos > 0) return;
          this.#queue.splice(at, 1);
          reject(new NoWorkerError(this.#o.timeoutMs));
        }, this.#o.timeoutMs);
      }
    });
  }

  /** Hands free slots to the jobs waiting for one, once a worker has joined (called on each hello too). */
  #handOut(): void {
    if (this.#buffers.hellos === 0) return;
    while (this.#queue.length > 0 && this.#free.length > 0) this.#queue.shift()!.resolve(this.#free.pop()!);
  }

  /** Slot `j`, which holds no job, is free again. */
  #giveBack(j: number): void {
    this.#free.push(j);
    this.#handOut();
  }

  /** The results of slot `j`'s renders that are done (undefined: not done). */
  #rendersDone(j: number, n: number): Array<RenderResult | RenderFailed | undefined> {
    return Array.from({ length: n }, (_, i) =>
      Atomics.load(this.#control, statusAt(j, i)) === 1 ? readRenderResult(this.#words, this.#bytes, j, i) : undefined,
    );
  }

  /**
   * Publishes the job of `n` tasks of `kind` written into slot `j` and waits for it; `read`
   * takes its results out of the slot before it is freed (an Error it returns is thrown).
   */
  #publish<R extends { runMs: number }>(
    j: number,
    kind: number,
    n: number,
    task: string,
    read: Read<R>,
    progress?: RenderProgress,
  ): Promise<R[]> {
    this.#buffers.announce();
    const c = this.#control;
    for (let i = 0; i < n; i++) {
      Atomics.store(c, statusAt(j, i), 0);
      Atomics.store(c, ownerAt(j, i), 0);
    }
    Atomics.store(c, doneAt(j), 0);
    Atomics.store(c, kindAt(j), kind);
    this.#gen[j] = (this.#gen[j]! + 1) & 0x7fff;
    Atomics.store(c, claimAt(j), (this.#gen[j]! << 16) | (n << 8));
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    this.#jobs++;
    if (this.#busy.size === 0) this.#watchdog.ref();
    this.#busy.add(j);
    if (progress && kind === KIND_RENDERS) progress.flush = () => progress.partial(this.#rendersDone(j, n));
    const started = performance.now();
    this.#deadline[j] = started + this.#o.timeoutMs;
    return this.#settle(j, n, started, task, read, progress);
  }

  /** Slot `j`'s job has settled: the slot is free again. */
  #release(j: number): void {
    this.#busy.delete(j);
    this.#giveBack(j);
    if (this.#busy.size > 0) return;
    this.#watchdog.unref();
    this.#onIdle?.();
  }

  async #settle<R extends { runMs: number }>(
    j: number,
    n: number,
    started: number,
    task: string,
    read: Read<R>,
    progress?: RenderProgress,
  ): Promise<R[]> {
    const c = this.#control;
    const deadline = this.#deadline[j]!;
    const m = this.#o.metrics;
    const what = task === 'render' ? 'layer render' : undefined;
    /** Before a failed job's slot is given up: the renders done so far still count. */
    const salvage = (): void => {
      if (!progress) return;
      progress.flush = null;
      progress.partial(this.#rendersDone(j, n));
    };
    for (;;) {
      const done = Atomics.load(c, doneAt(j));
      if (done >= n) break;
      if (this.#gone.size > 0 && this.#pending(j).some((owner) => this.#gone.has(owner))) {
        salvage();
        await this.#abandon(j, deadline);
        m?.poolTasks.inc({ task, result: 'failed' }, n);
        throw new WorkerExitError(what);
      }
      if (performance.now() >= deadline) {
        salvage();
        await this.#abandon(j, 0);
        m?.poolTasks.inc({ task, result: 'timeout' }, n);
        throw new WorkerTimeoutError(this.#o.timeoutMs, what);
      }
      // Woken by the last task, by the watchdog at the deadline, or by threadGone.
      const wait = Atomics.waitAsync(c, doneAt(j), done);
      if (wait.async) await wait.value;
    }
    const total = performance.now() - started;
    if (progress) progress.flush = null;
    const results = read(n);
    this.#release(j);
    if (results instanceof Error) {
      m?.poolTasks.inc({ task, result: 'failed' }, n);
      throw results;
    }
    const busy = this.#o.utilization;
    if (busy) for (const { runMs } of results) busy.add(runMs);
    if (m) {
      for (const { runMs } of results) {
        m.poolTaskRun.observe({ task }, runMs / 1000);
        m.poolTaskWait.observe({ task }, Math.max(0, total - runMs) / 1000);
      }
      m.poolTasks.inc({ task, result: 'completed' }, n);
    }
    return results;
  }

  #message(j: number): string {
    const raw = this.#bytes.slice(messageAt(j), messageAt(j) + MESSAGE_BYTES);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  }

  /** The threads in slot `j`'s claimed tasks that have not finished. */
  #pending(j: number): number[] {
    const c = this.#control;
    const claimed = Atomics.load(c, claimAt(j)) & 0xff;
    const owners: number[] = [];
    for (let i = 0; i < claimed; i++) if (Atomics.load(c, statusAt(j, i)) === 0) owners.push(Atomics.load(c, ownerAt(j, i)));
    return owners;
  }

  /**
   * Withdraws slot `j`'s unclaimed tasks, waits until `until` (performance.now() ms) for the
   * live threads in its claimed tasks, terminates those still in them, and frees the slot once
   * they have exited (a task finishing later would write into a reused slot).
   */
  async #abandon(j: number, until: number): Promise<void> {
    const c = this.#control;
    const at = claimAt(j);
    for (;;) {
      const w = Atomics.load(c, at);
      const claimed = w & 0xff;
      if (Atomics.compareExchange(c, at, w, (w & ~0xffff) | (claimed << 8) | claimed) === w) break;
    }
    let live = this.#pending(j).filter((owner) => !this.#gone.has(owner));
    while (live.length > 0 && performance.now() < until) {
      const wait = Atomics.waitAsync(c, doneAt(j), Atomics.load(c, doneAt(j)), until - performance.now());
      if (wait.async) await wait.value;
      live = this.#pending(j).filter((owner) => !this.#gone.has(owner));
    }
    const exits: Array<Promise<unknown>> = [];
    for (const worker of this.#o.threads()) {
      if (!live.includes(worker.threadId)) continue;
      exits.push(new Promise((resolve) => worker.once('exit', resolve)));
      void worker.terminate();
    }
    this.#o.log?.warn({ slot: j, terminated: exits.length, timeoutMs: this.#o.timeoutMs }, 'ring job abandoned');
    await Promise.all(exits);
    this.#release(j);
  }

  /**
   * Tells the ring that thread `threadId` has exited (the pool's `workerDestroy`): a job waiting
   * for a task that thread had claimed fails now, not at its timeout.
   */
  threadGone(threadId: number): void {
    this.#gone.add(threadId);
    for (const j of this.#busy) Atomics.notify(this.#control, doneAt(j));
  }

  /**
   * Refuses new jobs and those still waiting for a slot ({@link PoolClosedError}), waits for
   * the jobs in flight (each ends by its timeout at the latest), then stops the workers' waits.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) waiter.reject(new PoolClosedError());
    if (this.#busy.size > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    clearInterval(this.#watchdog);
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, SEQ, 1);
    Atomics.notify(this.#control, SEQ);
    this.#buffers.close();
  }
}
