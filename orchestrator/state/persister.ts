import type { Logger } from 'pino';
import type { PersistedState } from '../../shared/state-doc.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StateStore } from './store.js';

/** Retry period while the store keeps failing, ms (a reconnect also triggers a write at once). */
const RETRY_MS = 1000;

/**
 * Writes the latest whole state document to the store, coalescing changes: at most one write is
 * in flight, and a change made meanwhile is written right after it. A failed write keeps the
 * state dirty and is retried (every second, and at once when the store reconnects); since
 * writes are whole documents, only the latest state is ever written. Nothing here blocks the
 * caller: the frame clock never waits on the store.
 */
export class Persister {
  readonly #store: StateStore;
  readonly #snapshot: () => PersistedState;
  readonly #log: Logger;
  #dirty = false;
  #writing: Promise<void> | null = null;
  #retry: NodeJS.Timeout | null = null;
  #failing = false;
  #closed = false;
  /** Writes done and failed, for metrics. */
  readonly counts = { writes: 0, failures: 0 };

  readonly #canWrite: () => boolean;

  /** @param canWrite false holds writes back (until the stored state has been read) */
  constructor(store: StateStore, snapshot: () => PersistedState, log: Logger, canWrite: () => boolean = () => true, private readonly metrics?: Metrics) {
    this.#store = store;
    this.#canWrite = canWrite;
    this.#snapshot = snapshot;
    this.#log = log;
    store.onReconnect(() => {
      if (this.#dirty) void this.flush();
    });
  }

  /** True when the store holds an older state than memory. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** True after a failed write, until one succeeds. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Notes a change; a write follows on the next turn of the event loop. */
  markDirty(): void {
    this.#dirty = true;
    if (!this.#writing && !this.#closed) setImmediate(() => void this.flush());
  }

  /** Writes now if dirty; resolves once memory and store agree or a write failed. */
  async flush(): Promise<void> {
    while (!this.#closed) {
      // A write already under way (started by markDirty) may hold an older document: wait for it.
      if (this.#writing) {
        await this.#writing;
        continue;
      }
      if (!this.#dirty || !this.#canWrite()) return;
      this.#dirty = false;
      const doc = this.#snapshot();
      this.#writing = this.#store.save(doc).then(
        () => {
          this.counts.writes++;
          this.metrics?.storeOps.inc({ op: 'save' });
          if (this.#failing) this.#log.info({ version: doc.version }, 'state written again after failures');
          this.#failing = false;
        },
        (err: unknown) => {
          this.counts.failures++;
          this.metrics?.storeOps.inc({ op: 'save' });
          this.metrics?.storeFailures.inc({ op: 'save' });
          this.#dirty = true;
          if (!this.#failing) this.#log.warn({ err, store: this.#store.kind }, 'state write failed; kept in memory, retrying');
          this.#failing = true;
          this.#scheduleRetry();
        },
      );
      await this.#writing;
      this.#writing = null;
      if (this.#failing) return;
    }
  }

  /** Stops retrying (after a last flush by the caller). */
  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.flush();
    }, RETRY_MS);
  }
}
