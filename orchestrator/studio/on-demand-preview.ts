import type { Logger } from 'pino';
import type { PreviewEncoder } from '../output/preview-encoder.js';
import type { Frame } from '../render/frame-pool.js';

/** Options of an {@link OnDemandPreview}. */
export interface OnDemandPreviewOptions {
  /** Encodes and sends the frames (its bus, settings and sink); `settings.fps` is the rate, frames/s. */
  encoder: PreviewEncoder;
  /** Whether frames are to be made now (the program's: while the stream is not live; the preview scene's: always). */
  active: () => boolean;
  /** One frame of the scene now, with a reference the caller owns; null: no free buffer. */
  compose: () => Promise<Frame | null>;
  /** Gives a frame's reference back to its pool. */
  release: (frame: Frame) => void;
  /**
   * Called once when frames stop being wanted (nobody watches, or not `active()`) after some were
   * made, with no frame in the making: the owner may free what rendering holds (buffers).
   */
  idle?: () => void;
  log: Logger;
}

/**
 * Renders a scene for WS previews while nothing else does (the stream stopped, or studio mode's
 * off-air preview scene): every preview interval (1000 / PREVIEW_FPS ms), while `active()` and
 * someone watches the encoder's bus, one frame is composed and encoded at once. Nothing is
 * composed while nobody watches. At most one frame is in the making: a tick that finds the last
 * one unfinished is skipped, so a slow render lowers the rate instead of queueing.
 */
export class OnDemandPreview {
  readonly #o: OnDemandPreviewOptions;
  readonly #timer: NodeJS.Timeout;
  #busy = false;
  /** No frame has been made since the last `idle` call (or ever). */
  #idle = true;
  /** Frames composed so far (tests, metrics). */
  made = 0;

  constructor(options: OnDemandPreviewOptions) {
    this.#o = options;
    this.#timer = setInterval(() => this.tick(), Math.max(10, Math.round(1000 / Math.max(0.1, options.encoder.settings.fps))));
    this.#timer.unref();
  }

  /** Makes and sends one frame now if one is wanted and none is in the making (the timer calls it; so may a new viewer). */
  tick(): void {
    const o = this.#o;
    if (this.#busy) return;
    if (!o.active() || !o.encoder.watched()) {
      if (!this.#idle) {
        this.#idle = true;
        o.idle?.();
      }
      return;
    }
    this.#idle = false;
    this.#busy = true;
    o.compose()
      .then((frame) => {
        if (!frame) return;
        // Numbered in the order made (a composed frame carries no clock frame number; the frame is ours alone).
        frame.index = ++this.made;
        try {
          o.encoder.offer(frame, performance.now(), true);
        } finally {
          o.release(frame);
        }
      })
      .catch((err: unknown) => o.log.warn({ err }, 'on-demand preview frame failed'))
      .finally(() => {
        this.#busy = false;
      });
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}
