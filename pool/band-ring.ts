import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { claimAt, CONTROL_BYTES, DATA_BYTES, doneAt, encodeBands, JOB_SLOTS, kindAt, MESSAGE_BYTES, messageAt, ownerAt, readResult, SEQ, slotWords, STOP, statusAt, type BandRingInit } from './band-ring-layout.js';
import { encodeRenders, KIND_BANDS, KIND_RENDERS, LayerEncoder, readRenderResult } from './render-ring-codec.js';
import type { CompositeResult, CompositeTask, RenderFailed, RenderResult, RenderTask } from './messages.js';
import type { Metrics } from '../orchestrator/metrics/metrics.js';
import { BandFailedError, BandTimeoutError, BandWorkerExitError } from './band-ring-errors.js';
import type { PoolUtilization } from './pool-utilization.js';
import { RingBuffers } from './ring-buffers.js';

/**
 * Lets the caller of {@link BandRing.runRenders} take the renders of a job that are done before
 * the whole job is: the ring sets `flush` while the job runs; calling it hands `partial` the
 * results known now. `partial` also gets those done before a job failed whole (timeout, exit).
 */
export interface RenderProgress {
  /** Hands `partial` every render done so far; null when the job is not running (any more). */
  flush: (() => void) | null;
  /** Results by task index; undefined: not done (yet). A result may be handed more than once. */
  partial(results: ReadonlyArray<RenderResult | RenderFailed | undefined>): void;
}

/** What a {@link BandRing} needs. */
export interface BandRingOptions {
  /** A job that has not finished after this long fails, ms. */
  timeoutMs: number;
  /** The worker threads now running (to terminate the one stuck in a band). */
  threads: () => readonly Worker[];
  metrics?: Metrics | undefined;
  log?: Logger | undefined;
  /** How long a worker polls for the next job before it waits, µs (default 0: never; see {@link BandRingInit}). */
  spinUs?: number | undefined;
  /** Where each finished task's worker time goes (the pool's utilisation). */
  utilization?: PoolUtilization | undefined;
}

/**
 * Hands composite bands and layer renders to the render workers through shared memory: per job
 * (the bands of one frame stage, or a frame's renders) one write of the tasks' fields into a free
 * job slot, one `Atomics.notify`, and one `Atomics.waitAsync` for the last task, instead of a
 * message round trip per task (~40 µs of this thread's CPU per Piscina task, measured by
 * bench:render's `main CPU us/frame`; this is ~5). Layout and protocol:
 * pool/band-ring-layout.ts, and pool/render-ring-codec.ts for renders (a layer goes as JSON,
 * encoded once per layer object).
 *
 * The workers learn each SharedArrayBuffer once ({@link RingBuffers}). A worker takes part from
 * the time it has the list of buffers, so the ring takes jobs only once one worker has joined;
 * until then, and when every slot is busy or a job is too big, {@link run} and
 * {@link runRenders} return null and the caller sends the tasks to the pool.
 *
 * Faults: a job that has not finished after `timeoutMs` fails with {@link BandTimeoutError};
 * its unclaimed tasks are withdrawn, the threads still in its tasks are terminated (the pool
 * replaces them), and its slot is reused once they have exited. A job one of whose tasks was
 * claimed by a thread that then exited ({@link threadGone}) fails at once with
 * {@link BandWorkerExitError}; its slot is reused once its other tasks are done. A band that
 * throws fails its job; a render that throws fails alone (an `error` result).
 */
export class BandRing {
  readonly init: BandRingInit;
  readonly #o: BandRingOptions;
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

