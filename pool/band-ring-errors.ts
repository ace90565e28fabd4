/**
 * The errors a band ring job fails with (pool/band-ring.ts). `what` names the
 * job's tasks in the message: 'composite band' or 'layer render'.
 */

/** A job that ran past the timeout; the threads still in it were terminated. */
export class BandTimeoutError extends Error {
  readonly code = 'SM_ERR_BAND_TIMEOUT';
  constructor(ms: number, what = 'composite band') {
    super(`A ${what} ran past ${ms} ms; its worker was terminated`);
    // As Piscina's aborted tasks are named, so that isTimeout() knows both.
    this.name = 'AbortError';
  }
}

/** A band threw in its worker (a bug: bands are plain arithmetic on buffers). */
export class BandFailedError extends Error {
  readonly code = 'SM_ERR_BAND_FAILED';
  constructor(message: string) {
    super(`A composite band failed in its worker: ${message}`);
    this.name = 'BandFailedError';
  }
}

/** A thread exited in the middle of one of the job's tasks (the pool replaces it). */
export class BandWorkerExitError extends Error {
  readonly code = 'SM_ERR_BAND_WORKER_EXIT';
  constructor(what = 'composite band') {
    super(`A worker exited in the middle of a ${what}`);
    this.name = 'BandWorkerExitError';
  }
}
