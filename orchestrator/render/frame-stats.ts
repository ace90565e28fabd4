import { AppError } from '../../shared/errors.js';
import { initialStreamState, type StreamState } from '../../shared/stream-state.js';
import type { Metrics } from '../metrics/metrics.js';

/** Why a frame interval got no new frame (the `frames_dropped_total` metric's `reason` label). */
export type DropReason = 'render_late' | 'render_queue_full' | 'encoder_backpressure' | 'error';

/**
 * The stream's `StreamState`: whether it is live or paused, and its live figures: frames
 * delivered, dropped by reason, measured fps over the last window, and a moving average of
 * render + composite time.
 */
export class FrameStats {
  state: StreamState;
  readonly dropped: Record<DropReason, number> = { render_late: 0, render_queue_full: 0, encoder_backpressure: 0, error: 0 };
  #windowFrames = 0;
  #windowStart = performance.now();
  #sampler: NodeJS.Timeout | null = null;

  constructor(
    targetFPS: number,
    private readonly metrics?: Metrics,
  ) {
    this.state = initialStreamState(targetFPS);
  }

  /** Live from now on, not paused, no error. */
  markLive(): void {
    Object.assign(this.state, { isLive: true, isPaused: false, startTime: Date.now(), error: null });
  }

  /** Not live any more; `error` (when given) says why it stopped. */
  markStopped(error: string | null = null): void {
    Object.assign(this.state, { isLive: false, isPaused: false, fps: 0, startTime: null });
    if (error) this.state.error = error;
  }

  /**
   * Holds (`true`) or releases (`false`) the last frame in the output.
   * @throws AppError SM_ERR_STREAM_NOT_LIVE; SM_ERR_STREAM_PAUSED or SM_ERR_STREAM_NOT_PAUSED when already so
   */
  setPaused(paused: boolean): void {
    if (!this.state.isLive) throw new AppError('SM_ERR_STREAM_NOT_LIVE');
    if (this.state.isPaused === paused) throw new AppError(paused ? 'SM_ERR_STREAM_PAUSED' : 'SM_ERR_STREAM_NOT_PAUSED');
    this.state.isPaused = paused;
  }

  /** A frame went to the output; `fresh` is false for a repeated frame standing in for a late one. */
  delivered(fresh: boolean): void {
    this.state.frameCount++;
    this.metrics?.framesDelivered.inc();
    if (fresh) this.#windowFrames++;
  }

  drop(reason: DropReason, count = 1): void {
    this.dropped[reason] += count;
    this.state.droppedFrames += count;
    this.metrics?.framesDropped.inc({ reason }, count);
  }

  /** Folds one frame's render + composite time (ms) into the moving average (EMA, ~1 s window). */
  renderTime(ms: number): void {
    const alpha = 2 / (this.state.targetFPS + 1);
    const avg = this.state.averageRenderTime;
    this.state.averageRenderTime = avg === 0 ? ms : avg + alpha * (ms - avg);
  }

  /** Closes the measuring window: `fps` becomes fresh frames per second since the last call. */
  sample(now = performance.now()): void {
    const seconds = (now - this.#windowStart) / 1000;
    if (seconds > 0) this.state.fps = Math.round((this.#windowFrames / seconds) * 100) / 100;
    this.#windowFrames = 0;
    this.#windowStart = now;
  }

  /**
   * Back to a stopped state with zero counters: `fps` 0 and an empty measuring window (closing
   * the old window here would put the last second's frames back into `fps`).
   */
  reset(targetFPS: number): void {
    this.state = initialStreamState(targetFPS);
    for (const k of Object.keys(this.dropped) as DropReason[]) this.dropped[k] = 0;
    this.openWindow();
  }

  /**
   * While live: opens a new measuring window now, then closes one each second and calls `onSample`;
   * `null` stops that.
   */
  sampleEverySecond(onSample: (() => void) | null): void {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
    if (!onSample) return;
    this.openWindow();
    this.#sampler = setInterval(() => {
      this.sample();
      onSample();
    }, 1000);
  }

  /** Starts a new, empty measuring window (at a start, so that frames of an earlier run do not count). */
  openWindow(now = performance.now()): void {
    this.#windowFrames = 0;
    this.#windowStart = now;
  }
}
