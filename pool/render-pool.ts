import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { evictionChannelName, type CompositeResult, type CompositeTask, type EncodeImageResult, type EncodeImageTask, type RenderBatchResult, type RenderBatchTask, type RenderResult, type RenderTask, type WorkerInit } from './messages.js';
import type { Metrics } from '../orchestrator/metrics/metrics.js';
import { BandRing, type RenderProgress } from './band-ring.js';
import { BandTimeoutError } from './band-ring-errors.js';
import { PoolUtilization } from './pool-utilization.js';
import { planBatches, UNKNOWN_COST_MS } from './render-batches.js';

/** What the pool needs to start its workers. */
export interface RenderPoolOptions {
  /** Worker threads (default: the machine's cores). */
  threads: number;
  /** Folder that holds `assets/`. */
  assetRoot: string;
  /** Folder of uploaded assets (default: `<assetRoot>/data/assets`). */
  assetStorage?: string;
  /** Bytes of decoded images per worker (default 256 MiB). */
  imageCacheBytes?: number;
  /** Tasks that may wait for a worker; beyond, `run` rejects at once (default 128). */
  maxQueue?: number;
  /** A task running longer is aborted and its worker replaced, ms (default 2000). */
  taskTimeoutMs?: number;
  /** V8 old-generation heap limit per worker, MiB; a worker over it dies and is replaced (default 1024). */
  maxHeapMb?: number;
  /**
   * How long a worker that ran out of band ring tasks polls for the next job before it sleeps,
   * µs (default: {@link RING_SPIN_US} when the machine has a core for this thread and each
   * worker, else 0, since a polling worker would take a core from one that has work).
   */
  ringSpinUs?: number;
}

/**
 * A worker's poll for the next band ring job, µs, when cores are spare. Waking a worker that
 * sleeps in `Atomics.waitAsync` took ~40 of the ~50 µs a one-band job's round trip took on the
 * 2-core reference machine (1 worker, 20000 jobs: ~53 -> ~11 µs with the poll); S2 1080p on 1
 * worker, whose frames are short enough that the wake-ups were on their critical path, went from
 * 2725 / 2756 to 2922 / 3074 fps (medians, alternated twice). 200 µs covers the main thread's turn between a frame's two
 * stages; at 30 fps a worker polls at most ~2 x 200 µs a frame (~1 % of a core).
 */
export const RING_SPIN_US = 200;

/** A task refused at once because `maxQueue` tasks already wait for a worker. */
export class QueueFullError extends Error {
  readonly code = 'SM_ERR_RENDER_QUEUE_FULL';
  constructor(limit: number) {
    super(`Render queue is at its limit (${limit} waiting)`);
    this.name = 'QueueFullError';
  }
}

/** True when `err` is a task refused because the pool's queue is full (the frame should be dropped). */
export function isQueueFull(err: unknown): boolean {
  // Piscina's own rejection as a backstop: it does not bound tasks that carry an AbortSignal.
  return err instanceof QueueFullError || (err instanceof Error && err.message === 'Task queue is at limit');
}

/** True when `err` is a task that ran past its timeout (its worker was terminated). */
export function isTimeout(err: unknown): boolean {
  return err instanceof BandTimeoutError || (err instanceof Error && err.name === 'AbortError');
}

/** The compiled worker module, next to this file's compiled folder. */
const WORKER_FILE = new URL('../workers/render-worker.js', import.meta.url).href;

/**
 * The Piscina pool of render workers. Fixed size (min = max threads) so no thread starts on the
 * hot path; idle threads are kept. Each task's wait (queue + transit) and run time go to the
 * metrics: the worker reports its run time, the rest of the round trip is waiting.
 *
 * Faults: a worker that exits, throws outside a task or passes its heap limit
 * (`resourceLimits`) fails its task and Piscina starts a replacement (counted in
 * `pool_worker_restarts_total`); a task that runs past `taskTimeoutMs` is aborted
 * (an AbortSignal), which terminates its worker; at most `maxQueue` tasks wait.
 */
export class RenderPool {
  readonly piscina: Piscina;
  /** Where composite bands go without a message each (see {@link compositeBands}). */
  readonly ring: BandRing;
  readonly #metrics: Metrics | undefined;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  /** Tasks submitted and not yet settled (running + waiting). */
  #pending = 0;
  /** The workers' time on tasks, from Piscina tasks and band ring jobs alike. */
  readonly #busy = new PoolUtilization();
  /**
   * Until every thread has started (loaded the worker module, its native canvas and image
   * libraries: ~1 s on a loaded 2-core machine, more on a cold disk), the start-up warm-up;
   * null after. A task submitted meanwhile starts its timeout only then: the timeout is for a
   * render, not for a thread's start (worker-memory.test.ts timed out under CPU load so).
   */
  #starting: Promise<void> | null;

