import type { LayerEntry } from '../scene/scene-store.js';

/**
 * A decoded picture of a video layer, ready to composite: a view of a SharedArrayBuffer from
 * offset 0 (workers composite bands straight from it), premultiplied RGBA words, `width` per row.
 */
export interface VideoFrame {
  pixels: Uint32Array;
  width: number;
  height: number;
  /** Where the picture sits relative to the layer's transform `x`,`y` (a contained picture is centred in its box), pixels. */
  offsetX: number;
  offsetY: number;
  /** Every pixel has alpha 255. */
  opaque: boolean;
  /** Changes whenever the picture shown changes (damage tracking). */
  generation: number;
}

/**
 * Where the layer renderer gets video layers' pictures (the render pool never draws them). The
 * media side (orchestrator/media/media-sources.ts) implements it; render/ only declares it, as
 * it does the FrameSink.
 */
export interface VideoFrames {
  /**
   * The picture of video layer `entry` for frame `seq` at scene time `timeMs`, or null (no picture
   * yet, or hidden at its end). Never waits. The picture stays unchanged until
   * {@link composited} reports `seq` done.
   * @param live a live frame (counts repeats; a picture size change waits to be stable)
   */
  frame(entry: LayerEntry, timeMs: number, seq: number, live: boolean): VideoFrame | null;
  /**
   * Off the clock (snapshots, the first frame): waits, a bounded time, until the pictures of
   * `entries` at `timeMs` are decoded (or will not be: live feeds, errors, the end).
   */
  settle(entries: readonly LayerEntry[], timeMs: number): Promise<void>;
  /** Frame `seq` and every one before it have been composited: their pictures may be overwritten. */
  composited(seq: number): void;
  /** A crossfade ended: pictures kept for its outgoing layers are no longer needed. */
  forgetGhosts(): void;
}
