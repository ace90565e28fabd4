import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Router } from '@koa/router';
import type { RenderPool } from '../render/render-pool.js';
import type { StreamPipeline } from '../pipeline.js';
import type { StateManager } from '../state/state-manager.js';

/** How long the frame clock may go without a tick while live before liveness fails, ms. */
const CLOCK_STALL_MS = 5000;

/**
 * True when `cmd` is an executable file: a path, or a name found on PATH.
 */
export async function executableFound(cmd: string): Promise<boolean> {
  const candidates = cmd.includes('/') ? [cmd] : (process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

export interface HealthDeps {
  pipeline: StreamPipeline;
  state: StateManager;
  pool: RenderPool;
  ffmpegPath: string;
}

/**
 * `GET /health`: liveness (the process answers and, while live, the frame clock ticked lately);
 * `GET /health/ready`: readiness (ffmpeg found, pool up, store reachable), 503 naming what fails.
 */
export function healthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/health', (ctx) => {
    const s = deps.pipeline.status();
    const store = deps.state.health();
    const sinceTick = deps.pipeline.msSinceTick();
    const clockAlive = !s.isLive || sinceTick < CLOCK_STALL_MS;
    ctx.status = clockAlive ? 200 : 503;
    ctx.body = { status: !clockAlive ? 'down' : store.status === 'ok' ? 'ok' : 'degraded', uptime: process.uptime(), isLive: s.isLive, clock: { alive: clockAlive, msSinceTick: s.isLive ? Math.round(sinceTick) : null }, store };
  });
  router.get('/health/ready', async (ctx) => {
    const checks = {
      ffmpeg: await executableFound(deps.ffmpegPath),
      pool: deps.pool.stats().threads > 0,
      store: deps.state.health().connected,
    };
    const failing = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
    ctx.status = failing.length ? 503 : 200;
    ctx.body = { status: failing.length ? 'unready' : 'ready', failing, checks };
  });
}
