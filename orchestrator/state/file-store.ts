import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { PersistedStateSchema, type PersistedState } from '../../shared/state-doc.js';
import type { LoadResult, StateStore } from './store.js';
import { parseJson, parsePart } from './validate-parts.js';

/** Name of the state document under `DATA_DIR`. */
export const STATE_FILE = 'state.json';

/**
 * The state as one JSON file under `dir`. Each save writes a temp file, fsyncs it, renames it over
 * the document and fsyncs the folder, so a crash at any point leaves the old or the new document,
 * never a torn one (rename is atomic on POSIX file systems).
 */
export class FileStore implements StateStore {
  readonly kind = 'file';
  readonly connected = true;
  readonly path: string;
  readonly #dir: string;
  #seq = 0;

  /** @param dir folder for the document; created when missing */
  constructor(dir: string) {
    this.#dir = dir;
    this.path = join(dir, STATE_FILE);
    mkdirSync(dir, { recursive: true });
  }

  async load(): Promise<LoadResult> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, problems: [] };
      throw err;
    }
    const problems: LoadResult['problems'] = [];
    const json = parseJson(text, this.path, problems);
    const state = json.ok ? parsePart(PersistedStateSchema, json.value, this.path, problems) : undefined;
    if (state) return { state, problems };
    const aside = `${this.path}.corrupt-${Date.now()}`;
    await rename(this.path, aside);
    for (const p of problems) p.setAsideTo = aside;
    return { state: null, problems };
  }

  async save(state: PersistedState): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}-${this.#seq++}`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(JSON.stringify(state, null, 2) + '\n');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async saveMetrics(): Promise<void> {}

  onReconnect(): void {}

  async close(): Promise<void> {}
}
