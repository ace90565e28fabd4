import type { PersistedState } from '../../shared/state-doc.js';

/** One problem found while loading: where (file path or Redis key), which field, what. */
export interface LoadProblem {
  where: string;
  path: string;
  message: string;
  /** Where the bad document was set aside, if it was. */
  setAsideTo?: string;
}

/**
 * What a store found. `state` has only the parts that were present and valid; missing parts mean
 * "use the defaults". `problems` lists what was invalid (already set aside).
 */
export interface LoadResult {
  state: Partial<PersistedState> | null;
  problems: LoadProblem[];
}

/** Live figures written at most once a second with a TTL (the `stream:metrics`, `system:*` keys). */
export interface MetricsSnapshot {
  stream: Record<string, number>;
  system: Record<string, number>;
  health: Record<string, string | number | boolean>;
}

/**
 * Where the state document lives. Writes are whole documents, so they are idempotent and a
 * retry after an outage simply writes the latest state.
 */
export interface StateStore {
  readonly kind: 'memory' | 'file' | 'redis';
  /** Reads and validates what is stored. Never throws for bad data: it reports and sets aside. */
  load(): Promise<LoadResult>;
  /**
   * Writes the whole document atomically (all or nothing).
   * @throws Error when the store cannot be written (the persister retries)
   */
  save(state: PersistedState): Promise<void>;
  /** Writes live figures with their TTLs; stores without TTLs ignore them. */
  saveMetrics(metrics: MetricsSnapshot): Promise<void>;
  /** False while the backing service is unreachable. */
  readonly connected: boolean;
  /** Called when the store comes back after being unreachable. */
  onReconnect(listener: () => void): void;
  /**
   * Called when the store is found to have lost what was written to it (Redis restarted empty):
   * the listener writes the whole state back. Stores that cannot tell leave it out.
   */
  onAmnesia?(listener: (reason: string) => void): void;
  close(): Promise<void>;
}
