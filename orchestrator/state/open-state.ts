/**
 * The state at start: the state manager over the store STATE_STORE names, with its first-boot
 * defaults, and reading what the store holds.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/env.js';
import type { Metrics } from '../metrics/metrics.js';
import { assetsExist } from '../scene/asset-check.js';
import { videoLayerCheck } from '../scene/video-check.js';
import { liveHostCheck } from '../media/live-hosts.js';
import { auctionScene } from '../scene/default-scene.js';
import { createStore } from './create-store.js';
import { RedisStore } from './redis-store.js';
import { StateManager } from './state-manager.js';

/**
 * The state manager for `config`: its store (not read yet, see {@link loadState}); on a first
 * boot the stream config from the environment and the auction scene laid out for the canvas
 * (DEFAULT_SCENE=empty: no layers); layers may refer only to assets that exist, video layers
 * may not be rotated, and live video feeds only from hosts VIDEO_LIVE_HOSTS allows.
 */
export function createState(
  config: Pick<ServerConfig, 'state' | 'stream' | 'defaultScene' | 'assetRoot' | 'assets'>,
  metrics: Metrics,
  log: Logger,
): StateManager {
  const assetCheck = assetsExist(config.assetRoot, (id) => state.asset(id));
  const hostCheck = liveHostCheck(config.assets.video.liveHosts);
  const state: StateManager = new StateManager({
    metrics,
    store: createStore(config.state, log.child({ component: 'state' })),
    defaults: {
      config: config.stream,
      layers: config.defaultScene === 'auction' ? auctionScene(config.stream.width, config.stream.height) : [],
    },
    check: (layer, previous) => {
      videoLayerCheck(layer);
      hostCheck(layer, previous);
      assetCheck(layer, previous);
    },
    log: log.child({ component: 'state' }),
  });
  return state;
}

/**
 * Loads the stored state; when the store is unreachable, starts on the defaults (the state loads
 * later, when the store is back: `StateManager.loadLate`).
 * @returns whether a stored state was found
 */
export async function loadState(state: StateManager, log: Logger): Promise<boolean> {
  const store = state.store;
  try {
    if (store instanceof RedisStore && !(await store.connect())) throw new Error('redis unreachable');
    const { restored } = await state.load();
    return restored;
  } catch (err) {
    log.warn({ err }, 'stored state could not be read; running on defaults until the store is back');
    state.useDefaults();
    return false;
  }
}

/**
 * The Redis connection of a Redis state store, for counts that all instances share (the rate
 * limit, under `prefix`), with whether it is connected now; null for the other stores.
 */
export function sharedRedis(state: StateManager, prefix: string): { client: Redis; prefix: string; connected: () => boolean } | null {
  return state.store instanceof RedisStore ? { client: state.store.redis, prefix, connected: () => state.store.connected } : null;
}
