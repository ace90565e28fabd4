import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { OutputSpecSchema } from '../../shared/outputs.js';
import { ScenesStateSchema } from '../../shared/scenes.js';
import { DataSetSchema } from '../../shared/data-binding.js';
import { AssetMetaSchema, LayerListSchema, type PersistedState } from '../../shared/state-doc.js';
import { StreamConfigSchema } from '../../shared/stream-config.js';
import { StreamStateSchema } from '../../shared/stream-state.js';
import type { LoadResult, MetricsSnapshot, StateStore } from './store.js';
import { parseJson, parsePart } from './validate-parts.js';

/** Key names under the prefix. The first five are the seeds' (004_*.txt); TTLs are theirs too. */
export const REDIS_KEYS = {
  streamState: 'stream:state',
  streamConfig: 'stream:config',
  streamMetrics: 'stream:metrics',
  systemHealth: 'system:health',
  systemMetrics: 'system:metrics',
  layers: 'scene:layers',
  assets: 'assets:index',
  outputs: 'stream:outputs',
  scenes: 'stream:scenes',
  data: 'stream:data',
  version: 'state:version',
} as const;

/** TTLs in seconds (the seeds' `TTL` table). */
export const REDIS_TTL_S = { streamMetrics: 60, systemHealth: 60, systemMetrics: 300 } as const;

/** Client options chosen on purpose; see the README's "State" section. */
export const REDIS_CLIENT_OPTIONS = {
  /** Fail fast while disconnected: the persister keeps one dirty whole document instead of ioredis queueing every command. */
  enableOfflineQueue: false,
  /** A command in flight when the link drops is retried once, then fails to the persister. */
  maxRetriesPerRequest: 1,
  /** No command may hang the caller longer than this, ms. */
  commandTimeout: 2000,
  connectTimeout: 2000,
  /** Reconnect with exponential backoff from 50 ms, capped at 1 s, with up to 100 ms of jitter. */
  retryStrategy: (times: number): number => Math.min(50 * 2 ** Math.min(times, 5), 1000) + Math.floor(Math.random() * 100),
  lazyConnect: true,
} as const;

/** The state under `prefix` in Redis; multi-key writes go in one MULTI/EXEC. */
export class RedisStore implements StateStore {
  readonly kind = 'redis';
  readonly redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  #connected = false;
  #listeners: (() => void)[] = [];

  constructor(url: string, prefix: string, log: Logger) {
    this.#prefix = prefix;
    this.#log = log;
    this.redis = new Redis(url, { ...REDIS_CLIENT_OPTIONS });
    this.redis.on('ready', () => {
      const was = this.#connected;
      this.#connected = true;
      log.info({ url: redactUrl(url) }, 'redis connected');
      if (!was) for (const l of this.#listeners) l();
    });
    this.redis.on('close', () => {
      if (this.#connected) log.warn('redis connection lost; state is kept in memory until it is back');
      this.#connected = false;
    });
    this.redis.on('error', (err) => log.debug({ err }, 'redis error'));
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Connects; resolves false (and keeps retrying in the background) when Redis is unreachable. */
  async connect(): Promise<boolean> {
    try {
      await this.redis.connect();
      return true;
    } catch (err) {
      this.#log.warn({ err }, 'redis unreachable at start; retrying in the background');
      return false;
    }
  }

  key(name: string): string {
    return this.#prefix + name;
  }

  onReconnect(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async load(): Promise<LoadResult> {
    const names = [REDIS_KEYS.version, REDIS_KEYS.streamConfig, REDIS_KEYS.layers, REDIS_KEYS.assets, REDIS_KEYS.streamState, REDIS_KEYS.outputs, REDIS_KEYS.data, REDIS_KEYS.scenes] as const;
    const values = await this.redis.mget(...names.map((n) => this.key(n)));
    if (values.every((v) => v === null)) return { state: null, problems: [] };
    const problems: LoadResult['problems'] = [];
    const state: Partial<PersistedState> = {};
    const schemas = {
      [REDIS_KEYS.version]: z.number().int().nonnegative(),
      [REDIS_KEYS.streamConfig]: StreamConfigSchema,
      [REDIS_KEYS.layers]: LayerListSchema,
      [REDIS_KEYS.assets]: z.record(z.string(), AssetMetaSchema),
      [REDIS_KEYS.streamState]: StreamStateSchema,
      [REDIS_KEYS.outputs]: z.array(OutputSpecSchema).max(64),
      [REDIS_KEYS.data]: DataSetSchema,
      [REDIS_KEYS.scenes]: ScenesStateSchema,
    };
    const field = {
      [REDIS_KEYS.version]: 'version',
      [REDIS_KEYS.streamConfig]: 'config',
      [REDIS_KEYS.layers]: 'layers',
      [REDIS_KEYS.assets]: 'assets',
      [REDIS_KEYS.streamState]: 'stream',
      [REDIS_KEYS.outputs]: 'outputs',
      [REDIS_KEYS.data]: 'data',
      [REDIS_KEYS.scenes]: 'scenes',
    } as const;
    for (const [i, name] of names.entries()) {
      const raw = values[i];
      if (raw === null || raw === undefined) continue;
      const key = this.key(name);
      const before = problems.length;
      const json = parseJson(raw, key, problems);
      const value = json.ok ? parsePart(schemas[name], json.value, key, problems) : undefined;
      if (value !== undefined) {
        (state as Record<string, unknown>)[field[name]] = value;
      } else {
        const aside = `${key}:corrupt`;
        await this.redis.multi().set(aside, raw).del(key).exec();
        for (const p of problems.slice(before)) p.setAsideTo = aside;
      }
    }
    return { state, problems };
  }

  async save(state: PersistedState): Promise<void> {
    const result = await this.redis
      .multi()
      .set(this.key(REDIS_KEYS.version), String(state.version))
      .set(this.key(REDIS_KEYS.streamConfig), JSON.stringify(state.config))
      .set(this.key(REDIS_KEYS.layers), JSON.stringify(state.layers))
      .set(this.key(REDIS_KEYS.assets), JSON.stringify(state.assets))
      .set(this.key(REDIS_KEYS.streamState), JSON.stringify(state.stream))
      .set(this.key(REDIS_KEYS.outputs), JSON.stringify(state.outputs))
      .set(this.key(REDIS_KEYS.data), JSON.stringify(state.data))
      .set(this.key(REDIS_KEYS.scenes), JSON.stringify(state.scenes))
      .exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed) throw failed?.[0] ?? new Error('MULTI aborted');
  }

  async saveMetrics(m: MetricsSnapshot): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(REDIS_KEYS.streamMetrics), JSON.stringify(m.stream), 'EX', REDIS_TTL_S.streamMetrics)
      .set(this.key(REDIS_KEYS.systemMetrics), JSON.stringify(m.system), 'EX', REDIS_TTL_S.systemMetrics)
      .set(this.key(REDIS_KEYS.systemHealth), JSON.stringify(m.health), 'EX', REDIS_TTL_S.systemHealth)
      .exec();
  }

  async close(): Promise<void> {
    this.#listeners = [];
    this.redis.disconnect();
  }
}

/** A Redis URL with its password replaced by `***`, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable)';
  }
}
