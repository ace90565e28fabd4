import type { Logger } from 'pino';
import type { ServerConfig } from '../config/env.js';
import { FileStore } from './file-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { StateStore } from './store.js';

/** The store `STATE_STORE` names. Redis is not connected yet (see RedisStore.connect). */
export function createStore(config: ServerConfig['state'], log: Logger): StateStore {
  switch (config.store) {
    case 'memory':
      return new MemoryStore();
    case 'file':
      return new FileStore(config.dataDir);
    case 'redis':
      return new RedisStore(config.redisUrl, config.redisPrefix, log);
  }
}
