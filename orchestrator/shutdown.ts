import type { AssetService } from './assets/asset-service.js';
import type { Servers } from './http/servers.js';
import type { Animator } from './motion/animator.js';
import type { SceneSwitcher } from './motion/scene-switcher.js';
import type { StreamPipeline } from './pipeline.js';
import type { RenderPool } from '../pool/render-pool.js';
import type { StateManager } from './state/state-manager.js';
import type { WsHub } from './ws/ws-hub.js';

/** The parts a running server stops, see {@link shutdown}. */
export interface RunningParts {
  pipeline: StreamPipeline;
  /** The program's and the preview scene's. */
  animators: Animator[];
  switcher: SceneSwitcher;
  state: StateManager;
  ws: WsHub;
  servers: Servers;
  pool: RenderPool;
  assets: AssetService;
}

/**
 * Stops a running server, in this order: the stream (ffmpeg writes its trailer), the animation
 * timers, then the state notes that the stream was live (so a restart resumes it), WebSocket
 * clients get 1001, the servers close, then the render workers, the asset service, and last the
 * state, whose pending writes are flushed before its store closes.
 */
export async function shutdown({ pipeline, animators, switcher, state, ws, servers, pool, assets }: RunningParts): Promise<void> {
  const live = pipeline.status().isLive;
  await pipeline.close();
  for (const a of animators) a.close();
  switcher.close();
  if (live) state.observeStream({ ...pipeline.status(), isLive: true });
  ws.close();
  await servers.close();
  await pool.close();
  assets.close();
  await state.close();
}
