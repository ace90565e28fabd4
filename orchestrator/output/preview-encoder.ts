import type { Logger } from 'pino';
import type { PreviewQuality } from '../../shared/ws-messages.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import type { RenderPool } from '../../pool/render-pool.js';

/** Where preview frames go (the WebSocket hub). */
export interface PreviewSink {
  /** Quality levels someone is watching at; empty: no preview is encoded. */
  previewQualities(): PreviewQuality[];
  /** One encoded preview frame. `timestamp`: ms since the Unix epoch. */
  pushPreview(quality: PreviewQuality, jpeg: Uint8Array, timestamp: number, frameIndex: number): void;
}

/** Preview rate (fps), width in pixels per quality level, JPEG quality 1..100. */
export interface PreviewSettings {
  fps: number;
  widths: Record<PreviewQuality, number>;
  quality: number;
}

/**
 * Turns every Nth composited frame (N = the stream's targetFPS / preview fps) into one JPEG per quality level
 * in use, on the render pool, and hands them to the sink. After a change to the scene or the
 * data ({@link changed}), the first frame composited after it is previewed at once rather than
 * at its turn, so an admin sees the change within about one frame interval plus the encode; such
 * early previews are at least half a preview interval apart, so the rate stays under twice the
 * preview fps. At most one preview is in flight: if the pool is busy when the next one is due,
 * that one is skipped rather than queued. The frame is held (one reference) until every level is
 * encoded.
 */
export class PreviewEncoder {
  sink: PreviewSink | null = null;
  #busy = false;
  /** When the oldest change not yet in a preview was made (`performance.now()`), or null. */
  #changedAt: number | null = null;
  /** When the last preview was started. */
  #lastAt = -Infinity;

  /**
   * @param frames the frame pool now (each frame's reference goes back to it)
   * @param targetFPS the stream's frame rate now
   */
  constructor(
    private readonly pool: RenderPool,
    private readonly settings: PreviewSettings,
    private readonly log: Logger,
    private readonly frames: () => FramePool,
    private readonly targetFPS: () => number,
  ) {}

  /** The scene or the data changed: preview the next frame that shows it without waiting for its turn. */
  changed(): void {
    this.#changedAt ??= performance.now();
  }

  /**
   * Called with each new frame.
   * @param startedAt when the frame's composition started (`performance.now()`), to tell whether it shows a change
   */
  offer(frame: Frame, startedAt: number): void {
    const sink = this.sink;
    if (!sink || this.#busy) return;
    const now = performance.now();
    const every = Math.max(1, Math.round(this.targetFPS() / this.settings.fps));
    const shows = this.#changedAt !== null && startedAt >= this.#changedAt;
    const early = shows && now - this.#lastAt >= 500 / this.settings.fps;
    if (frame.index % every !== 0 && !early) return;
    const levels = sink.previewQualities();
    if (!levels.length) return;
    if (shows) this.#changedAt = null;
    this.#lastAt = now;
    this.#busy = true;
    const frames = this.frames();
    frames.retain(frame);
    const { widths, quality } = this.settings;
    const timestamp = Date.now();
    void Promise.all(
      levels.map((level) =>
        this.pool
          .encodeImage({
            frame: frame.buffer,
            width: frame.width,
            height: frame.height,
            targetWidth: widths[level],
            format: 'jpeg',
            quality,
          })
          .then((jpeg) => sink.pushPreview(level, jpeg.data, timestamp, frame.index)),
      ),
    )
      .catch((err: unknown) => this.log.warn({ err }, 'preview frame failed'))
      .finally(() => {
        this.#busy = false;
        frames.release(frame);
      });
  }
}
