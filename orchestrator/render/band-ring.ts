import { randomUUID } from 'node:crypto';
import { BroadcastChannel, type Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { claimAt, CONTROL_BYTES, DATA_BYTES, doneAt, encodeBands, JOB_SLOTS, MESSAGE_BYTES, messageAt, ownerAt, readResult, SEQ, slotWords, STOP, statusAt, type BandRingInit, type RingMessage } from '../../shared/band-ring-layout.js';
import type { CompositeResult, CompositeTask } from '../../shared/messages.js';
import type { Metrics } from '../metrics/metrics.js';
import { BandFailedError, BandTimeoutError, BandWorkerExitError } from './band-ring-errors.js';

/** What a {@link BandRing} needs. */
export interface BandRingOptions {
  /** A job that has not finished after this long fails, ms. */
  timeoutMs: number;
  /** The worker threads now running (to terminate the one stuck in a band). */
  threads: () => readonly Worker[];
  metrics?: Metrics | undefined;
  log?: Logger | undefined;
}

/**
 * Hands composite bands to the render workers through shared memory: per job (the bands of one
 * frame stage) one write of the bands' fields into a free job slot, one `Atomics.notify`, and one
 * `Atomics.waitAsync` for the last band, instead of a message round trip per band (~40 µs of
 * this thread's CPU per Piscina task, measured by bench:render's `main CPU us/frame`; this is
 * ~5). Layout and protocol: shared/band-ring-layout.ts.
 *
 * The workers learn each SharedArrayBuffer once, on a BroadcastChannel, and forget it when this
 * thread's copy is collected. A worker takes part from the time it has the list of buffers, so
 * the ring takes jobs only once one worker has joined; until then, and when every slot is busy or
 * a job is too big, {@link run} returns null and the caller sends the bands as pool tasks.
 *
 * Faults: a job that has not finished after `timeoutMs` fails with {@link BandTimeoutError};
 * its unclaimed bands are withdrawn, the threads still in its bands are terminated (the pool
 * replaces them), and its slot is reused once they have exited. A job one of whose bands was
 * claimed by a thread that then exited ({@link threadGone}) fails at once with
 * {@link BandWorkerExitError}; its slot is reused once its other bands are done.
 */
export class BandRing {
  readonly init: BandRingInit;
  readonly #o: BandRingOptions;
  readonly #control: Int32Array;
  readonly #words: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #channel: BroadcastChannel;
  readonly #free: number[] = [];
  readonly #gen = new Uint16Array(JOB_SLOTS);
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  readonly #live = new Map<number, WeakRef<SharedArrayBuffer>>();
  readonly #collected = new FinalizationRegistry<number>((id) => {
    this.#live.delete(id);
    if (!this.#closed) this.#channel.postMessage({ forget: [id] } satisfies RingMessage);
  });
  #nextId = 1;
  #added: Array<[number, SharedArrayBuffer]> = [];
  #closed = false;
  #jobs = 0;
  #hellos = 0;
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
    this.init = { control, data, channel: `stream-manager-bands:${randomUUID()}` };
    this.#control = new Int32Array(control);
    this.#words = slotWords(data);
    this.#bytes = new Uint8Array(data);
    for (let j = JOB_SLOTS - 1; j >= 0; j--) this.#free.push(j);
    this.#channel = new BroadcastChannel(this.init.channel);
    this.#channel.onmessage = (event: unknown) => {
      if ((event as { data: RingMessage }).data.hello === undefined || this.#closed) return;
      const buffers: Array<[number, SharedArrayBuffer]> = [];
      for (const [id, ref] of this.#live) {
        const buffer = ref.deref();
        if (buffer) buffers.push([id, buffer]);
      }
      this.#channel.postMessage({ buffers } satisfies RingMessage);
      this.#hellos++;
    };
    this.#channel.unref();
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
    return this.#live.size;
  }

  /** Workers that have asked to join so far (replacements count again). */
  get hellos(): number {
    return this.#hellos;
  }

  #idOf = (buffer: SharedArrayBuffer): number => {
    let id = this.#ids.get(buffer);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(buffer, id);
      this.#live.set(id, new WeakRef(buffer));
      this.#collected.register(buffer, id);
      this.#added.push([id, buffer]);
    }
    return id;
  };

  /**
   * Runs `tasks` (the bands of one stage; disjoint, so in any order and in parallel) on the
   * workers.
   * @returns each band's times in `tasks`' order, or null when the ring cannot take the job now
   *   (no worker joined yet, every slot busy, or too many bands or rectangles for a slot)
   * @throws BandTimeoutError (as a rejection) when the job ran past the timeout
   * @throws BandFailedError (as a rejection) when a band threw in its worker
   */
  run(tasks: readonly CompositeTask[]): Promise<CompositeResult[]> | null {
    if (this.#hellos === 0 || this.#closed || tasks.length === 0) return null;
    const j = this.#free.pop();
    if (j === undefined) return null;
    if (!encodeBands(this.#words, j, tasks, this.#idOf)) {
      this.#free.push(j);
      this.#announce();
      return null;
    }
    this.#announce();
    const n = tasks.length;
    const c = this.#control;
    for (let i = 0; i < n; i++) {
      Atomics.store(c, statusAt(j, i), 0);
      Atomics.store(c, ownerAt(j, i), 0);
    }
    Atomics.store(c, doneAt(j), 0);
    this.#gen[j] = (this.#gen[j]! + 1) & 0x7fff;
    Atomics.store(c, claimAt(j), (this.#gen[j]! << 16) | (n << 8));
    Atomics.add(c, SEQ, 1);
    Atomics.notify(c, SEQ);
    this.#jobs++;
    if (this.#busy.size === 0) this.#watchdog.ref();
    this.#busy.add(j);
    const started = performance.now();
    this.#deadline[j] = started + this.#o.timeoutMs;
    return this.#settle(j, n, started);
  }

  /** Slot `j` is free again. */
  #release(j: number): void {
    this.#free.push(j);
    this.#busy.delete(j);
    if (this.#busy.size > 0) return;
    this.#watchdog.unref();
    this.#onIdle?.();
  }

  /** Posts the buffers named for the first time since the last post (before the job that uses them). */
  #announce(): void {
    if (this.#added.length === 0) return;
    this.#channel.postMessage({ add: this.#added } satisfies RingMessage);
    this.#added = [];
  }

  async #settle(j: number, n: number, started: number): Promise<CompositeResult[]> {
    const c = this.#control;
    const deadline = this.#deadline[j]!;
    for (;;) {
      const done = Atomics.load(c, doneAt(j));
      if (done >= n) break;
      if (this.#gone.size > 0 && this.#pending(j).some((owner) => this.#gone.has(owner))) {
        await this.#abandon(j, deadline);
        this.#o.metrics?.poolTasks.inc({ task: 'composite', result: 'failed' }, n);
        throw new BandWorkerExitError();
      }
      if (performance.now() >= deadline) {
        await this.#abandon(j, 0);
        this.#o.metrics?.poolTasks.inc({ task: 'composite', result: 'timeout' }, n);
        throw new BandTimeoutError(this.#o.timeoutMs);
      }
      // Woken by the last band, by the watchdog at the deadline, or by threadGone.
      const wait = Atomics.waitAsync(c, doneAt(j), done);
      if (wait.async) await wait.value;
    }
    const total = performance.now() - started;
    const results: CompositeResult[] = [];
    let failed: string | null = null;
    for (let i = 0; i < n; i++) {
      if (Atomics.load(c, statusAt(j, i)) === 2) failed ??= this.#message(j);
      results.push(readResult(this.#words, j, i));
    }
    this.#release(j);
    const m = this.#o.metrics;
    if (failed !== null) {
      m?.poolTasks.inc({ task: 'composite', result: 'failed' }, n);
      throw new BandFailedError(failed);
    }
    if (m) {
      for (const r of results) {
        m.poolTaskRun.observe({ task: 'composite' }, r.runMs / 1000);
        m.poolTaskWait.observe({ task: 'composite' }, Math.max(0, total - r.runMs) / 1000);
      }
      m.poolTasks.inc({ task: 'composite', result: 'completed' }, n);
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
    this.#channel.close();
  }
}