  constructor(options: RenderPoolOptions, metrics?: Metrics, log?: Logger) {
    const threads = options.threads;
    this.#metrics = metrics;
    this.#timeoutMs = options.taskTimeoutMs ?? 2000;
    this.#maxQueue = options.maxQueue ?? 128;
    const spinUs = options.ringSpinUs ?? (availableParallelism() > threads ? RING_SPIN_US : 0);
    this.ring = new BandRing({ timeoutMs: this.#timeoutMs, threads: () => this.piscina.threads, metrics, log, spinUs, utilization: this.#busy });
    const assetStorage = resolve(options.assetStorage ?? resolve(options.assetRoot, 'data', 'assets'));
    const workerData: WorkerInit = {
      assetRoot: resolve(options.assetRoot),
      assetStorage,
      imageCacheBytes: options.imageCacheBytes ?? 256 * 1024 * 1024,
      evictionChannel: evictionChannelName(assetStorage),
      bandRing: this.ring.init,
    };
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      maxQueue: this.#maxQueue,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 1024 },
      workerData,
      // Idle workers wait with Atomics.waitAsync, not in a blocking Atomics.wait, so that their
      // event loop runs and they hear the band ring. ('async' over 'disabled': main-thread CPU per
      // frame S3 1080p, 2 and 8 workers, ~155 / ~195 µs against ~200 / ~230 in runs half an hour apart.)
      atomics: 'async',
    });
    let created = 0;
    this.piscina.on('workerCreate', (info: { id: number }) => {
      if (++created > threads) {
        metrics?.workerRestarts.inc();
        log?.warn({ threads: this.piscina.threads.length }, 'render worker replaced');
      }
      // The band ring learns of an exit from the thread itself: Piscina's workerDestroy comes
      // after the exit, when the Worker's threadId already reads -1.
      const threadId = info.id;
      this.piscina.threads.find((w) => w.threadId === threadId)?.once('exit', () => this.ring.threadGone(threadId));
    });
    this.piscina.on('error', (err: unknown) => log?.error({ err }, 'render worker error'));
    // A thread that fails to start fails its tasks the usual way; the wait just ends.
    this.#starting = this.#warmAll().then(
      () => void (this.#starting = null),
      () => void (this.#starting = null),
    );
  }

  /**
   * Pool gauges for the metrics scrape and the WS `metricsUpdate`: threads, the workers' busy
   * share over the last second or more (0..1, pool-utilization.ts: time on Piscina tasks and
   * band ring jobs over wall time x threads), their busy time since start (s), and tasks waiting.
   */
  stats(): { threads: number; utilization: number; busySeconds: number; queueSize: number } {
    const threads = this.piscina.threads.length;
    return { threads, utilization: this.#busy.ratio(threads), busySeconds: this.#busy.busySeconds, queueSize: Math.max(0, this.#pending - threads) };
  }

  /**
   * Waits until the threads have loaded the worker module (a no-op task each, no timeout; the pool
   * starts one such round itself when it is made), e.g. before going live.
   */
  async warmUp(): Promise<void> {
    await (this.#starting ?? this.#warmAll());
  }

  async #warmAll(): Promise<void> {
    await Promise.all(Array.from({ length: this.piscina.threads.length || 1 }, () => this.piscina.run(null, { name: 'warmUp' })));
  }

  async #run<R extends { runMs: number }>(task: unknown, name: string): Promise<R> {
    const started = performance.now();
    // Piscina parks undistributed tasks that carry an AbortSignal outside its bounded queue, so
    // the bound is kept here: at most one running task per thread plus maxQueue waiting.
    if (this.#pending >= this.piscina.threads.length + this.#maxQueue) {
      this.#metrics?.poolTasks.inc({ task: name, result: 'rejected' });
      throw new QueueFullError(this.#maxQueue);
    }
    this.#pending++;
    // The timeout is for the task, not for the threads' start (see #starting).
    if (this.#starting) await this.#starting;
    // A timer cleared when the task settles: AbortSignal.timeout's would outlive every task by
    // the full timeout, ~180 timers and signals alive at 30 fps that the young GC promotes.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs);
    try {
      const result = (await this.piscina.run(task, { name, signal: abort.signal })) as R;
      this.#busy.add(result.runMs);
      const m = this.#metrics;
      if (m) {
        const total = (performance.now() - started) / 1000;
        const run = result.runMs / 1000;
        m.poolTaskRun.observe({ task: name }, run);
        m.poolTaskWait.observe({ task: name }, Math.max(0, total - run));
        m.poolTasks.inc({ task: name, result: 'completed' });
      }
      return result;
    } catch (err) {
      this.#metrics?.poolTasks.inc({ task: name, result: isQueueFull(err) ? 'rejected' : isTimeout(err) ? 'timeout' : 'failed' });
      throw err;
    } finally {
      clearTimeout(timer);
      this.#pending--;
    }
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** {@link renderBatch} spreads one batch over the threads itself: a frame's renders go as one. */
  readonly spreadsBatches = true;

  /**
   * Draws one layer into its buffer: through the ring when it can take it, else as a `render`
   * task. Refused, as a task would be, while the pool's queue is full.
   * @throws QueueFullError when the pool's queue is full
   * @throws Error with the worker's message when the layer's render threw
   */
  async render(task: RenderTask): Promise<RenderResult> {
    const ring = this.#ringRenders([task]);
    if (!ring) return this.#run<RenderResult>(task, 'render');
    const [result] = await ring;
    if (result!.status === 'error') throw new Error(result!.message);
    return result!;
  }

  /**
   * Draws several layers, spread over the threads: through the ring (each render claimed by
   * whichever worker is free) when it can take them, else as `renderBatch` tasks, at most one
   * per thread, grouped by `costs` (render-batches.ts). A layer that throws fails alone (an
   * `error` result), and so do the layers of a pool task that failed whole.
   * @param costs expected render time of each task, ms (default: all alike)
   * @param progress takes the renders done before the whole batch is (band-ring.ts)
   * @throws QueueFullError when the pool's queue is full
   * @throws BandTimeoutError or BandWorkerExitError when the ring's job failed whole (it ran past
   *   the timeout, or a thread exited in one of its renders)
   */
  async renderBatch(task: RenderBatchTask, costs?: readonly number[], progress?: RenderProgress): Promise<RenderBatchResult> {
    const started = performance.now();
    const ring = this.#ringRenders(task.tasks, progress);
    const results = ring ? await ring : await this.#renderGroups(task.tasks, costs ?? task.tasks.map(() => UNKNOWN_COST_MS), progress);
    return { results, runMs: performance.now() - started };
  }

  /**
   * `tasks` as `renderBatch` pool tasks planned by `costs`, their results in `tasks`' order; each
   * task's results go to `progress` as soon as it ends.
   */
  async #renderGroups(tasks: readonly RenderTask[], costs: readonly number[], progress?: RenderProgress): Promise<RenderBatchResult['results']> {
    const results: RenderBatchResult['results'] = new Array(tasks.length);
    let full: unknown = null;
    await Promise.all(
      planBatches(costs, this.threads).map(async (group) => {
        try {
          const batch = await this.#run<RenderBatchResult>({ tasks: group.map((i) => tasks[i]!) } satisfies RenderBatchTask, 'renderBatch');
          group.forEach((i, k) => (results[i] = batch.results[k]!));
        } catch (err) {
          if (isQueueFull(err)) {
            full = err;
            return;
          }
          const message = err instanceof Error ? err.message : String(err);
          for (const i of group) results[i] = { status: 'error', message, runMs: 0 };
        }
        progress?.partial(results);
      }),
    );
    if (full !== null) throw full;
    return results;
  }

  /** `tasks` through the ring, or null when it cannot take them; refused while the queue is full. */
  #ringRenders(tasks: readonly RenderTask[], progress?: RenderProgress): ReturnType<BandRing['runRenders']> {
    // Renders in the ring still queue behind busy workers: the pool's bound holds for them too.
    if (this.#pending >= this.piscina.threads.length + this.#maxQueue) {
      this.#metrics?.poolTasks.inc({ task: 'render', result: 'rejected' });
      throw new QueueFullError(this.#maxQueue);
    }
    return this.ring.runRenders(tasks, progress);
  }

  /** Composites one band of a frame (worker export `composite`). */
  composite(task: CompositeTask): Promise<CompositeResult> {
    return this.#run<CompositeResult>(task, 'composite');
  }

  /**
   * Composites the bands of one frame stage: through the band ring (shared memory, no message
   * per band) when it can take them, else as one `composite` task per band.
   * @returns each band's times, in `tasks`' order
   */
  compositeBands(tasks: readonly CompositeTask[]): Promise<CompositeResult[]> {
    return this.ring.run(tasks) ?? Promise.all(tasks.map((t) => this.composite(t)));
  }

  /** Downscales and encodes a frame (worker export `encodeImage`). */
  encodeImage(task: EncodeImageTask): Promise<EncodeImageResult> {
    return this.#run<EncodeImageResult>(task, 'encodeImage');
  }

  /** Waits for running tasks and band jobs, then stops every thread. */
  async close(): Promise<void> {
    await this.ring.close();
    await this.piscina.close();
  }
}
