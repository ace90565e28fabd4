import { mkdirSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ASSET_ID } from '../../shared/scene.js';

/**
 * Uploaded asset files, one per content hash under the storage folder. Writes go to a temp file,
 * are fsynced and renamed into place, so a file under its id is always whole.
 */
export class AssetFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * The file of asset `id`.
   * @throws Error for anything but a 64-hex id (callers validate first; this is the last guard)
   */
  path(id: string): string {
    if (!ASSET_ID.test(id)) throw new Error(`not an asset id: ${id}`);
    return join(this.dir, id);
  }

  async exists(id: string): Promise<boolean> {
    return stat(this.path(id)).then(() => true, () => false);
  }

  async write(id: string, bytes: Buffer): Promise<void> {
    const target = this.path(id);
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, target);
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }
}
