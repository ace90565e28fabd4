/** The errors a band ring job fails with (orchestrator/render/band-ring.ts). */

/** A band that ran past the timeout; the thread running it was terminated. */
export class BandTimeoutError extends Error {
  readonly code = 'SM_ERR_BAND_TIMEOUT';
  constructor(ms: number) {
    super(`A composite band ran past ${ms} ms; its worker was terminated`);
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

/** A thread exited in the middle of one of the job's bands (the pool replaces it). */
export class BandWorkerExitError extends Error {
  readonly code = 'SM_ERR_BAND_WORKER_EXIT';
  constructor() {
    super('A worker exited in the middle of a composite band');
    this.name = 'BandWorkerExitError';
  }
}
