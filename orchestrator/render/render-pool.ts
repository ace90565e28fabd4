import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { evictionChannelName, type EncodeImageResult, type EncodeImageTask, type RenderResult, type RenderTask, type WorkerInit } from '../../shared/messages.js';
import type { Metrics } from '../metrics/metrics.js';


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
}

/** The compiled worker module, next to this file's compiled folder. */
const WORKER_FILE = new URL('../../workers/render-worker.js', import.meta.url).href;

/**
 * The Piscina pool of render workers. Fixed size (min = max threads) so no thread starts on the
 * hot path; idle threads are kept. Each task's wait (queue + transit) and run time go to the
 * metrics: the worker reports its run time, the rest of the round trip is waiting.
 */
export class RenderPool {
  readonly piscina: Piscina;
  readonly #metrics: Metrics | undefined;

  constructor(options: RenderPoolOptions, metrics?: Metrics, log?: Logger) {
    const threads = options.threads;
    this.#metrics = metrics;
    const assetStorage = resolve(options.assetStorage ?? resolve(options.assetRoot, 'data', 'assets'));
    const workerData: WorkerInit = {
      assetRoot: resolve(options.assetRoot),
      assetStorage,
      imageCacheBytes: options.imageCacheBytes ?? 256 * 1024 * 1024,
      evictionChannel: evictionChannelName(assetStorage),
    };
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData,
    });
    let created = 0;
    this.piscina.on('workerCreate', () => {
      if (++created > threads) {
        metrics?.workerRestarts.inc();
        log?.warn({ threads: this.piscina.threads.length }, 'render worker replaced');
      }
    });
    this.piscina.on('error', (err: unknown) => log?.error({ err }, 'render worker error'));
  }

  /** Pool gauges for the metrics scrape. */
  stats(): { threads: number; utilization: number; queueSize: number } {
    return { threads: this.piscina.threads.length, utilization: this.piscina.utilization, queueSize: this.piscina.queueSize };
  }

  async #run<R extends { runMs: number }>(task: unknown, name: string): Promise<R> {
    const started = performance.now();
    try {
      const result = (await this.piscina.run(task, { name })) as R;
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
      this.#metrics?.poolTasks.inc({ task: name, result: 'failed' });
      throw err;
    }
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Draws one layer into its buffer (worker export `render`). */
  render(task: RenderTask): Promise<RenderResult> {
    return this.#run<RenderResult>(task, 'render');
  }

  /** Downscales and encodes a frame (worker export `encodeImage`). */
  encodeImage(task: EncodeImageTask): Promise<EncodeImageResult> {
    return this.#run<EncodeImageResult>(task, 'encodeImage');
  }

  /** Waits for running tasks, then stops every thread. */
  close(): Promise<void> {
    return this.piscina.close();
  }
}
