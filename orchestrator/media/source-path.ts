import { join, resolve, sep } from 'node:path';
import { isLiveSrc, mediaSrcProblem } from '../../shared/media.js';
import { isAssetId } from '../../shared/asset-ref.js';

/** What a decoder reads for a video layer's `src`. */
export interface SourceInput {
  /** An absolute file path, or the live URL as given. */
  input: string;
  live: boolean;
}

/**
 * The decoder input of `src`, resolved the way images are (workers/images.ts): an uploaded asset's
 * id is its file under `assetStorage`, a path under `assets/` is resolved against `assetRoot` (the
 * folder that holds `assets/`), a live URL is used as given.
 * @throws Error when `src` fails shared/media.ts `mediaSrcProblem` or a path leaves the asset root
 *   (the API refuses both before a layer is stored; this is the last guard before a spawn)
 */
export function sourceInput(src: string, assetRoot: string, assetStorage: string): SourceInput {
  const problem = mediaSrcProblem(src);
  if (problem) throw new Error(problem);
  if (isAssetId(src)) return { input: join(resolve(assetStorage), src), live: false };
  if (!isLiveSrc(src)) {
    const root = resolve(assetRoot);
    const path = resolve(root, src);
    if (!path.startsWith(root + sep)) throw new Error(`Video path escapes the asset root: ${src}`);
    return { input: path, live: false };
  }
  return { input: src, live: true };
}