  constructor(options: BandRingOptions) {
    this.#o = options;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const data = new SharedArrayBuffer(DATA_BYTES);
    this.init = { control, data, channel: `stream-manager-bands:${randomUUID()}`, spinUs: options.spinUs ?? 0 };
    this.#control = new Int32Array(control);
    this.#words = slotWords(data);
    this.#bytes = new Uint8Array(data);
    for (let j = JOB_SLOTS - 1; j >= 0; j--) this.#free.push(j);
    this.#buffers = new RingBuffers(this.init.channel);
    this.#watchdog = setInterval(() => {
      const now = performance.now();
      for (const j of this.#busy) if (now >= this.#deadline[j]!) Atomics.notify(this.#control, doneAt(j));
    }, Math.max(5, Math.min(250, this.#o.timeoutMs / 4)));
    this.#watchdog.unref();
  }

  /** Jobs taken so far (not those {@link run} returned null for). */
  get jobs(): number {
    return this.#jobs;
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
   * workers.
   * @returns each band's times in `tasks`' order, or null when the ring cannot take the job now
   *   (no worker joined yet, every slot busy, or too many bands or rectangles for a slot)
   * @throws BandTimeoutError (as a rejection) when the job ran past the timeout
   * @throws BandFailedError (as a rejection) when a band threw in its worker
   */
  run(tasks: readonly CompositeTask[]): Promise<CompositeResult[]> | null {
    const j = this.#take(tasks.length);
    if (j === undefined) return null;
    if (!encodeBands(this.#words, j, tasks, this.#buffers.idOf)) return this.#refuse(j);
    return this.#publish<CompositeResult[]>(j, KIND_BANDS, tasks.length, 'composite', (n) => {
      const results: CompositeResult[] = [];
      let failed: string | null = null;
      for (let i = 0; i < n; i++) {
        if (Atomics.load(this.#control, statusAt(j, i)) === 2) failed ??= this.#message(j);
        results.push(readResult(this.#words, j, i));
      }
      return failed === null ? results : new BandFailedError(failed);
    });
  }

  /**
   * Draws `tasks` (layer renders of one frame, into distinct buffers) on the workers. Each
   * layer travels as JSON, encoded once per layer object.
   * @returns each render's result in `tasks`' order (one that threw: `status: 'error'`), or null
   *   when the ring cannot take the job now (as for {@link run}, or layers too big for a slot)
   * @throws BandTimeoutError (as a rejection) when the job ran past the timeout
   * @throws BandWorkerExitError (as a rejection) when a thread exited in one of its renders
   */
  runRenders(tasks: readonly RenderTask[], progress?: RenderProgress): Promise<Array<RenderResult | RenderFailed>> | null {
    const j = this.#take(tasks.length);
    if (j === undefined) return null;
    if (!encodeRenders(this.#words, this.#bytes, j, tasks, this.#buffers.idOf, this.#layers.encode)) return this.#refuse(j);
    if (progress) progress.flush = () => progress.partial(this.#rendersDone(j, tasks.length));
    return this.#publish(j, KIND_RENDERS, tasks.length, 'render', (n) => Array.from({ length: n }, (_, i) => readRenderResult(this.#words, this.#bytes, j, i)), progress);
  }

  /** The results of slot `j`'s renders that are done (undefined: not done). */
  #rendersDone(j: number, n: number): Array<RenderResult | RenderFailed | undefined> {
    return Array.from({ length: n }, (_, i) => (Atomics.load(this.#control, statusAt(j, i)) === 1 ? readRenderResult(this.#words, this.#bytes, j, i) : undefined));
  }

  /** A free slot for a job of `n` tasks, or undefined when the ring cannot take one now. */
  #take(n: number): number | undefined {
    if (this.#buffers.hellos === 0 || this.#closed || n === 0) return undefined;
    return this.#free.pop();
  }

  /** Gives back slot `j`, whose job did not fit. */
  #refuse(j: number): null {
    this.#free.push(j);
    this.#buffers.announce();
    return null;
  }

  /**
   * Publishes the job of `n` tasks of `kind` written into slot `j` and waits for it; `read`
   * takes its results out of the slot before it is freed (an Error it returns is thrown).
   */
  #publish<R extends ReadonlyArray<{ runMs: number }>>(j: number, kind: number, n: number, task: string, read: (n: number) => R | Error, progress?: RenderProgress): Promise<R> {
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
    const started = performance.now();
    this.#deadline[j] = started + this.#o.timeoutMs;
    return this.#settle(j, n, started, task, read, progress);
  }

  /** Slot `j` is free again. */
  #release(j: number): void {
    this.#free.push(j);
    this.#busy.delete(j);
    if (this.#busy.size > 0) return;
    this.#watchdog.unref();
    this.#onIdle?.();
  }

  async #settle<R extends ReadonlyArray<{ runMs: number }>>(j: number, n: number, started: number, task: string, read: (n: number) => R | Error, progress?: RenderProgress): Promise<R> {
    const c = this.#control;
    const deadline = this.#deadline[j]!;
    const m = this.#o.metrics;
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
        throw new BandWorkerExitError(task === 'render' ? 'layer render' : undefined);
      }
      if (performance.now() >= deadline) {
        salvage();
        await this.#abandon(j, 0);
        m?.poolTasks.inc({ task, result: 'timeout' }, n);
        throw new BandTimeoutError(this.#o.timeoutMs, task === 'render' ? 'layer render' : undefined);
      }
      // Woken by the last band, by the watchdog at the deadline, or by threadGone.
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

  /** The threads in slot `j`'s claimed bands that have not finished. */
  #pending(j: number): number[] {
    const c = this.#control;
    const claimed = Atomics.load(c, claimAt(j)) & 0xff;
    const owners: number[] = [];
    for (let i = 0; i < claimed; i++) if (Atomics.load(c, statusAt(j, i)) === 0) owners.push(Atomics.load(c, ownerAt(j, i)));
    return owners;
  }

  /**
   * Withdraws slot `j`'s unclaimed bands, waits until `until` (performance.now() ms) for the
   * live threads in its claimed bands, terminates those still in them, and frees the slot once
   * they have exited (a band finishing later would write into a reused slot).
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
    this.#o.log?.warn({ slot: j, terminated: exits.length, timeoutMs: this.#o.timeoutMs }, 'composite bands abandoned');
    await Promise.all(exits);
    this.#release(j);
  }

  /**
   * Tells the ring that thread `threadId` has exited (the pool's `workerDestroy`): a job waiting
   * for a band that thread had claimed fails now, not at its timeout.
   */
  threadGone(threadId: number): void {
    this.#gone.add(threadId);
    for (const j of this.#busy) Atomics.notify(this.#control, doneAt(j));
  }

  /** Waits for the jobs in flight (each ends by its timeout at the latest), then stops the workers' waits. */
  async close(): Promise<void> {
    if (this.#busy.size > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    clearInterval(this.#watchdog);
    this.#closed = true;
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, SEQ, 1);
    Atomics.notify(this.#control, SEQ);
    this.#buffers.close();
  }
}
