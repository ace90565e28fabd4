import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { Layer } from '../../shared/scene.js';

/** The asset paths a layer reads (image `src`, character `modelUrl`), with their field names. */
export function assetRefs(layer: Layer): { path: string; field: string }[] {
  const c = layer.content;
  if (c.type === 'image') return [{ path: c.src, field: 'content.src' }];
  if (c.type === 'character') return [{ path: c.modelUrl, field: 'content.modelUrl' }];
  return [];
}

/**
 * A scene-store check refusing layers whose asset files do not exist under `assetRoot`, so a
 * typo is a 400 at the API, not a render error on every frame.
 * @throws AppError SM_ERR_ASSET_NOT_FOUND
 */
export function assetsExist(assetRoot: string): (layer: Layer) => void {
  const root = resolve(assetRoot);
  return (layer) => {
    for (const ref of assetRefs(layer)) {
      if (!existsSync(resolve(root, ref.path))) {
        throw new AppError('SM_ERR_ASSET_NOT_FOUND', `No asset at "${ref.path}"`, [{ path: ref.field, message: 'No such file under assets/' }]);
      }
    }
  };
}
