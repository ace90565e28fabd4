import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { isLiveSrc } from '../../shared/media.js';
import { isAssetId, type Layer } from '../../shared/scene.js';
import type { AssetMeta } from '../../shared/state-doc.js';

/** A reference from a layer to an asset: the id or path, the field, and the kind it must be. */
export interface AssetRef {
  ref: string;
  field: string;
  kind: AssetMeta['kind'];
}

/**
 * What a layer reads: image `src`, character `modelUrl` and sprite sheets (asset ids or paths under `assets/`),
 * a video layer's `src` when it is not a live URL, and, when it is an asset id, a text or chat layer's `style.font`.
 */
export function assetRefs(layer: Layer): AssetRef[] {
  const c = layer.content;
  if (c.type === 'image') return [{ ref: c.src, field: 'content.src', kind: 'image' }];
  if (c.type === 'video') return isLiveSrc(c.src) ? [] : [{ ref: c.src, field: 'content.src', kind: 'video' }];
  if (c.type === 'audio') return isLiveSrc(c.src) ? [] : [{ ref: c.src, field: 'content.src', kind: 'audio' }];
  if (c.type === 'character') {
    const sheets = Object.entries(c.sprites ?? {}).flatMap(([name, sheet]) =>
      sheet ? [{ ref: sheet.src, field: `content.sprites.${name}.src`, kind: 'image' as const }] : [],
    );
    return [{ ref: c.modelUrl, field: 'content.modelUrl', kind: 'image' }, ...sheets];
  }
  if ((c.type === 'text' || c.type === 'chat') && isAssetId(c.style.font))
    return [{ ref: c.style.font, field: 'content.style.font', kind: 'font' }];
  return [];
}

/** Why `r` is not there, or null when it is: an uploaded asset of its kind, or a file (not a folder) under `root`. */
function missing(r: AssetRef, root: string, asset: (id: string) => AssetMeta | undefined): string | null {
  if (isAssetId(r.ref)) {
    const meta = asset(r.ref);
    if (!meta) return `No ${r.kind} asset "${r.ref}"`;
    return meta.kind === r.kind
      ? null
      : `Asset "${r.ref}" is ${meta.kind === 'image' ? 'an' : 'a'} ${meta.kind}, not ${r.kind === 'image' ? 'an' : 'a'} ${r.kind}`;
  }
  let isFile = false;
  try {
    isFile = statSync(resolve(root, r.ref)).isFile();
  } catch {
    // ENOENT, ENOTDIR (a file named as a folder), ENAMETOOLONG, EACCES: not there for us.
  }
  return isFile ? null : `No ${r.kind} file "${r.ref}"`;
}

/**
 * A scene-store check refusing layers whose assets do not exist: an uploaded asset of the right
 * kind (looked up with `asset`; an image's id in a video layer is refused, and so on), or a file
 * under `assetRoot`. Live video URLs are not checked here. A typo is a 400 at the API, not a
 * render error on every frame.
 *
 * With `previous` (the layer as stored before this change), a reference the layer already had
 * (same ref and kind) passes even when missing: after `DELETE /assets/:id?force=true` the layer
 * that used it can still be hidden, renamed, moved or given a new asset; only a change that
 * brings in a missing asset is refused. Such a layer renders as failed (`layerError`).
 * @throws AppError SM_ERR_ASSET_NOT_FOUND
 */
export function assetsExist(
  assetRoot: string,
  asset: (id: string) => AssetMeta | undefined = () => undefined,
): (layer: Layer, previous?: Layer) => void {
  const root = resolve(assetRoot);
  return (layer, previous) => {
    const had = new Set(previous ? assetRefs(previous).map((r) => `${r.kind}\u0000${r.ref}`) : []);
    for (const r of assetRefs(layer)) {
      if (had.has(`${r.kind}\u0000${r.ref}`)) continue;
      const problem = missing(r, root, asset);
      if (problem) {
        throw new AppError('SM_ERR_ASSET_NOT_FOUND', problem, [
          { path: r.field, message: `Expected an uploaded ${r.kind} asset id or a file under assets/` },
        ]);
      }
    }
  };
}
