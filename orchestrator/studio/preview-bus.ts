import type { Logger } from 'pino';
import type { StreamConfig } from '../../shared/stream-config.js';
import type { RenderPool } from '../../pool/render-pool.js';
import type { ChatFeed } from '../chat/chat-feed.js';
import { PreviewEncoder, type PreviewSettings, type PreviewSink } from '../output/preview-encoder.js';
import type { BoundData } from '../render/bind-data.js';
import { FrameComposer } from '../render/frame-composer.js';
import { FramePool } from '../render/frame-pool.js';
import { LayerRenderer } from '../render/layer-renderer.js';
import type { SceneStore } from '../scene/scene-store.js';
import { OnDemandPreview } from './on-demand-preview.js';

/** Frame buffers of the preview bus: one in the making, one being encoded, and slack. */
const PREVIEW_FRAMES = 4;

/** Options of a {@link PreviewBus}. */
export interface PreviewBusOptions {
  pool: RenderPool;
  /** Studio mode's preview scene. */
  scene: SceneStore;
  /** The stream config now: the preview is composited on the program's canvas (size, background). */
  stream: () => StreamConfig;
  /** The canvas background as one premultiplied pixel now. */
  background: () => number;
  /** Scene time now, ms. */
  now: () => number;
  /** The live data for text placeholders (shared with the program). */
  data?: (() => BoundData) | undefined;
  /** The chat feed, so that chat layers show their lines off air too. */
  chat?: ChatFeed | undefined;
  settings: PreviewSettings;
  log: Logger;
}

/**
 * Studio mode's preview bus: the off-air preview scene composited on its own layer renderer and
 * frame buffers (never the program's), encoded as WS previews (`?target=preview&bus=preview`)
 * at the preview rate and widths, and only while a socket watches it: nobody watching, nothing
 * is rendered. Video layers are not decoded here (they start when taken, see docs/studio-mode.md):
 * the preview shows the rest of the scene. Tweens and show/hide transitions are not played off
 * air (a layer shows its end state).
 */
export class PreviewBus {
  readonly encoder: PreviewEncoder;
  readonly #composer: FrameComposer;
  readonly #renderer: LayerRenderer;
  readonly #runner: OnDemandPreview;
  readonly #o: PreviewBusOptions;
  #frames: FramePool;

  constructor(options: PreviewBusOptions) {
    this.#o = options;
    const log = options.log.child({ component: 'preview-bus' });
    this.#renderer = new LayerRenderer(options.pool, log);
    this.#composer = new FrameComposer({
      renderer: this.#renderer,
      scene: options.scene,
      data: options.data,
      motion: options.chat ? { chat: options.chat } : undefined,
      bands: options.pool,
      yuv: false,
    });
    this.#frames = this.#pool();
    this.encoder = new PreviewEncoder(
      options.pool,
      options.settings,
      log,
      () => this.#frames,
      () => options.stream().targetFPS,
      'preview',
    );
    options.scene.on('change', (e) => {
      if (e.type === 'layerRemoved') this.#renderer.forget(e.layer.id);
      if (e.type === 'sceneReplaced') this.#renderer.forgetExcept(new Set(e.layers.map((l) => l.id)));
    });
    this.#runner = new OnDemandPreview({
      encoder: this.encoder,
      active: () => true,
      compose: () => this.compose(),
      release: (frame) => this.#frames.release(frame),
      // Nobody watches any more: its frame and layer buffers go (a preview nobody watches costs no memory).
      idle: () => {
        this.#frames = this.#pool();
        this.#renderer.forgetExcept(new Set());
      },
      log,
    });
  }

  /** Where the frames go (the WS hub); null: none are made. */
  set sink(sink: PreviewSink | null) {
    this.encoder.sink = sink;
  }

  /** Frame buffers its pool holds now (0 while nobody has watched since it last went idle). */
  get framesAllocated(): number {
    return this.#frames.allocated;
  }

  /** Frames composed so far. */
  get made(): number {
    return this.#runner.made;
  }

  /**
   * One frame of the preview scene at scene time now, with a reference the caller owns (give it
   * back with the pool it came from: frames of a canvas size that changed meanwhile are dropped).
   * @returns null when no frame buffer is free
   */
  compose(): Promise<ReturnType<FramePool['acquire']>> {
    const canvas = this.#o.stream();
    if (canvas.width !== this.#frames.width || canvas.height !== this.#frames.height) {
      this.#renderer.invalidate();
      this.#frames = this.#pool();
    }
    return this.#composer.composite(this.#frames, canvas, this.#o.background(), this.#o.now());
  }

  /**
   * Forgets the rendered pixels of these preview layers (their asset was deleted): the next render
   * of each reads its assets again, and fails when one is gone, as the program's do.
   */
  forgetLayerPixels(ids: readonly string[]): void {
    for (const id of ids) this.#renderer.forget(id);
  }

  /** Stops rendering. */
  close(): void {
    this.#runner.close();
  }

  #pool(): FramePool {
    const { width, height } = this.#o.stream();
    // No buffer until the first frame: a preview bus nobody watches costs no memory.
    return new FramePool(width, height, PREVIEW_FRAMES, 0);
  }
}
