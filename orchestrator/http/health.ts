import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Router } from '@koa/router';
import type { RenderPool } from '../../pool/render-pool.js';
import type { StreamPipeline } from '../pipeline.js';
import type { StateManager } from '../state/state-manager.js';

/** How long the frame clock may go without a tick while live before liveness fails, ms. */
const CLOCK_STALL_MS = 5000;

/**
 * True when `cmd` is an executable file: a path, or a name found on PATH.
 */
export async function executableFound(cmd: string): Promise<boolean> {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env['PATH'] ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
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
 * What keeps the stream from being whole: `stoppedInError` when it stopped in error (the encoder
 * gave up after its restarts; cleared by the next start or a reset), and the ids of outputs that
 * gave up (`failed`). The error's text stays in `GET /stream/status`, behind auth: `/health` is
 * open to anyone, and ffmpeg's messages name hosts and paths.
 */
function streamProblems(pipeline: StreamPipeline): { stream: { isLive: boolean; stoppedInError: boolean }; failedOutputs: string[] } {
  const s = pipeline.status();
  return {
    stream: { isLive: s.isLive, stoppedInError: !s.isLive && typeof s.error === 'string' && s.error !== '' },
    failedOutputs: pipeline
      .outputs()
      .filter((o) => o.state === 'failed')
      .map((o) => o.id),
  };
}

/**
 * `GET /health`: liveness. 503 `down` only when the process cannot make frames (live, and the
 * frame clock has not ticked lately); otherwise 200, `ok`, or `degraded` while the store is, the
 * stream stopped in error or an output gave up (the process is alive: restarting it would not
 * help, so a container health check keeps it). `GET /health/ready`: readiness (ffmpeg found, pool
 * up, store reachable, the stream not stopped in error), 503 naming what fails.
 */
export function healthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/health', (ctx) => {
    const s = deps.pipeline.status();
    const store = deps.state.health();
    const sinceTick = deps.pipeline.msSinceTick();
    const clockAlive = !s.isLive || sinceTick < CLOCK_STALL_MS;
    const { stream, failedOutputs } = streamProblems(deps.pipeline);
    const whole = store.status === 'ok' && !stream.stoppedInError && failedOutputs.length === 0;
    ctx.status = clockAlive ? 200 : 503;
    ctx.body = {
      status: !clockAlive ? 'down' : whole ? 'ok' : 'degraded',
      uptime: process.uptime(),
      isLive: s.isLive,
      clock: { alive: clockAlive, msSinceTick: s.isLive ? Math.round(sinceTick) : null },
      store,
      stream,
      failedOutputs,
    };
  });
  router.get('/health/ready', async (ctx) => {
    const { stream } = streamProblems(deps.pipeline);
    const checks = {
      ffmpeg: await executableFound(deps.ffmpegPath),
      pool: deps.pool.stats().threads > 0,
      store: deps.state.health().connected,
      stream: !stream.stoppedInError,
    };
    const failing = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    ctx.status = failing.length ? 503 : 200;
    ctx.body = { status: failing.length ? 'unready' : 'ready', failing, checks };
  });
}
