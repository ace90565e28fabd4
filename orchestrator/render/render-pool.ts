import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { EncodeImageTask, RenderResult, RenderTask, WorkerInit } from '../../shared/messages.js';

/** The compiled worker module, next to this file's compiled folder. */
const WORKER_FILE = new URL('../../workers/render-worker.js', import.meta.url).href;

/**
 * The Piscina pool of render workers. Fixed size (min = max threads) so no thread starts on the
 * hot path; idle threads are kept.
 */
export class RenderPool {
  readonly piscina: Piscina;

  /**
   * @param threads worker threads (default: the machine's cores)
   * @param assetRoot folder that holds `assets/`
   */
  constructor(threads: number, assetRoot: string) {
    const workerData: WorkerInit = { assetRoot: resolve(assetRoot) };
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData,
    });
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Draws one layer into its buffer (worker export `render`). */
  render(task: RenderTask): Promise<RenderResult> {
    return this.piscina.run(task, { name: 'render' }) as Promise<RenderResult>;
  }

  /** Downscales and encodes a frame (worker export `encodeImage`). */
  encodeImage(task: EncodeImageTask): Promise<Uint8Array> {
    return this.piscina.run(task, { name: 'encodeImage' }) as Promise<Uint8Array>;
  }

  /** Waits for running tasks, then stops every thread. */
  close(): Promise<void> {
    return this.piscina.close();
  }
}
