import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PersistedState } from '../../shared/state-doc.js';
import { parseParts, type PartName } from './load-parts.js';
import type { LoadResult, MetricsSnapshot, StateStore } from './store.js';
import { parseJson } from './validate-parts.js';

/** Key names under the prefix. The first five and their TTLs are a fixed contract: never rename one. */
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
  /** Studio mode's preview scene (its layers in order). */
  preview: 'stream:preview',
  version: 'state:version',
  /** `<node id>:<version>` of the last write, in the same MULTI: its absence means Redis lost the state. */
  epoch: 'state:epoch',
} as const;

/** How often a connected store checks that Redis still holds its epoch key, ms. */
export const AMNESIA_CHECK_MS = 1000;

/** The Redis key of each part of the persisted document. */
const PART_KEYS: Record<PartName, string> = {
  version: REDIS_KEYS.version,
  config: REDIS_KEYS.streamConfig,
  layers: REDIS_KEYS.layers,
  assets: REDIS_KEYS.assets,
  stream: REDIS_KEYS.streamState,
  outputs: REDIS_KEYS.outputs,
  data: REDIS_KEYS.data,
  scenes: REDIS_KEYS.scenes,
  preview: REDIS_KEYS.preview,
};

/** TTLs in seconds: live figures expire when nothing writes them any more. */
export const REDIS_TTL_S = { streamMetrics: 60, systemHealth: 60, systemMetrics: 300 } as const;

/** Client options chosen on purpose; see docs/operations.md, "State". */
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

/**
 * The state under `prefix` in Redis; multi-key writes go in one MULTI/EXEC, with an epoch key
 * (`state:epoch` = this node's id and the version written). Once a second while connected, and
 * at once on every reconnect, it reads the epoch back: missing (Redis restarted empty, FLUSHALL,
 * eviction), or older than this node's last write (Redis restored an older snapshot), it calls
 * the `onAmnesia` listeners, which write the whole state back.
 */
export class RedisStore implements StateStore {
  readonly kind = 'redis';
  readonly redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #node = randomUUID();
  #connected = false;
  #listeners: (() => void)[] = [];
  #amnesiaListeners: ((reason: string) => void)[] = [];
  /** Version this node last wrote or loaded; null until then (nothing to lose yet). */
  #written: number | null = null;
  #checking = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(url: string, prefix: string, log: Logger) {
    this.#prefix = prefix;
    this.#log = log;
    this.redis = new Redis(url, { ...REDIS_CLIENT_OPTIONS });
    this.redis.on('ready', () => {
      const was = this.#connected;
      this.#connected = true;
      log.info({ url: redactUrl(url) }, 'redis connected');
      if (!was) for (const l of this.#listeners) l();
      void this.checkEpoch();
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
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.checkEpoch(), AMNESIA_CHECK_MS);
      this.#timer.unref();
    }
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

  onAmnesia(listener: (reason: string) => void): void {
    this.#amnesiaListeners.push(listener);
  }

  /**
   * Reads the epoch key (one GET) and calls the amnesia listeners when Redis no longer holds what
   * this node wrote. Replies come in command order on the one connection, so a write in flight
   * cannot make it misread. Does nothing while disconnected or before the first write or load.
   */
  async checkEpoch(): Promise<void> {
    if (!this.#connected || this.#written === null || this.#checking) return;
    this.#checking = true;
    try {
      const epoch = await this.redis.get(this.key(REDIS_KEYS.epoch));
      const written = this.#written;
      let reason: string | null = null;
      if (epoch === null) reason = 'the epoch key is missing (Redis restarted empty, was flushed or evicted the state)';
      else {
        const [node, version] = epoch.split(':');
        if (node === this.#node && Number(version) < written)
          reason = `Redis holds version ${version}, older than ${written} written by this node (restored from an older snapshot)`;
      }
      if (reason) for (const l of this.#amnesiaListeners) l(reason);
    } catch (err) {
      this.#log.debug({ err }, 'epoch check failed');
    } finally {
      this.#checking = false;
    }
  }

  async load(): Promise<LoadResult> {
    const parts = Object.keys(PART_KEYS) as PartName[];
    const values = await this.redis.mget(...parts.map((p) => this.key(PART_KEYS[p])));
    if (values.every((v) => v === null)) return { state: null, problems: [] };
    const problems: LoadResult['problems'] = [];
    const raw: Partial<Record<PartName, unknown>> = {};
    const bad = new Set<PartName>();
    for (const [i, part] of parts.entries()) {
      const text = values[i];
      if (text === null || text === undefined) continue;
      const json = parseJson(text, this.key(PART_KEYS[part]), problems);
      if (json.ok) raw[part] = json.value;
      else bad.add(part);
    }
    const { state, damaged } = parseParts(raw, (p) => this.key(PART_KEYS[p]), problems);
    // Each damaged key is copied aside as it was; the next save writes its valid part over it.
    for (const part of new Set([...bad, ...damaged])) {
      const key = this.key(PART_KEYS[part]);
      const aside = `${key}:corrupt`;
      await this.redis.set(aside, values[parts.indexOf(part)] ?? '');
      for (const p of problems) if (p.where === key) p.setAsideTo = aside;
    }
    if (state.version !== undefined) this.#written = state.version;
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
      .set(this.key(REDIS_KEYS.preview), JSON.stringify(state.preview))
      .set(this.key(REDIS_KEYS.epoch), `${this.#node}:${state.version}`)
      .exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed) throw failed?.[0] ?? new Error('MULTI aborted');
    this.#written = state.version;
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
    this.#amnesiaListeners = [];
    if (this.#timer) clearInterval(this.#timer);
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
