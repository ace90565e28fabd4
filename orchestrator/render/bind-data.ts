import { fillTemplate, hasPlaceholders, type DataValue } from '../../shared/data-binding.js';
import type { LayerEntry } from '../scene/scene-store.js';

/** The live data and the state version of its last change. */
export interface BoundData {
  values: Readonly<Record<string, DataValue>>;
  version: number;
}

/** Revisions stay below 2^32; the data version goes above, so (revision, data version) pairs never collide (within 2^53). */
const DATA_VERSION_STRIDE = 2 ** 32;

/**
 * The scene's entries with text placeholders filled from `data`. Only text layers with
 * placeholders get a new entry (with content filled in and a revision that also moves with the
 * data version, so the renderer looks again and re-renders when the text changed); the others are
 * passed through as they are.
 */
export function bindData(entries: readonly LayerEntry[], data: BoundData): readonly LayerEntry[] {
  let out: LayerEntry[] | null = null;
  entries.forEach((e, i) => {
    const c = e.layer.content;
    if (c.type !== 'text' || !hasPlaceholders(c.content)) return;
    out ??= [...entries];
    out[i] = {
      ...e,
      layer: { ...e.layer, content: { ...c, content: fillTemplate(c.content, data.values) } },
      revision: e.revision + data.version * DATA_VERSION_STRIDE,
    };
  });
  return out ?? entries;
}
