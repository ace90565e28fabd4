/**
 * An in-process server for the live benches: `startApp` on port 0 with the memory store, live,
 * recording to a temp folder, showing a bench scene (S2's moving layers glide back and forth by
 * PATCH transitions over HTTP, as an admin would drive them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../orchestrator/app.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { createLogger } from '../orchestrator/logger.js';
import { BENCH_SCENES, MOVE_PX_PER_S, MOVE_RANGE_PX, MOVING, sceneDocument, type BenchScene } from './scenes.js';

/** A running bench server. */
export interface LiveServer {
  app: App;
  base: string;
  /** Headers for admin requests. */
  headers: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the server at `width` x `height` and `fps` with `scene` active and goes live.
 * @param env extra environment (config) for loadConfig
 */
export async function startLive(
  scene: BenchScene,
  width: number,
  height: number,
  fps: number,
  env: Record<string, string> = {},
): Promise<LiveServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-bench-live-'));
  const rest = { ...process.env };
  delete rest['AUTH_TOKENS'];
  delete rest['AUTH_TOKENS_FILE'];
  const config = loadConfig({
    ...rest,
    PORT: '0',
    WS_PORT: '0',
    RECORDINGS_DIR: dir,
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
    AUTOSTART: 'false',
    STATE_STORE: 'memory',
    WIDTH: String(width),
    HEIGHT: String(height),
    FPS: String(fps),
    DEFAULT_SCENE: 'auction',
    ...env,
  });
  const app = await startApp(config, createLogger(config.logLevel));
  const base = `http://127.0.0.1:${app.port}`;
  // No tokens: the server binds to 127.0.0.1, where the API is open.
  const headers = { 'content-type': 'application/json' };
  if (scene !== 'S1') {
    const res = await fetch(`${base}/stream/scenes/${BENCH_SCENES[scene]}/activate`, { method: 'POST', headers, body: '{}' });
    if (!res.ok) throw new Error(`activating ${scene}: ${res.status} ${await res.text()}`);
  }
  await app.pipeline.start();
  const sx = width / sceneDocument(scene).canvas.width;
  const legMs = (MOVE_RANGE_PX / MOVE_PX_PER_S) * 1000;
  const movers = MOVING[scene].map((id) => ({ id, x0: app.scene.get(id).transform.x, right: true }));
  const move = async (): Promise<void> => {
    for (const m of movers) {
      const x = m.right ? m.x0 + MOVE_RANGE_PX * sx : m.x0;
      m.right = !m.right;
      await fetch(`${base}/stream/layers/${m.id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ transform: { x }, transition: { durationMs: legMs, easing: 'linear' } }),
      });
    }
  };
  await move();
  const timer = movers.length ? setInterval(() => void move(), legMs) : null;
  return {
    app,
    base,
    headers,
    close: async () => {
      if (timer) clearInterval(timer);
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
