import { mkdirSync } from 'node:fs';
import { copyFile, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistedState } from '../../shared/state-doc.js';
import { parseParts } from './load-parts.js';
import type { LoadResult, StateStore } from './store.js';
import { parseJson } from './validate-parts.js';

/** Name of the state document under `DATA_DIR`. */
export const STATE_FILE = 'state.json';

/** Prefix of the temp files a save writes before renaming one over the document. */
const TEMP_PREFIX = `${STATE_FILE}.tmp-`;

/**
 * The state as one JSON file under `dir`. Each save writes a temp file, fsyncs it, renames it over
 * the document and fsyncs the folder, so a crash at any point leaves the old or the new document,
 * never a torn one (rename is atomic on POSIX file systems). A save that fails (ENOSPC, EIO...)
 * removes its temp file; temp files a crash left behind are removed by `load` at start.
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
    await this.#removeStaleTemps();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, problems: [] };
      throw err;
    }
    const problems: LoadResult['problems'] = [];
    const json = parseJson(text, this.path, problems);
    const doc =
      json.ok && typeof json.value === 'object' && json.value !== null && !Array.isArray(json.value)
        ? (json.value as Record<string, unknown>)
        : null;
    if (json.ok && !doc) problems.push({ where: this.path, path: '', message: 'Expected a JSON object' });
    if (!doc) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      await rename(this.path, aside);
      for (const p of problems) p.setAsideTo = aside;
      return { state: null, problems };
    }
    // Keep every valid part and element; the file as it was is copied aside for whoever wants
    // the invalid bits back, and the next save writes the valid state over it.
    const { state } = parseParts(doc, () => this.path, problems);
    if (problems.length) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      await copyFile(this.path, aside);
      for (const p of problems) p.setAsideTo = aside;
    }
    return { state, problems };
  }

  async save(state: PersistedState): Promise<void> {
    const tmp = join(this.#dir, `${TEMP_PREFIX}${process.pid}-${this.#seq++}`);
    try {
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(JSON.stringify(state, null, 2) + '\n');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    const dir = await open(this.#dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async saveMetrics(): Promise<void> {}

  /** Removes `state.json.tmp-*` files a crash or an old version left behind. */
  async #removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      if (name.startsWith(TEMP_PREFIX)) await unlink(join(this.#dir, name)).catch(() => undefined);
    }
  }

  onReconnect(): void {}

  async close(): Promise<void> {}
}
