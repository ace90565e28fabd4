import type { Logger } from 'pino';
import type { PersistedState } from '../../shared/state-doc.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StateStore } from './store.js';

/** Retry period while the store keeps failing, ms (a reconnect also triggers a write at once). */
const RETRY_MS = 1000;

/** A caller waiting until a version is stored (see {@link Persister.durable}). */
interface Waiter {
  version: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Writes the latest whole state document to the store, coalescing changes (group commit): at most
 * one write is in flight, and every change made meanwhile goes into the next write, whose
 * success answers all of them at once (see {@link durable}). A failed write keeps the state
 * dirty and is retried (every second, and at once when the store reconnects); since writes are
 * whole documents, only the latest state is ever written. Nothing here blocks the frame clock:
 * the store's I/O is asynchronous, and only callers that asked to wait do.
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
  /** Version of the last document the store acknowledged. */
  #stored = -1;
  #waiters: Waiter[] = [];
  /** Writes done and failed, for metrics. */
  readonly counts = { writes: 0, failures: 0 };

  readonly #canWrite: () => boolean;

  /** @param canWrite false holds writes back (until the stored state has been read) */
  constructor(
    store: StateStore,
    snapshot: () => PersistedState,
    log: Logger,
    canWrite: () => boolean = () => true,
    private readonly metrics?: Metrics,
  ) {
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

  /** Version of the last document the store acknowledged (-1: none yet). */
  get storedVersion(): number {
    return this.#stored;
  }

  /** Notes that the store already holds `version` (what was just loaded from it). */
  markStored(version: number): void {
    this.#stored = Math.max(this.#stored, version);
  }

  /**
   * Resolves once a document of `version` or later is acknowledged by the store (file: written
   * and fsynced; Redis: EXEC returned). Changes made while a write is in flight share the next
   * write.
   * @throws Error (rejects) when the write that should carry it fails, or the persister closes
   */
  durable(version: number): Promise<void> {
    if (this.#stored >= version) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('the persister is closed'));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ version, resolve, reject });
      if (!this.#writing) this.markDirty();
    });
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
          this.#stored = Math.max(this.#stored, doc.version);
          this.#settle((w) => w.version <= doc.version, null);
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
          // Every waiter fails now, not at the next retry: the store is down, their answer is 503.
          this.#settle(() => true, err instanceof Error ? err : new Error(String(err)));
          this.#scheduleRetry();
        },
      );
      await this.#writing;
      this.#writing = null;
      if (this.#failing) return;
    }
  }

  /** Stops retrying (after a last flush by the caller); callers still waiting are rejected. */
  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#settle(() => true, new Error('the persister is closed'));
  }

  /** Resolves (err null) or rejects the waiters that `match`. */
  #settle(match: (w: Waiter) => boolean, err: Error | null): void {
    const done = this.#waiters.filter(match);
    if (!done.length) return;
    this.#waiters = this.#waiters.filter((w) => !match(w));
    for (const w of done)
      if (err) w.reject(err);
      else w.resolve();
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.flush();
    }, RETRY_MS);
  }
}
