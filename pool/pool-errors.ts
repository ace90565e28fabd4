/**
 * The errors the render pool's work fails with (pool/render-pool.ts, pool/job-ring.ts), one
 * class per code of shared/errors.ts. Callers tell them apart with `instanceof`, never by
 * message. `what` names the work in the message: 'composite band', 'layer render', 'preview encode'.
 */
import type { ErrorCode } from '../shared/errors.js';

/** Work refused at once because `maxQueue` jobs already wait: the frame is dropped, not queued behind the backlog. */
export class RenderQueueFullError extends Error {
  readonly code = 'SM_ERR_RENDER_QUEUE_FULL' satisfies ErrorCode;
  /** @param limit the pool's `maxQueue` (none: not known where thrown) */
  constructor(limit?: number) {
    super(
      limit === undefined
        ? 'The render queue is full; frame dropped'
        : `The render queue is at its limit (${limit} waiting); frame dropped`,
    );
    this.name = 'RenderQueueFullError';
  }
}

/** Work that ran past the pool's timeout; the threads still in it were terminated (the pool replaces them). */
export class WorkerTimeoutError extends Error {
  readonly code = 'SM_ERR_WORKER_TIMEOUT' satisfies ErrorCode;
  /** @param cause what the abandoned work failed with, where there is one (Piscina's abort) */
  constructor(ms: number, what = 'composite band', cause?: unknown) {
    super(`A ${what} ran past ${ms} ms; its worker was terminated`, cause === undefined ? undefined : { cause });
    this.name = 'WorkerTimeoutError';
  }
}

/** A thread exited in the middle of one of the job's tasks (the pool replaces it). */
export class WorkerExitError extends Error {
  readonly code = 'SM_ERR_WORKER_EXIT' satisfies ErrorCode;
  constructor(what = 'composite band') {
    super(`A worker exited in the middle of a ${what}`);
    this.name = 'WorkerExitError';
  }
}

/** A layer's render threw in its worker (its asset is missing or does not decode...); the message is the worker's. */
export class LayerRenderError extends Error {
  readonly code = 'SM_ERR_RENDER' satisfies ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = 'LayerRenderError';
  }
}

/** A band threw in its worker (a bug: bands are plain arithmetic on buffers). */
export class BandFailedError extends Error {
  readonly code = 'SM_ERR_BAND_FAILED' satisfies ErrorCode;
  constructor(message: string) {
    super(`A composite band failed in its worker: ${message}`);
    this.name = 'BandFailedError';
  }
}

/** A job named a buffer the worker was never told about (a bug, or a lost announcement). */
export class UnknownBufferError extends Error {
  readonly code = 'SM_ERR_RING_BUFFER_UNKNOWN' satisfies ErrorCode;
  constructor(id: number) {
    super(`The job names buffer ${id}, which this worker does not know`);
    this.name = 'UnknownBufferError';
  }
}

/** One task does not fit an empty job slot (a band with more layers than the scene limits allow). */
export class JobTooLargeError extends Error {
  readonly code = 'SM_ERR_JOB_TOO_LARGE' satisfies ErrorCode;
  constructor(what = 'composite band') {
    super(`A ${what} does not fit a job slot of the worker ring`);
    this.name = 'JobTooLargeError';
  }
}

/** Work submitted after the pool began to close. */
export class PoolClosedError extends Error {
  readonly code = 'SM_ERR_POOL_CLOSED' satisfies ErrorCode;
  constructor() {
    super('The render pool is closed');
    this.name = 'PoolClosedError';
  }
}

/** No render worker joined the job ring within the job timeout: work waiting for one fails instead of waiting forever (a worker that cannot start). */
export class NoWorkerError extends Error {
  readonly code = 'SM_ERR_NO_WORKER' satisfies ErrorCode;
  constructor(ms: number) {
    super(`No render worker joined the job ring within ${ms} ms`);
    this.name = 'NoWorkerError';
  }
}
