import type { StreamConfig } from '../../shared/stream-config.js';
import type { Metrics } from '../metrics/metrics.js';
import type { LayerEntry, SceneStore } from '../scene/scene-store.js';
import type { Animator } from '../animation/animator.js';
import type { ChatFeed } from '../chat/chat-feed.js';
import type { SceneSwitcher } from '../scene/scene-switcher.js';
import { blendLayer, clearFrame, mixFrames, type CompositeLayer } from './compositor.js';
import type { Frame, FramePool } from './frame-pool.js';
import type { LayerRenderer } from './layer-renderer.js';
import { bindData, type BoundData } from './bind-data.js';
import { DamageTracker } from './damage.js';
import { i420Bytes, rgbaToI420 } from '../../shared/yuv.js';

/** What moves the scene between changes: tweens and transitions, the chat feed, scene crossfades. */
export interface Motion {
  animator?: Animator;
  chat?: ChatFeed;
  scenes?: SceneSwitcher;
}

/** Options of a {@link FrameComposer}. */
export interface FrameComposerOptions {
  renderer: LayerRenderer;
  scene: SceneStore;
  metrics?: Metrics | undefined;
  /** The live data for text placeholders; none: placeholders stay as written. */
  data?: (() => BoundData) | undefined;
  motion?: Motion | undefined;
  /** Also fill each frame's I420 copy (`frame.yuv`) for the encoders; default true. */
  yuv?: boolean | undefined;
}

/** True when an opaque layer at opacity 1 covers the whole `width` x `height` frame. */
function coversFrame(layer: CompositeLayer | undefined, width: number, height: number): boolean {
  if (!layer || !layer.opaque || layer.opacity !== 1) return false;
  const b = layer.bounds;
  return b.x <= 0 && b.y <= 0 && b.x + b.width >= width && b.y + b.height >= height;
}

/** Fills `frame` with the background (unless the bottom layer hides it) and blends `layers` over it. */
function paint(frame: Frame, canvas: StreamConfig, background: number, layers: readonly CompositeLayer[]): void {
  if (!coversFrame(layers[0], canvas.width, canvas.height)) clearFrame(frame.words, background);
  for (const layer of layers) blendLayer(frame.words, canvas.width, canvas.height, layer);
}

/**
 * Makes one frame: resolves the scene at the frame time (data, chat, animations), brings the
 * layers up to date on the render pool, then composites them bottom to top over the background
 * into a pooled frame buffer. During a scene crossfade the outgoing scene is composited into a
 * second pooled frame and mixed in. Calls run one at a time, since every layer buffer has one
 * writer (see shared/frame-layout.ts).
 */
export class FrameComposer {
  /**
   * The last frame's stage times, ms: bringing layers up to date on the pool, compositing, and
   * converting the damaged part to I420 (plus copying it into the frame).
   */
  readonly timing = { renderMs: 0, compositeMs: 0, convertMs: 0 };
  /** The I420 picture of the last frame, kept up to date by converting only what changed. */
  #yuv: Uint8Array = new Uint8Array(0);
  readonly #damage = new DamageTracker();
  #chain: Promise<unknown> = Promise.resolve();
  /** The last frame had a crossfade (its outgoing layers' buffers are freed when it ends). */
  #fading = false;
  readonly renderer: LayerRenderer;
  readonly #o: FrameComposerOptions;

  constructor(options: FrameComposerOptions) {
    this.renderer = options.renderer;
    this.#o = options;
  }

  /**
   * Renders and composites the frame at scene time `timeMs`.
   * @param background the canvas colour as one premultiplied pixel
   * @returns a frame with one reference the caller owns, or null when the pool has no free buffer
   * @throws RenderQueueFullError when the render pool's queue was full
   */
  composite(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number): Promise<Frame | null> {
    const run = this.#chain.then(() => this.#compose(frames, canvas, background, timeMs));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The scene's layers as they look at `t` (`from`: a crossfade's outgoing layers instead of the scene's). */
  #resolve(t: number, canvas: StreamConfig, from?: readonly LayerEntry[]): readonly LayerEntry[] {
    const { scene, data, motion } = this.#o;
    let entries = from ?? scene.entries();
    if (data) entries = bindData(entries, data());
    if (from) return motion?.chat ? motion.chat.bind(entries, t) : entries;
    if (motion?.chat) entries = motion.chat.bind(entries, t);
    if (motion?.animator) entries = motion.animator.resolve(entries, t, canvas);
    return entries;
  }

  async #compose(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number): Promise<Frame | null> {
    const t0 = performance.now();
    const motion = this.#o.motion;
    motion?.animator?.sweep(timeMs);
    motion?.scenes?.sweep(timeMs);
    const entries = this.#resolve(timeMs, canvas);
    const fade = motion?.scenes?.at(timeMs) ?? null;
    if (this.#fading && !fade) this.renderer.forgetGhosts();
    this.#fading = fade !== null;
    const all = fade ? [...this.#resolve(timeMs, canvas, fade.entries), ...entries] : entries;
    const layers = await this.renderer.renderFrame(all, canvas, timeMs);
    const t1 = performance.now();
    const frame = frames.acquire();
    if (!frame) return null;
    if (fade) {
      // The outgoing scene into a second pooled frame, mixed under the new one; no free frame: a cut.
      const outgoing = frames.acquire();
      paint(frame, canvas, background, layers.filter((l) => !l.ghost));
      if (outgoing) {
        paint(outgoing, canvas, background, layers.filter((l) => l.ghost));
        mixFrames(frame.words, outgoing.words, fade.mix);
        frames.release(outgoing);
      }
    } else {
      paint(frame, canvas, background, layers);
    }
    frame.timeMs = timeMs;
    const t2 = performance.now();
    if (this.#o.yuv !== false) this.#toYuv(frame, layers, canvas, background, fade !== null);
    this.timing.renderMs = t1 - t0;
    this.timing.compositeMs = t2 - t1;
    this.timing.convertMs = performance.now() - t2;
    const metrics = this.#o.metrics;
    if (metrics) {
      metrics.frameTime.observe({ stage: 'render' }, this.timing.renderMs / 1000);
      metrics.frameTime.observe({ stage: 'composite' }, this.timing.compositeMs / 1000);
    }
    return frame;
  }

  /** Brings the I420 picture up to date with `frame` (only the damaged blocks) and copies it into the frame. */
  #toYuv(frame: Frame, layers: readonly CompositeLayer[], canvas: StreamConfig, background: number, whole: boolean): void {
    const { width, height } = canvas;
    const bytes = i420Bytes(width, height);
    if (this.#yuv.length !== bytes) {
      this.#yuv = new Uint8Array(bytes);
      this.#damage.reset();
    }
    const damage = this.#damage.update(layers, width, height, background, whole);
    if (damage === null) rgbaToI420(frame.words, width, height, { x0: 0, y0: 0, x1: width, y1: height }, this.#yuv);
    else for (const rect of damage) rgbaToI420(frame.words, width, height, rect, this.#yuv);
    frame.yuv.set(this.#yuv);
  }
}
