import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Image, loadImage } from '@napi-rs/canvas';
import { isAssetId } from '../shared/scene.js';

interface Entry {
  image: Promise<Image>;
  /** Decoded size, width x height x 4 bytes (0 until decoded). */
  bytes: number;
}

/**
 * Decoded pictures of one worker thread, keyed by asset id or path, least recently used first
 * out once their decoded bytes pass `maxBytes`. `evict` forgets one (an asset was deleted).
 */
export class ImageCache {
  readonly #root: string;
  readonly #storage: string;
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  /**
   * @param assetRoot absolute folder that holds `assets/`
   * @param assetStorage absolute folder of uploaded assets
   * @param maxBytes decoded bytes to keep at most
   */
  constructor(assetRoot: string, assetStorage: string, maxBytes: number) {
    this.#root = resolve(assetRoot);
    this.#storage = resolve(assetStorage);
    this.#maxBytes = maxBytes;
  }

  /** Decoded bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The file of an asset id or path. @throws Error when a path leaves the asset root */
  pathOf(src: string): string {
    if (isAssetId(src)) return join(this.#storage, src);
    const path = resolve(this.#root, src);
    if (!path.startsWith(this.#root + sep)) throw new Error(`Asset path escapes the asset root: ${src}`);
    return path;
  }

  /**
   * The decoded picture of `src` (an asset id or a path under `assets/`).
   * @throws Error when the file is missing or does not decode
   */
  get(src: string): Promise<Image> {
    const hit = this.#entries.get(src);
    if (hit) {
      this.#entries.delete(src);
      this.#entries.set(src, hit);
      return hit.image;
    }
    const entry: Entry = { image: readFile(this.pathOf(src)).then((b) => loadImage(b)), bytes: 0 };
    this.#entries.set(src, entry);
    entry.image.then(
      (img) => {
        if (this.#entries.get(src) !== entry) return;
        entry.bytes = img.width * img.height * 4;
        this.#bytes += entry.bytes;
        this.#trim(src);
      },
      () => this.evict(src),
    );
    return entry.image;
  }

  /** True when `src` is held (loaded or loading). */
  has(src: string): boolean {
    return this.#entries.has(src);
  }

  /** Forgets `src`. */
  evict(src: string): void {
    const entry = this.#entries.get(src);
    if (!entry) return;
    this.#entries.delete(src);
    this.#bytes -= entry.bytes;
  }

  /** Drops least recently used pictures until under the bound, never the one just loaded. */
  #trim(keep: string): void {
    for (const key of this.#entries.keys()) {
      if (this.#bytes <= this.#maxBytes) break;
      if (key !== keep) this.evict(key);
    }
  }
}
