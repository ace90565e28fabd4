import type { Logger } from 'pino';
import type { PreviewQuality } from '../../shared/ws-messages.js';
import type { Frame, FramePool } from './frame-pool.js';
import type { RenderPool } from './render-pool.js';

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
 * Turns every Nth composited frame (N = targetFPS / preview fps) into one JPEG per quality level
 * in use, on the render pool, and hands them to the sink. At most one preview is in flight: if
 * the pool is busy when the next one is due, that one is skipped rather than queued. The frame
 * is held (one reference) until every level is encoded.
 */
export class PreviewEncoder {
  sink: PreviewSink | null = null;
  #busy = false;

  constructor(
    private readonly pool: RenderPool,
    private readonly settings: PreviewSettings,
    private readonly log: Logger,
  ) {}

  /** Called with each new frame; `frames` is the pool the frame came from (for its reference). */
  offer(frame: Frame, frames: FramePool, targetFPS: number): void {
    const sink = this.sink;
    const every = Math.max(1, Math.round(targetFPS / this.settings.fps));
    if (!sink || this.#busy || frame.index % every !== 0) return;
    const levels = sink.previewQualities();
    if (!levels.length) return;
    this.#busy = true;
    frames.retain(frame);
    const { widths, quality } = this.settings;
    const timestamp = Date.now();
    void Promise.all(
      levels.map((level) =>
        this.pool
          .encodeImage({ frame: frame.buffer, width: frame.width, height: frame.height, targetWidth: widths[level], format: 'jpeg', quality })
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
