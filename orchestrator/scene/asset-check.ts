import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { isAssetId, type Layer } from '../../shared/scene.js';
import type { AssetMeta } from '../../shared/state-doc.js';

/** A reference from a layer to an asset: the id or path, the field, and the kind it must be. */
export interface AssetRef {
  ref: string;
  field: string;
  kind: AssetMeta['kind'];
}

/**
 * What a layer reads: image `src`, character `modelUrl` and sprite sheets (asset ids or paths under `assets/`) and,
 * when it is an asset id, a text or chat layer's `style.font`.
 */
export function assetRefs(layer: Layer): AssetRef[] {
  const c = layer.content;
  if (c.type === 'image') return [{ ref: c.src, field: 'content.src', kind: 'image' }];
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

/**
 * A scene-store check refusing layers whose assets do not exist: an uploaded asset of the right
 * kind (looked up with `asset`), or a file under `assetRoot`. A typo is a 400 at the API, not a
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
      const ok = isAssetId(r.ref) ? asset(r.ref)?.kind === r.kind : existsSync(resolve(root, r.ref));
      if (!ok) {
        throw new AppError('SM_ERR_ASSET_NOT_FOUND', `No ${r.kind} asset "${r.ref}"`, [
          { path: r.field, message: `Expected an uploaded ${r.kind} asset id or a file under assets/` },
        ]);
      }
    }
  };
}
