import type { StreamConfig } from '../../shared/stream-config.js';
import type { Metrics } from '../metrics/metrics.js';
import type { LayerEntry, SceneStore } from '../scene/scene-store.js';
import type { Animator } from '../motion/animator.js';
import type { ChatFeed } from '../chat/chat-feed.js';
import type { SceneSwitcher } from '../motion/scene-switcher.js';
import { mixFrames, type CompositeLayer } from '../../pixels/compositor.js';
import { bandCount, bandRows, compositeBand } from '../../pixels/composite-band.js';
import type { CompositeResult, CompositeTask } from '../../pool/messages.js';
import { resolveMatrix, type BlockRect, type YuvMatrix } from '../../pixels/yuv.js';
import type { Frame, FramePool } from './frame-pool.js';
import type { LayerRenderer } from './layer-renderer.js';
import { bindData, type BoundData } from './bind-data.js';
import { DamageHistory, DamageTracker } from './damage.js';

/** What moves the scene between changes: tweens and transitions, the chat feed, scene crossfades. */
export interface Motion {
  animator?: Animator;
  chat?: ChatFeed;
  scenes?: SceneSwitcher;
  /** Lip sync: sets each character layer with `lipSync` its `mouth` at scene time `t` (orchestrator/audio/). */
  lipSync?: { bind(entries: readonly LayerEntry[], t: number): readonly LayerEntry[] } | undefined;
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
  /**
   * Where bands of the frame are composited in parallel (the render pool, one band per thread);
   * none: the whole frame on this thread.
   */
  bands?: BandService | undefined;
}

/** Runs {@link CompositeTask}s: the render pool's `compositeBands` and its thread count. */
export interface BandService {
  /** Runs the bands of one stage in parallel; their times in order. */
  compositeBands(tasks: readonly CompositeTask[]): Promise<CompositeResult[]>;
  readonly threads: number;
}

/**
 * Frames in the making at once in a {@link FrameComposer}: frame n renders only once frame
 * n - PIPELINE_DEPTH has been composited, so with 3, frame n+2 may render while frame n+1 waits
 * to composite and frame n composites, and the render stage of the next frame need not wait for
 * the composite stage of this one. Each layer then has up to this many buffers (layer-slot.ts).
 */
export const PIPELINE_DEPTH = 3;

/** What one frame carries from its render stage to its composite stage. */
interface Rendered {
  layers: CompositeLayer[];
  fade: boolean;
  mix: number;
  renderMs: number;
}

/**
 * Makes frames in two stages. The render stage resolves the scene at the frame time (data, chat,
 * animations) and brings the layers up to date on the render pool; the composite stage
 * composites them bottom to top over the background into a pooled frame buffer, in bands run in
 * parallel on the pool (or whole on this thread), and brings the frame's I420 copy up to date
 * in the same tasks. During a scene crossfade the outgoing scene is composited into a second
 * pooled frame (its bands run alongside the new scene's) and mixed in on this thread.
 *
 * Frames pipeline: frame n+1 may render while frame n composites, since layer buffers are
 * multi-buffered (layer-renderer.ts); frame n + {@link PIPELINE_DEPTH} renders only once frame n
 * has been composited. Render stages run in call order, one at a time. Composite stages start in
 * call order (damage is tracked frame to frame) but may then run at once, each into its own frame
 * buffer, so one frame's bands can fill threads the bands of the frame before leave idle; frames
 * still resolve in call order. The scene is resolved when `composite` is called, so calls may
 * overlap and each frame still shows the scene as it was at its call.
 */
export class FrameComposer {
  /**
   * The last resolved frame's stage times, ms (each frame carries its own as `Frame.times`):
   * resolving the scene and bringing layers up to date on the pool (`renderMs`), compositing
   * (`compositeMs`, the band stage's wall time less `convertMs`) and converting the damaged part
   * to I420 plus copying it into the frame (`convertMs`: the slowest band's share; the bands run
   * in parallel).
   */
  readonly timing = { renderMs: 0, compositeMs: 0, convertMs: 0 };
  /** What changed from frame to frame, and over the last few frames (pooled buffers are redrawn only there). */
  readonly #damage = new DamageTracker();
  readonly #history = new DamageHistory();
  /** Per-row redraw cost, reused (height + 1 entries). */
  #cost = new Float64Array(0);
  #rendering: Promise<unknown> = Promise.resolve();
  /** The last frame called has ended (resolved or failed, after every frame before it). */
  #compositing: Promise<unknown> = Promise.resolve();
  /** The last frame called has started its composite stage (or failed before it). */
  #started: Promise<void> = Promise.resolve();
  /** Composite stages of the last {@link PIPELINE_DEPTH} frames called, oldest first (a new frame's render waits for the oldest). */
  readonly #composited: Array<Promise<unknown>> = Array.from({ length: PIPELINE_DEPTH }, () => Promise.resolve());
  /** Frames called so far: the sequence number of the last one. */
  #seq = 0;
  /** The last frame called had a crossfade (its outgoing layers' buffers are freed when it ends). */
  #fading = false;
  readonly renderer: LayerRenderer;
  readonly #o: FrameComposerOptions;

