import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ASSET_ID } from '../../shared/scene.js';

/** Sub-folder of the storage folder where uploads are received (one temp folder each); emptied at every start. */
const INCOMING = '.incoming';
/** A temp file of {@link AssetFiles.write} (`<id>.tmp-<pid>-<ms>`) that a kill -9 left behind. */
const STRAY_TMP = /^[a-f0-9]{64}(\.poster\.jpg)?\.tmp-/;

/**
 * Uploaded asset files, one per content hash under the storage folder (a video's poster frame
 * beside it, `<id>.poster.jpg`). Writes go to a temp file, are fsynced and renamed into place,
 * so a file under its id is always whole. Uploads are received under `.incoming/` in the same
 * folder (same file system: a received video is renamed into place, not copied); what a killed
 * process left there, or half-written temp files, are removed when this is constructed (at start).
 */
export class AssetFiles {
  readonly dir: string;
  readonly #incoming: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.#incoming = join(this.dir, INCOMING);
    mkdirSync(this.dir, { recursive: true });
    rmSync(this.#incoming, { recursive: true, force: true });
    for (const name of readdirSync(this.dir)) if (STRAY_TMP.test(name)) rmSync(join(this.dir, name), { force: true });
    mkdirSync(this.#incoming);
  }

  /**
   * The file of asset `id`.
   * @throws Error for anything but a 64-hex id (callers validate first; this is the last guard)
   */
  path(id: string): string {
    if (!ASSET_ID.test(id)) throw new Error(`not an asset id: ${id}`);
    return join(this.dir, id);
  }

  /** The poster frame (JPEG) of video asset `id`. @throws as `path` */
  posterPath(id: string): string {
    return `${this.path(id)}.poster.jpg`;
  }

  async exists(id: string): Promise<boolean> {
    return stat(this.path(id)).then(
      () => true,
      () => false,
    );
  }

  /** A new empty folder for one upload, under the storage folder; the caller removes it whatever happens. */
  async receiveDir(): Promise<string> {
    mkdirSync(this.#incoming, { recursive: true });
    return mkdtemp(join(this.#incoming, 'up-'));
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

  /**
   * Moves a received (already fsynced) video and its poster into place as asset `id`: the poster
   * first, so a video under its id always has one.
   */
  async adoptVideo(id: string, file: string, poster: string): Promise<void> {
    await rename(poster, this.posterPath(id));
    await rename(file, this.path(id));
  }

  /** Moves a received audio file into place (no poster). */
  async adoptAudio(id: string, file: string): Promise<void> {
    await rename(file, this.path(id));
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
    await rm(this.posterPath(id), { force: true });
  }
}
