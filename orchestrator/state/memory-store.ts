import type { PersistedState } from '../../shared/state-doc.js';
import { parseParts } from './load-parts.js';
import type { LoadResult, MetricsSnapshot, StateStore } from './store.js';

/** Keeps the document in process memory (tests, throwaway runs). A deep copy goes in and out. */
export class MemoryStore implements StateStore {
  readonly kind = 'memory';
  readonly connected = true;
  /** The stored document as JSON text, or anything a test puts there. */
  raw: string | null = null;
  metrics: MetricsSnapshot | null = null;

  async load(): Promise<LoadResult> {
    if (this.raw === null) return { state: null, problems: [] };
    const problems: LoadResult['problems'] = [];
    let value: unknown;
    try {
      value = JSON.parse(this.raw);
    } catch (err) {
      return { state: null, problems: [{ where: 'memory', path: '', message: (err as Error).message }] };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.raw = null;
      return { state: null, problems: [{ where: 'memory', path: '', message: 'Expected a JSON object' }] };
    }
    const { state } = parseParts(value as Record<string, unknown>, () => 'memory', problems);
    return { state, problems };
  }

  async save(state: PersistedState): Promise<void> {
    this.raw = JSON.stringify(state);
  }

  async saveMetrics(metrics: MetricsSnapshot): Promise<void> {
    this.metrics = metrics;
  }

  onReconnect(): void {}

  async close(): Promise<void> {}
}
