import type { StreamConfig } from '../../shared/stream-config.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SceneStore } from '../scene/scene-store.js';
import { blendLayer, clearFrame, type CompositeLayer } from './compositor.js';
import type { Frame, FramePool } from './frame-pool.js';
import type { LayerRenderer } from './layer-renderer.js';
import { bindData, type BoundData } from './bind-data.js';

/** True when an opaque layer at opacity 1 covers the whole `width` x `height` frame. */
function coversFrame(layer: CompositeLayer | undefined, width: number, height: number): boolean {
  if (!layer || !layer.opaque || layer.opacity !== 1) return false;
  const b = layer.bounds;
  return b.x <= 0 && b.y <= 0 && b.x + b.width >= width && b.y + b.height >= height;
}

/**
 * Makes one frame: brings the scene's layers up to date on the render pool, then composites them
 * bottom to top over the background into a pooled frame buffer. Calls run one at a time, since
 * every layer buffer has one writer (see shared/frame-layout.ts).
 */
export class FrameComposer {
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly renderer: LayerRenderer,
    private readonly scene: SceneStore,
    private readonly metrics?: Metrics,
    /** The live data for text placeholders; none: placeholders stay as written. */
    private readonly data?: () => BoundData,
  ) {}

  /**
   * Renders and composites the frame at `timeMs` (ms since the stream started).
   * @param background the canvas colour as one premultiplied pixel
   * @returns a frame with one reference the caller owns, or null when the pool has no free buffer
   */
  composite(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number): Promise<Frame | null> {
    const run = this.#chain.then(() => this.#compose(frames, canvas, background, timeMs));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #compose(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number): Promise<Frame | null> {
    const t0 = performance.now();
    const entries = this.data ? bindData(this.scene.entries(), this.data()) : this.scene.entries();
    const layers = await this.renderer.renderFrame(entries, canvas, timeMs);
    const t1 = performance.now();
    const frame = frames.acquire();
    if (!frame) return null;
    // An opaque bottom layer covering the whole frame hides the background: skip the fill.
    if (!coversFrame(layers[0], canvas.width, canvas.height)) clearFrame(frame.words, background);
    for (const layer of layers) blendLayer(frame.words, canvas.width, canvas.height, layer);
    frame.timeMs = timeMs;
    if (this.metrics) {
      this.metrics.frameTime.observe({ stage: 'render' }, (t1 - t0) / 1000);
      this.metrics.frameTime.observe({ stage: 'composite' }, (performance.now() - t1) / 1000);
    }
    return frame;
  }
}
