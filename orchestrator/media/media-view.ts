import type { LayerView } from '../../shared/layer-view.js';
import type { MediaStatus } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';
import type { MediaControl } from './media-control.js';

/**
 * What a video layer reports when it has no source: MediaSources makes one for every video layer
 * as it is stored, unless its `src` cannot be opened (a stored state from elsewhere holding a
 * source the API refuses, a path leaving the asset root).
 */
export const MEDIA_STATUS_NONE: MediaStatus = Object.freeze({
  state: 'error',
  positionMs: 0,
  durationMs: null,
  width: 0,
  height: 0,
  fps: 0,
  lastError: 'This source cannot be opened',
});

/**
 * The layer as the API answers it: a video layer gets `media`, its source's status from `media`
 * (or {@link MEDIA_STATUS_NONE} when it has none); other layers come back as they are.
 */
export function viewLayer(layer: Layer, media: Pick<MediaControl, 'status'>): LayerView {
  if (layer.content.type !== 'video') return layer;
  return { ...layer, media: media.status(layer.id) ?? MEDIA_STATUS_NONE };
}

/** {@link viewLayer} for each layer, in order. */
export function viewLayers(layers: readonly Layer[], media: Pick<MediaControl, 'status'>): LayerView[] {
  return layers.map((l) => viewLayer(l, media));
}
