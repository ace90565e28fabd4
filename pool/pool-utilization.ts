/**
 * How busy the render workers are, from the tasks they actually ran: every task (a job ring
 * job's band or render, or a Piscina task) reports the time its worker spent on it (`runMs`,
 * measured in the worker around the task), and the pool adds it here when the task settles.
 * Piscina's own `utilization` counts only Piscina tasks, and the job ring (where nearly all
 * work goes) bypasses it, so it read ~0 while every worker was busy.
 *
 * Utilisation = busy time summed over the threads / (wall time x threads), over a window of at
 * least {@link WINDOW_MS}. A task counts when it ends, so a window may hold a task that began in
 * the one before: the ratio is clamped to 0..1. Numbers only: no allocation per task.
 */

/** Shortest window a utilisation figure covers, ms (the WS `metricsUpdate` comes once a second). */
export const WINDOW_MS = 1000;

export class PoolUtilization {
  /** Busy time of all workers since the pool started, ms. */
  #busyMs = 0;
  /** Where the current window began: performance.now() ms and busy ms then. */
  #startMs: number;
  #startBusy = 0;
  /** The last full window's ratio; NaN until one has passed. */
  #last = Number.NaN;

  constructor(now = performance.now()) {
    this.#startMs = now;
  }

  /** Adds `ms` of one worker's time on a task (a negative or non-finite value is ignored). */
  add(ms: number): void {
    if (ms > 0 && Number.isFinite(ms)) this.#busyMs += ms;
  }

  /** Busy time of all workers so far, seconds (the `pool_busy_seconds_total` counter). */
  get busySeconds(): number {
    return this.#busyMs / 1000;
  }

  /**
   * Busy share of `threads` workers, 0..1: over the last full window of at least
   * {@link WINDOW_MS} (the window rolls on at this call once it is that long), or, before the
   * first one has passed, over the time since the pool started.
   */
  ratio(threads: number, now = performance.now()): number {
    const elapsed = now - this.#startMs;
    if (threads <= 0 || elapsed <= 0) return 0;
    const current = Math.min(1, Math.max(0, (this.#busyMs - this.#startBusy) / (elapsed * threads)));
    if (elapsed < WINDOW_MS) return Number.isNaN(this.#last) ? current : this.#last;
    this.#last = current;
    this.#startMs = now;
    this.#startBusy = this.#busyMs;
    return current;
  }
}
