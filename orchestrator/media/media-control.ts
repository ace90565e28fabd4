import type { MediaAction, MediaStatus } from '../../shared/media.js';

/**
 * What the HTTP routes, the WS broadcasts and the scene library see of the video sources
 * (issue 29's contract between the decoding side and the control surface). Implemented by
 * `MediaSources` (media-sources.ts), one per program.
 */
export interface MediaControl {
  /** The source of video layer `layerId` as reported in the layer's `media`; undefined when it is not a video layer. */
  status(layerId: string): MediaStatus | undefined;
  /**
   * Applies a media action to video layer `layerId` at scene time now. `play`/`pause` change
   * the transport only; the caller stores `content.playing` so that the change survives a restart.
   * @returns the source's status after the action
   * @throws AppError SM_ERR_LAYER_NOT_FOUND when there is no such layer, SM_ERR_VALIDATION when it is not a video layer
   */
  control(layerId: string, action: MediaAction): MediaStatus;
  /** Starts the files of `layerIds` again from their `startMs` (a scene activation). */
  restartAll(layerIds: readonly string[]): void;
  /** Calls `listener` on every change of a source's state (WS `mediaUpdate`); returns the unsubscribe. */
  onUpdate(listener: (layerId: string, status: MediaStatus) => void): () => void;
  /** Calls `listener` when a non-looping file reaches its end (WS `mediaEnded`); returns the unsubscribe. */
  onEnded(listener: (layerId: string, status: MediaStatus) => void): () => void;
}
