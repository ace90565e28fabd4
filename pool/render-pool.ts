import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import {
  evictionChannelName,
  type CompositeResult,
  type CompositeTask,
  type EncodeImageResult,
  type EncodeImageTask,
  type RenderBatchResult,
  type RenderBatchTask,
  type RenderFailed,
  type RenderResult,
  type RenderTask,
  type WorkerInit,
} from './messages.js';
import type { PoolMetrics } from './pool-metrics.js';
import { JobRing, type RenderProgress } from './job-ring.js';
import { LayerRenderError, RenderQueueFullError, WorkerTimeoutError } from './pool-errors.js';
import { PoolUtilization } from './pool-utilization.js';

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
  /** Jobs and tasks that may wait for a slot or a worker; beyond, the next is refused at once (default 128). */
  maxQueue?: number;
  /** Work running longer fails and its worker is replaced, ms (default 2000). */
  taskTimeoutMs?: number;
  /** V8 old-generation heap limit per worker, MiB; a worker over it dies and is replaced (default 1024). */
  maxHeapMb?: number;
  /**
   * How long a worker that ran out of job ring tasks polls for the next job before it sleeps,
   * µs (default: {@link RING_SPIN_US} when the machine has a core for this thread and each
   * worker, else 0, since a polling worker would take a core from one that has work).
   */
  ringSpinUs?: number;
}

/**
 * A worker's poll for the next job ring job, µs, when cores are spare. Waking a worker that
 * sleeps in `Atomics.waitAsync` took most of a one-band job's round trip, and frames short
 * enough to have the wake-ups on their critical path came faster with the poll (measured in
 * bench/render.ts). It covers the main thread's turn between a frame's two stages, so a
 * worker polls at most about twice this a frame (~1 % of a core at 30 fps).
 */
export const RING_SPIN_US = 200;

/** The compiled worker module, next to this file's compiled folder. */
const WORKER_FILE = new URL('../workers/render-worker.js', import.meta.url).href;

/**
 * The render workers: a fixed set of Piscina threads (min = max threads, so no thread starts on
 * the hot path; idle threads are kept). Layer renders and composite bands go to them through the
 * job ring (pool/job-ring.ts), the one way for that work: a call waits for a free job slot
 * when all are busy. Preview encodes go as Piscina tasks: a few a second, each long enough that
 * a message round trip costs nothing next to it. Each task's wait (queue + transit) and run time
 * go to the metrics: the worker reports its run time, the rest of the round trip is waiting.
 *
 * Piscina keeps the threads: a worker that exits, throws outside a task or passes its heap limit
 * (`resourceLimits`) is replaced (counted in `pool_worker_restarts_total`), and the work it was
 * in fails ({@link WorkerExitError} in the ring). Work that runs past `taskTimeoutMs` fails with
 * {@link WorkerTimeoutError} and its worker is terminated (and replaced). At most `maxQueue` jobs
 * and tasks wait: the next is refused at once with {@link RenderQueueFullError}, so that frames
 * are dropped rather than piled up.
 */
export class RenderPool {
  readonly piscina: Piscina;
  /** Where renders and composite bands go, without a message each. */
  readonly ring: JobRing;
  readonly #metrics: PoolMetrics | undefined;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  /** Piscina tasks submitted and not yet settled (running + waiting). */
  #tasks = 0;
  /** Ring calls waiting for the threads' start (see #starting). */
  #early = 0;
  /** The workers' time on tasks, from Piscina tasks and job ring tasks alike. */
  readonly #busy = new PoolUtilization();
  /**
   * Until every thread has started (loaded the worker module, its native canvas and image
   * libraries: a second or more on a loaded machine or a cold disk), the start-up warm-up; null
   * after. Work submitted meanwhile starts its timeout only then: the timeout is for a render,
   * not for a thread's start (worker-memory.test.ts timed out under CPU load so).
   */
  #starting: Promise<void> | null;

