/**
 * What the render pool reports, declared here so that pool/ imports nothing from the
 * orchestrator: the orchestrator's `Metrics` (orchestrator/metrics/metrics.ts, prom-client)
 * has these members and satisfies this interface as it is.
 */

/** How a pool task ended: `rejected` is refused at once because the queue was full. */
export type PoolTaskResult = 'completed' | 'failed' | 'timeout' | 'rejected';

export interface PoolMetrics {
  /** Tasks finished, by task (`render`, `composite`, `encodeImage`) and result (`pool_tasks_total`). */
  readonly poolTasks: { inc(labels: { task: string; result: PoolTaskResult }, value?: number): void };
  /** A task's time in its worker, seconds (`pool_task_run_seconds`). */
  readonly poolTaskRun: { observe(labels: { task: string }, seconds: number): void };
  /** A task's time waiting and in transit, seconds (`pool_task_wait_seconds`). */
  readonly poolTaskWait: { observe(labels: { task: string }, seconds: number): void };
  /** Threads started to replace one that died (`pool_worker_restarts_total`). */
  readonly workerRestarts: { inc(): void };
}
