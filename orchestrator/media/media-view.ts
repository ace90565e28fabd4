import type { LayerView } from '../../shared/layer-view.js';
import type { MediaStatus } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';
import type { MediaControl } from './media-control.js';

/** What a video layer reports before its source exists (the decoder has not been set up yet). */
export const MEDIA_STATUS_UNKNOWN: MediaStatus = Object.freeze({
  state: 'loading',
  positionMs: 0,
  durationMs: null,
  width: 0,
  height: 0,
  fps: 0,
  lastError: null,
});

/**
 * The layer as the API answers it: a video layer gets `media`, its source's status from `media`
 * (or {@link MEDIA_STATUS_UNKNOWN} while there is none); other layers come back as they are.
 */
export function viewLayer(layer: Layer, media: Pick<MediaControl, 'status'> | undefined): LayerView {
  if (layer.content.type !== 'video') return layer;
  return { ...layer, media: media?.status(layer.id) ?? MEDIA_STATUS_UNKNOWN };
}

/** {@link viewLayer} for each layer, in order. */
export function viewLayers(layers: readonly Layer[], media: Pick<MediaControl, 'status'> | undefined): LayerView[] {
  return layers.map((l) => viewLayer(l, media));
}
