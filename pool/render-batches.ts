/**
 * How a frame's layer renders are grouped when the drawing service takes them group by group
 * (orchestrator/render/layer-renderer.ts, for a service that does not spread a batch itself;
 * the render pool does, through the job ring: pool/job-ring.ts). Every group costs a round trip
 * (posting it and settling it on the main thread, waking a worker), so renders too small to pay
 * for their own trip share one, and no more groups are made than there are threads.
 */

/** Least render work a task should carry, ms: a few round trips' worth. */
export const MIN_TASK_MS = 0.25;

/** Cost assumed for a layer that has not rendered yet, ms (spreads a scene's first renders out). */
export const UNKNOWN_COST_MS = 1;

/**
 * Groups renders into at most `threads` tasks of at least {@link MIN_TASK_MS} each where the
 * total allows, balanced by cost: largest first, each onto the least loaded task (Graham's LPT
 * rule, within 4/3 of the best makespan: R. L. Graham, "Bounds on multiprocessing timing
 * anomalies", SIAM J. Appl. Math. 17(2), 1969).
 * @param costs expected render time of each layer, ms (its last run time)
 * @param threads worker threads (>= 1)
 * @returns groups of indices into `costs`, each in ascending order; every index exactly once
 */
export function planBatches(costs: readonly number[], threads: number): number[][] {
  if (costs.length === 0) return [];
  let total = 0;
  for (const c of costs) total += c;
  const n = Math.max(1, Math.min(threads, costs.length, Math.ceil(total / MIN_TASK_MS)));
  const order = costs.map((_, i) => i).sort((a, b) => costs[b]! - costs[a]! || a - b);
  const groups = Array.from({ length: n }, () => ({ load: 0, items: [] as number[] }));
  for (const i of order) {
    let least = groups[0]!;
    for (const g of groups) if (g.load < least.load) least = g;
    least.items.push(i);
    least.load += costs[i]!;
  }
  return groups.map((g) => g.items.sort((a, b) => a - b));
}