  constructor(options: FrameComposerOptions) {
    this.renderer = options.renderer;
    this.#o = options;
  }

  /**
   * Renders and composites the frame at scene time `timeMs`. Calls may overlap (see the class).
   * @param background the canvas colour as one premultiplied pixel
   * @param live a live frame: it waits for slow layers' renders only so long (layer-renderer.ts)
   * @returns a frame with one reference the caller owns, or null when the pool has no free buffer
   * @throws RenderQueueFullError when the render pool's queue was full
   */
  composite(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number, live = false): Promise<Frame | null> {
    const t0 = performance.now();
    const motion = this.#o.motion;
    let all: readonly LayerEntry[];
    let fade: ReturnType<SceneSwitcher['at']> = null;
    let forgetGhosts: boolean;
    try {
      motion?.animator?.sweep(timeMs);
      motion?.scenes?.sweep(timeMs);
      const entries = this.#resolve(timeMs, canvas);
      fade = motion?.scenes?.at(timeMs) ?? null;
      forgetGhosts = this.#fading && !fade;
      this.#fading = fade !== null;
      all = fade ? [...this.#resolve(timeMs, canvas, fade.entries), ...entries] : entries;
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const resolveMs = performance.now() - t0;
    const seq = ++this.#seq;

    const rendered = Promise.all([this.#rendering, this.#composited.shift()]).then(async (): Promise<Rendered> => {
      const t1 = performance.now();
      if (forgetGhosts) this.renderer.forgetGhosts();
      const layers = await this.renderer.renderFrame(all, canvas, timeMs, seq, live);
      return { layers, fade: fade !== null, mix: fade?.mix ?? 1, renderMs: resolveMs + performance.now() - t1 };
    });
    this.#rendering = rendered.catch(() => undefined);
    // The composite stage starts once the one before it has started (its damage and buffer
    // choices are made in order), even when this frame's render failed; it may then run
    // alongside that one, on another frame buffer.
    let began!: () => void;
    const start = this.#started;
    this.#started = new Promise<void>((resolve) => (began = resolve));
    const work = start
      .then(() => rendered)
      .then(
        (r) => {
          try {
            return this.#composite(frames, canvas, background, timeMs, r);
          } finally {
            began();
          }
        },
        (err: unknown) => {
          began();
          throw err;
        },
      );
    // Handled here and passed on below: it may fail before the frame before it has ended.
    work.catch(() => undefined);
    // Frames end in call order: one resolves, and its layer buffers are marked free, only after
    // the frame before it has.
    const done = this.#compositing
      .then(() => work)
      .then((frame) => {
        if (frame) Object.assign(this.timing, frame.times);
        return frame;
      })
      .finally(() => this.renderer.composited(seq));
    this.#compositing = done.catch(() => undefined);
    this.#composited.push(this.#compositing);
    return done;
  }

  /** The scene's layers as they look at `t` (`from`: a crossfade's outgoing layers instead of the scene's). */
  #resolve(t: number, canvas: StreamConfig, from?: readonly LayerEntry[]): readonly LayerEntry[] {
    const { scene, data, motion } = this.#o;
    let entries = from ?? scene.entries();
    if (data) entries = bindData(entries, data());
    if (from) return motion?.chat ? motion.chat.bind(entries, t) : entries;
    if (motion?.chat) entries = motion.chat.bind(entries, t);
    if (motion?.animator) entries = motion.animator.resolve(entries, t, canvas);
    if (motion?.lipSync) entries = motion.lipSync.bind(entries, t);
    return entries;
  }

  async #composite(frames: FramePool, canvas: StreamConfig, background: number, timeMs: number, r: Rendered): Promise<Frame | null> {
    const t1 = performance.now();
    const frame = frames.acquire();
    if (!frame) return null;
    const { width, height } = canvas;
    const wantYuv = this.#o.yuv !== false;
    // Chosen once per frame (pixels/yuv.ts); a canvas without encoder settings (a bare canvas) gets `auto`.
    const matrix = resolveMatrix(canvas.encoder?.colorMatrix ?? 'auto', height);
    let convertMs = 0;
    try {
      if (r.fade) {
        // The outgoing scene into a second pooled frame, mixed under the new one; no free frame: a cut.
        this.#damage.update(r.layers, width, height, background, true);
        this.#history.push(null);
        frame.drawnSeq = -1;
        const outgoing = frames.acquire();
        try {
          const incoming = this.#bands(
            frame,
            canvas,
            background,
            r.layers.filter((l) => !l.ghost),
            null,
            null,
          );
          if (outgoing) {
            outgoing.drawnSeq = -1;
            await Promise.all([
              incoming,
              this.#bands(
                outgoing,
                canvas,
                background,
                r.layers.filter((l) => l.ghost),
                null,
                null,
              ),
            ]);
            mixFrames(frame.words, outgoing.words, r.mix);
          } else await incoming;
        } finally {
          if (outgoing) frames.release(outgoing);
        }
        if (wantYuv) convertMs = await this.#bands(frame, canvas, background, null, null, matrix);
      } else {
        const seq = this.#history.push(this.#damage.update(r.layers, width, height, background, false));
        // The buffer still holds the frame it was last drawn with: redraw only what changed since
        // (all of it when its I420 was not drawn, or drawn with another matrix).
        const yuv = wantYuv ? matrix : null;
        const rects = frame.drawnBy === this && frame.yuvDrawn === yuv ? this.#history.since(frame.drawnSeq, width, height) : null;
        frame.drawnSeq = -1;
        convertMs = await this.#bands(frame, canvas, background, r.layers, rects, yuv);
        frame.drawnBy = this;
        frame.drawnSeq = seq;
        frame.yuvDrawn = yuv;
      }
    } catch (err) {
      frames.release(frame);
      throw err;
    }
    frame.timeMs = timeMs;
    const wall = performance.now() - t1;
    const times = frame.times;
    times.renderMs = r.renderMs;
    times.compositeMs = Math.max(0, wall - convertMs);
    times.convertMs = convertMs;
    const metrics = this.#o.metrics;
    if (metrics) {
      metrics.frameTime.observe({ stage: 'render' }, r.renderMs / 1000);
      metrics.frameTime.observe({ stage: 'composite' }, times.compositeMs / 1000);
    }
    return frame;
  }

  /** Pixels to redraw in each row of the frame (overlapping rectangles count twice). */
  #rowCost(rects: readonly BlockRect[], height: number): Float64Array {
    if (this.#cost.length !== height + 1) this.#cost = new Float64Array(height + 1);
    const c = this.#cost.fill(0);
    for (const r of rects) {
      c[r.y0]! += r.x1 - r.x0;
      c[r.y1]! -= r.x1 - r.x0;
    }
    for (let y = 1; y < height; y++) c[y]! += c[y - 1]!;
    return c;
  }

  /**
   * Composites `layers` into `frame` band by band, only inside `rects` (null: everything), and
   * with a `yuv` matrix converts the same pixels into the frame's I420 buffer with it (`layers`
   * null: the RGBA is drawn already, by a crossfade's mix; only convert). Returns the slowest
   * band's I420 time, ms.
   */
  async #bands(
    frame: Frame,
    canvas: StreamConfig,
    background: number,
    layers: readonly CompositeLayer[] | null,
    rects: readonly BlockRect[] | null,
    yuv: YuvMatrix | null,
  ): Promise<number> {
    const { width, height } = canvas;
    const service = this.#o.bands;
    const all = layers ?? [];
    const tasks: CompositeTask[] = [];
    let pixels = width * height;
    if (rects !== null) {
      pixels = 0;
      for (const r of rects) pixels += (r.x1 - r.x0) * (r.y1 - r.y0);
    }
    const count = bandCount(pixels, service ? service.threads : 1);
    for (const [rowStart, rowEnd] of bandRows(height, count, rects !== null && count > 1 ? this.#rowCost(rects, height) : undefined)) {
      const mine = rects === null ? null : rects.filter((r) => r.y0 < rowEnd && r.y1 > rowStart);
      if (mine !== null && mine.length === 0) continue;
      tasks.push({
        frame: frame.buffer,
        width,
        height,
        rowStart,
        rowEnd,
        rects: mine,
        paint: layers !== null,
        background,
        layers: all.filter((l) => l.bounds.y < rowEnd && l.bounds.y + l.bounds.height > rowStart),
        yuv: yuv ? (frame.yuv.buffer as SharedArrayBuffer) : null,
        matrix: yuv ?? 'bt601',
      });
    }
    const results = service ? await service.compositeBands(tasks) : tasks.map(compositeBand);
    let convertMs = 0;
    for (const res of results) convertMs = Math.max(convertMs, res.convertMs);
    return convertMs;
  }
}
