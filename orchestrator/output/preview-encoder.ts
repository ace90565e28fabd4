import type { Logger } from 'pino';
import type { PreviewQuality } from '../../shared/ws-messages.js';
import type { Bus } from '../../shared/studio.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import type { RenderPool } from '../../pool/render-pool.js';

/** Where preview frames go (the WebSocket hub). `bus`: studio mode's program (the default) or preview scene. */
export interface PreviewSink {
  /** Quality levels someone is watching `bus` at; empty: no preview of it is encoded. */
  previewQualities(bus?: Bus): PreviewQuality[];
  /** One encoded preview frame of `bus`. `timestamp`: ms since the Unix epoch. */
  pushPreview(quality: PreviewQuality, jpeg: Uint8Array, timestamp: number, frameIndex: number, bus?: Bus): void;
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
   * @param bus which of studio mode's scenes these frames show (the sink's sockets watching it get them)
   */
  constructor(
    private readonly pool: RenderPool,
    readonly settings: PreviewSettings,
    private readonly log: Logger,
    private readonly frames: () => FramePool,
    private readonly targetFPS: () => number,
    private readonly bus: Bus = 'program',
  ) {}

  /** True when some socket watches this encoder's bus. */
  watched(): boolean {
    return (this.sink?.previewQualities(this.bus).length ?? 0) > 0;
  }

  /** The scene or the data changed: preview the next frame that shows it without waiting for its turn. */
  changed(): void {
    this.#changedAt ??= performance.now();
  }

  /**
   * Called with each new frame.
   * @param startedAt when the frame's composition started (`performance.now()`), to tell whether it shows a change
   * @param due encode it whatever its index (a frame rendered on demand at the preview rate, see on-demand-preview.ts)
   */
  offer(frame: Frame, startedAt: number, due = false): void {
    const sink = this.sink;
    if (!sink || this.#busy) return;
    const now = performance.now();
    const every = Math.max(1, Math.round(this.targetFPS() / this.settings.fps));
    const shows = this.#changedAt !== null && startedAt >= this.#changedAt;
    const early = shows && now - this.#lastAt >= 500 / this.settings.fps;
    if (frame.index % every !== 0 && !early && !due) return;
    const levels = sink.previewQualities(this.bus);
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
          .then((jpeg) => sink.pushPreview(level, jpeg.data, timestamp, frame.index, this.bus)),
      ),
    )
      .catch((err: unknown) => this.log.warn({ err }, 'preview frame failed'))
      .finally(() => {
        this.#busy = false;
        frames.release(frame);
      });
  }
}