  constructor(options: RenderPoolOptions, metrics?: PoolMetrics, log?: Logger) {
    const threads = options.threads;
    this.#metrics = metrics;
    this.#timeoutMs = options.taskTimeoutMs ?? 2000;
    this.#maxQueue = options.maxQueue ?? 128;
    const spinUs = options.ringSpinUs ?? (availableParallelism() > threads ? RING_SPIN_US : 0);
    this.ring = new JobRing({
      timeoutMs: this.#timeoutMs,
      threads: () => this.piscina.threads,
      metrics,
      log,
      spinUs,
      utilization: this.#busy,
    });
    const assetStorage = resolve(options.assetStorage ?? resolve(options.assetRoot, 'data', 'assets'));
    const workerData: WorkerInit = {
      assetRoot: resolve(options.assetRoot),
      assetStorage,
      imageCacheBytes: options.imageCacheBytes ?? 256 * 1024 * 1024,
      evictionChannel: evictionChannelName(assetStorage),
      jobRing: this.ring.init,
    };
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 1024 },
      workerData,
      // Idle workers wait with Atomics.waitAsync, not in a blocking Atomics.wait, so that their
      // event loop runs and they hear the job ring ('async' over 'disabled' also cost the main
      // thread less CPU a frame, measured in bench/render.ts).
      atomics: 'async',
    });
    let created = 0;
    this.piscina.on('workerCreate', (info: { id: number }) => {
      if (++created > threads) {
        metrics?.workerRestarts.inc();
        log?.warn({ threads: this.piscina.threads.length }, 'render worker replaced');
      }
      // The job ring learns of an exit from the thread itself: Piscina's workerDestroy comes
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
   * job ring tasks over wall time x threads), their busy time since start (s), and the jobs and
   * tasks waiting (for a job slot, a worker, or the threads' start).
   */
  stats(): { threads: number; utilization: number; busySeconds: number; queueSize: number } {
    const threads = this.piscina.threads.length;
    return { threads, utilization: this.#busy.ratio(threads), busySeconds: this.#busy.busySeconds, queueSize: this.#waiting() };
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

  /** Jobs and tasks waiting: for a job slot, for the threads' start, and Piscina tasks for a worker. */
  #waiting(): number {
    return this.ring.waiting + this.#early + Math.max(0, this.#tasks - this.piscina.threads.length);
  }

  /**
   * Refuses work of `task` at once while {@link RenderPoolOptions.maxQueue} jobs and tasks wait.
   * @throws RenderQueueFullError
   */
  #admit(task: string): void {
    if (this.#waiting() < this.#maxQueue) return;
    this.#metrics?.poolTasks.inc({ task, result: 'rejected' });
    throw new RenderQueueFullError(this.#maxQueue);
  }

  /** `job()` (a ring call), after the threads' start when they are still starting. */
  async #afterStart<R>(job: () => Promise<R>): Promise<R> {
    this.#early++;
    try {
      await this.#starting;
    } finally {
      this.#early--;
    }
    return job();
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** {@link renderBatch} spreads one batch over the threads itself: a frame's renders go as one. */
  readonly spreadsBatches = true;

  /**
   * Draws one layer into its buffer (a job ring job of one render).
   * @throws RenderQueueFullError when the pool's queue is full
   * @throws LayerRenderError with the worker's message when the layer's render threw
   * @throws WorkerTimeoutError or WorkerExitError when the render ran past the timeout, or its thread exited
   */
  async render(task: RenderTask): Promise<RenderResult> {
    const [result] = await this.#renders([task]);
    if (result!.status === 'error') throw new LayerRenderError(result!.message);
    return result!;
  }

  /**
   * Draws several layers, spread over the threads: each render is claimed by whichever worker is
   * free (job ring; several jobs when they do not fit one slot). A layer that throws fails alone
   * (an `error` result).
   * @param progress takes the renders done before the whole batch is (job-ring.ts)
   * @throws RenderQueueFullError when the pool's queue is full
   * @throws WorkerTimeoutError or WorkerExitError when a job failed whole (it ran past the
   *   timeout, or a thread exited in one of its renders); renders done before go to `progress`
   */
  async renderBatch(task: RenderBatchTask, progress?: RenderProgress): Promise<RenderBatchResult> {
    const started = performance.now();
    const results = await this.#renders(task.tasks, progress);
    return { results, runMs: performance.now() - started };
  }

  #renders(tasks: readonly RenderTask[], progress?: RenderProgress): Promise<Array<RenderResult | RenderFailed>> {
    this.#admit('render');
    return this.#starting ? this.#afterStart(() => this.ring.runRenders(tasks, progress)) : this.ring.runRenders(tasks, progress);
  }

  /**
   * Composites the bands of one frame stage through the job ring (shared memory, no message per
   * band).
   * @returns each band's times, in `tasks`' order
   * @throws RenderQueueFullError (as a rejection) when the pool's queue is full
   * @throws WorkerTimeoutError, WorkerExitError or BandFailedError (as a rejection) when a job failed
   */
  compositeBands(tasks: readonly CompositeTask[]): Promise<CompositeResult[]> {
    try {
      this.#admit('composite');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.#starting ? this.#afterStart(() => this.ring.run(tasks)) : this.ring.run(tasks);
  }

  /**
   * Downscales and encodes a frame (worker export `encodeImage`, a Piscina task).
   * @throws RenderQueueFullError when the pool's queue is full
   * @throws WorkerTimeoutError when it ran past the timeout (its worker is terminated and replaced)
   */
  encodeImage(task: EncodeImageTask): Promise<EncodeImageResult> {
    return this.#run<EncodeImageResult>(task, 'encodeImage', 'preview encode');
  }

  /** Runs Piscina task `name` (`what` names it in a timeout's message). */
  async #run<R extends { runMs: number }>(task: unknown, name: string, what: string): Promise<R> {
    const started = performance.now();
    // Piscina parks undistributed tasks that carry an AbortSignal outside its bounded queue, so
    // the bound is kept here.
    this.#admit(name);
    this.#tasks++;
    try {
      // The timeout is for the task, not for the threads' start (see #starting).
      if (this.#starting) await this.#starting;
      // A timer cleared when the task settles: AbortSignal.timeout's would outlive every task by
      // the full timeout, timers and signals alive by the hundred that the young GC promotes.
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, this.#timeoutMs);
      let result: R;
      try {
        result = (await this.piscina.run(task, { name, signal: abort.signal })) as R;
      } catch (err) {
        throw timedOut ? new WorkerTimeoutError(this.#timeoutMs, what, err) : err;
      } finally {
        clearTimeout(timer);
      }
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
      this.#metrics?.poolTasks.inc({ task: name, result: err instanceof WorkerTimeoutError ? 'timeout' : 'failed' });
      throw err;
    } finally {
      this.#tasks--;
    }
  }

  /** Refuses new work, waits for the jobs and tasks running, then stops every thread. */
  async close(): Promise<void> {
    await this.ring.close();
    await this.piscina.close();
  }
}
