import { AppError } from '../../shared/errors.js';
import type { MediaStatus } from '../../shared/media.js';
import type { SceneStore } from '../scene/scene-store.js';
import type { MediaControl } from './media-control.js';

/**
 * The video layers of studio mode's preview scene: nothing is decoded off air (no ffmpeg runs for
 * them), so each reports itself cued, `paused` at its `startMs` with no picture, until a take puts
 * it on the program, where it starts from `startMs`. Media actions are accepted (a play/pause is
 * stored in the layer by the route) and change nothing else.
 */
export function cuedMedia(scene: SceneStore): Pick<MediaControl, 'status' | 'control'> {
  const status = (layerId: string): MediaStatus | undefined => {
    let layer;
    try {
      layer = scene.entry(layerId).layer;
    } catch {
      return undefined;
    }
    if (layer.content.type !== 'video') return undefined;
    return { state: 'paused', positionMs: layer.content.startMs, durationMs: null, width: 0, height: 0, fps: 0, lastError: null };
  };
  return {
    status,
    control(layerId) {
      const s = status(layerId);
      if (!s) {
        scene.entry(layerId); // SM_ERR_LAYER_NOT_FOUND when there is no such layer
        throw new AppError('SM_ERR_VALIDATION', `Layer "${layerId}" is not a video layer`);
      }
      return s;
    },
  };
}
