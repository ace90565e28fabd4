import type { Test } from 'tap';
import type { Metrics } from '../../orchestrator/metrics/metrics.js';
import { RenderPool, type RenderPoolOptions } from '../../pool/render-pool.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, checking every 10 ms, for up to `ms`; whether it held. */
export async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ok() && performance.now() < end) await sleep(10);
  return ok();
}

/**
 * A real render pool on this repository's assets, closed when `t` ends, returned once every
 * worker has joined its job ring (asserted on `t`, 10 s at most).
 */
export async function ringPool(t: Test, options: Omit<RenderPoolOptions, 'assetRoot'>, metrics?: Metrics): Promise<RenderPool> {
  const pool = new RenderPool({ assetRoot: '.', ...options }, metrics);
  t.teardown(() => pool.close());
  await pool.warmUp();
  t.ok(await until(() => pool.ring.hellos >= options.threads, 10_000), `every worker (${options.threads}) joined the job ring`);
  return pool;
}
