import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { Image, loadImage } from '@napi-rs/canvas';

/**
 * Decoded pictures of one worker thread, keyed by asset path. A picture is decoded once and kept;
 * a later issue bounds this cache by bytes.
 */
export class ImageCache {
  readonly #root: string;
  readonly #images = new Map<string, Promise<Image>>();

  /** @param assetRoot absolute folder that holds `assets/` */
  constructor(assetRoot: string) {
    this.#root = resolve(assetRoot);
  }

  /**
   * The decoded picture at `src` (a path under `assets/`).
   * @throws Error when the path leaves the asset root, the file is missing or it does not decode
   */
  get(src: string): Promise<Image> {
    let image = this.#images.get(src);
    if (!image) {
      const path = resolve(this.#root, src);
      if (!path.startsWith(this.#root + sep)) throw new Error(`Asset path escapes the asset root: ${src}`);
      image = readFile(path).then((bytes) => loadImage(bytes));
      image.catch(() => this.#images.delete(src));
      this.#images.set(src, image);
    }
    return image;
  }
}
