import { MediaStateSchema, type MediaState } from '../../shared/media.js';
import type { Metrics } from '../metrics/metrics.js';

/** What a video source reports to the metrics, per layer (`stream_manager_source_*`). */
export interface SourceMetrics {
  decoded(layer: string, frames: number): void;
  repeated(layer: string): void;
  dropped(layer: string, frames: number): void;
  cpu(layer: string, seconds: number): void;
  state(layer: string, state: MediaState): void;
  /** Forgets every series of `layer` (the layer was removed). */
  remove(layer: string): void;
}

/** {@link SourceMetrics} on an app's {@link Metrics}; none: a no-op. */
export function sourceMetrics(m: Metrics | undefined): SourceMetrics {
  if (!m) {
    const none = (): void => undefined;
    return { decoded: none, repeated: none, dropped: none, cpu: none, state: none, remove: none };
  }
  return {
    decoded: (layer, n) => n > 0 && m.sourceFramesDecoded.inc({ layer }, n),
    repeated: (layer) => m.sourceFramesRepeated.inc({ layer }),
    dropped: (layer, n) => n > 0 && m.sourceFramesDropped.inc({ layer }, n),
    cpu: (layer, s) => s > 0 && m.sourceCpu.inc({ layer }, s),
    state: (layer, state) => {
      for (const s of MediaStateSchema.options) m.sourceState.set({ layer, state: s }, s === state ? 1 : 0);
    },
    remove: (layer) => {
      m.sourceFramesDecoded.remove({ layer });
      m.sourceFramesRepeated.remove({ layer });
      m.sourceFramesDropped.remove({ layer });
      m.sourceCpu.remove({ layer });
      for (const state of MediaStateSchema.options) m.sourceState.remove({ layer, state });
    },
  };
}
