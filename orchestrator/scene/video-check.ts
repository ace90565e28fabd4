import { AppError } from '../../shared/errors.js';
import type { Layer } from '../../shared/scene.js';

/**
 * A scene-store check: a video layer may not be rotated (its decoder scales the picture to the
 * layer box; turning it is not supported), so `transform.rotation` must be absent or 0.
 * @throws AppError SM_ERR_VALIDATION
 */
export function videoLayerCheck(layer: Layer): void {
  if (layer.content.type !== 'video') return;
  const r = layer.transform.rotation;
  if (r !== undefined && r !== 0)
    throw new AppError('SM_ERR_VALIDATION', 'A video layer cannot be rotated', [
      { path: 'transform.rotation', message: 'Video layers do not support rotation: leave it out or set 0' },
    ]);
}
