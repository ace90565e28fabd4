import type { Logger } from 'pino';
import type { StreamConfig } from '../../shared/stream-config.js';
import type { Metrics } from '../metrics/metrics.js';
import { FrameClock } from './frame-clock.js';
import type { FrameComposer } from './frame-composer.js';
import type { Frame, FramePool } from './frame-pool.js';
import type { FrameSink } from './frame-sink.js';
import type { FrameStats } from './frame-stats.js';
import { RenderQueueFullError } from './layer-renderer.js';

/** Frames in the making at once: a frame that runs past its interval overlaps the next (frame-composer.ts). */
export const MAX_MAKING = 2;
/**
 * Frame buffers drawn before a start's clock runs ({@link FrameProducer.warmUp}): those in use at
 * once in steady state, the frames in the making, the last frame, and one ffmpeg is reading.
 */
const WARM_FRAMES = MAX_MAKING + 2;

/** How long the last live frame took, ms: in all (render + composite + I420), and by stage. */
export interface FrameTimes {
  totalMs: number;
  renderMs: number;
  compositeMs: number;
  convertMs: number;
}

/** What a {@link FrameProducer} makes frames with and hands them to. */
export interface FrameProducerOptions {
  composer: FrameComposer;
  stats: FrameStats;
  /** The outputs (the output side implements it): every new frame, or the repeated last one, goes there. */
  sink: FrameSink;
  /** The frame pool, stream configuration and background pixel now (a new config replaces them). */
  frames(): FramePool;
  stream(): StreamConfig;
  background(): number;
  /**
   * Frames the main output may hold unread before a frame is dropped (`encoder_backpressure`);
   * at `low` encoder latency 1 whatever this says ({@link maxQueuedFrames}).
   */
  encoderMaxQueuedFrames: number;
  log: Logger;
  metrics?: Metrics;
  /** True when someone listens for frames; then `onFrame` gets each new one with its times (both reused after the call). */
  wantsFrames(): boolean;
  onFrame(frame: Frame, times: FrameTimes): void;
}

/**
 * The live side of the pipeline: at each frame clock tick, which frame to make and where it
 * goes. Exactly one frame goes to the output per frame interval: a new one, the held one while
 * paused, or a repeat of the last one when rendering ran late (counted as dropped). Up to
 * {@link MAX_MAKING} frames are in the making at once; a scene or data change makes the next
 * frame ahead of its tick (render ahead), at most one frame ahead of the clock. When the main
 * output cannot keep up ({@link FrameProducer.maxQueuedFrames} unread) the frame is dropped, never queued.
 */
export class FrameProducer {
  readonly #o: FrameProducerOptions;
  /** The running frame clock; null when stopped. */
  #clock: FrameClock | null = null;
  #last: Frame | null = null;
  /** The newest frame being made (it finishes after any older one), and how many are. */
  #inflight: Promise<void> | null = null;
  #making = 0;
  /** The last frame clock tick's frame number, and the highest frame number made (or being made). */
  #tickN = -1;
  #madeUpTo = -1;
  /** A change came while a frame was being made, or after the next frame was made ahead. */
  #changePending = false;
  #lastTick = -Infinity;
  /** Scene time of live frame 0, ms. */
  #startMs = 0;
  /** The times handed to `onFrame` (one object, reused). */
  readonly #times: FrameTimes = { totalMs: 0, renderMs: 0, compositeMs: 0, convertMs: 0 };

  constructor(options: FrameProducerOptions) {
    this.#o = options;
  }

  /** The last frame made (the producer holds one reference), or null. */
  get last(): Frame | null {
    return this.#last;
  }

  /**
   * Frames the main output may hold unread before the next is dropped: ENCODER_MAX_QUEUED_FRAMES,
   * or 1 when the stream's encoder runs at `low` latency (no frame then waits behind another
   * between the compositor and the encoder: a late encoder costs a dropped frame, not delay).
   */
  get maxQueuedFrames(): number {
    return this.#o.stream().encoder.latency === 'low' ? 1 : this.#o.encoderMaxQueuedFrames;
  }

  /** Settles when the newest frame in the making is done (null: none is). */
  get inflight(): Promise<void> | null {
    return this.#inflight;
  }

  /** ms since the frame clock last ticked (Infinity before the first tick). */
  msSinceTick(): number {
    return performance.now() - this.#lastTick;
  }

  /**
   * Goes live: draws the first frames ({@link warmUp}), primes the sink with the last, then
   * starts the frame clock at the stream's `targetFPS`: frame n is made at scene time
   * `startMs + n x frame interval`, where `startMs` is `now()` when the clock starts, so that
   * frames track scene time.
   */
  async start(now: () => number): Promise<void> {
    // Draw the frame buffers the first live frames take before the clock starts: first-time
    // image decodes, cold workers and a never-drawn buffer's whole-frame composite and I420
    // conversion (steady frames redraw only what changed) would otherwise make them late.
    await this.warmUp(WARM_FRAMES, now());
    if (this.#last) {
      // ffmpeg's own start-up, past its first frames, before the clock: they open the stream.
      const primed = await this.#o.sink.prime(this.#last);
      for (let i = 0; i < primed; i++) this.#o.stats.delivered(false);
    }
    this.#tickN = -1;
    this.#madeUpTo = -1;
    this.#changePending = false;
    this.#clock = new FrameClock(this.#o.stream().targetFPS, (n, skipped) => this.#tick(n, skipped));
    this.#startMs = now();
    this.#clock.start();
  }

  /** Stops the frame clock and waits for the frames in the making. */
  async stop(): Promise<void> {
    this.#clock?.stop();
    this.#clock = null;
    if (this.#inflight) await this.#inflight;
  }

  /**
   * The scene or the data changed: the next frame is made now rather than at its tick, unless one
   * is being made (then right after it) or the next is made already.
   */
  changed(): void {
    this.#renderAhead();
  }

  #renderAhead(): void {
    const sink = this.#o.sink;
    if (!this.#clock || !sink.ready || this.#o.stats.state.isPaused) return;
    const n = this.#tickN + 1;
    if (this.#making > 0 || n <= this.#madeUpTo) {
      this.#changePending = true;
      return;
    }
    if (this.#tickN < 0 || sink.queued >= this.maxQueuedFrames) return;
    this.#make(n);
  }

  /** Starts making frame `n`; a change that came meanwhile makes the next one ahead when it is done. */
  #make(n: number): void {
    this.#changePending = false;
    this.#madeUpTo = Math.max(this.#madeUpTo, n);
    this.#making++;
    const run: Promise<void> = this.#produce(n, this.#startMs + n * this.#clock!.intervalMs).finally(() => {
      this.#making--;
      if (this.#inflight === run) this.#inflight = null;
      if (this.#changePending && this.#making === 0) this.#renderAhead();
    });
    this.#inflight = run;
  }

  #tick(n: number, skipped: number): void {
    this.#lastTick = performance.now();
    this.#tickN = n;
    const sink = this.#o.sink;
    if (!sink.ready) {
      // The main output's ffmpeg is down and being restarted: the interval gets no frame, and nothing queues.
      this.#o.stats.drop('error', 1 + skipped);
      // The other outputs do not depend on the main one: they still get frames.
      if (sink.othersActive && this.#making === 0 && !this.#o.stats.state.isPaused) this.#make(n);
      else if (sink.othersActive && this.#last) sink.write(this.#last);
      return;
    }
    if (skipped > 0) this.#o.stats.drop('render_late', skipped);
    if (n <= this.#madeUpTo) {
      // Made ahead after a change (written already, or about to be): this interval is done.
      if (this.#changePending && this.#making === 0) this.#renderAhead();
      return;
    }
    if (sink.queued >= this.maxQueuedFrames) {
      this.#o.stats.drop('encoder_backpressure');
      return;
    }
    // The frame before still being made: make this one alongside (it renders while that one
    // composites, and is written after it); two already: this interval repeats the last frame.
    if (this.#o.stats.state.isPaused || this.#making >= MAX_MAKING) {
      if (!this.#o.stats.state.isPaused) this.#o.stats.drop('render_late');
      if (this.#last && sink.write(this.#last)) this.#o.stats.delivered(this.#o.stats.state.isPaused);
      return;
    }
    this.#make(n);
  }

  /** Makes frame `n`, at scene time `timeMs`, and hands it to the sink. */
  async #produce(n: number, timeMs: number): Promise<void> {
    const started = performance.now();
    let frame: Frame | null;
    try {
      frame = await this.compose(timeMs, true);
    } catch (err) {
      if (err instanceof RenderQueueFullError) {
        this.#o.stats.drop('render_queue_full');
      } else {
        this.#o.log.error({ err }, 'frame failed');
        this.#o.stats.drop('error');
      }
      return;
    }
    if (!frame) {
      this.#o.stats.drop('encoder_backpressure');
      return;
    }
    frame.index = n;
    const ms = performance.now() - started;
    this.#o.stats.renderTime(ms);
    if (this.#o.wantsFrames()) {
      const t = frame.times;
      Object.assign(this.#times, { totalMs: ms, renderMs: t.renderMs, compositeMs: t.compositeMs, convertMs: t.convertMs });
      this.#o.onFrame(frame, this.#times);
    }
    this.#o.metrics?.framesRendered.inc();
    this.setLast(frame);
    if (this.#o.sink.write(frame)) this.#o.stats.delivered(true);
    this.#o.sink.made(frame, started);
  }

  /**
   * One frame at scene time `timeMs`, from the composer; the caller owns the reference. Null: no
   * free buffer. `live`: a frame of the clock, which waits for slow layers only so long.
   */
  compose(timeMs: number, live = false): Promise<Frame | null> {
    return this.#o.composer.composite(this.#o.frames(), this.#o.stream(), this.#o.background(), timeMs, live);
  }

  /**
   * Before the clock starts: composites `count` frames at scene time `timeMs` at once, each into
   * its own buffer, and keeps the last as the last frame. A buffer never drawn costs a whole-frame
   * composite and I420 conversion (later frames redraw only what changed), and the first renders
   * decode images on cold workers; done here, the first live frames are not late. A buffer drawn
   * already (a second start) costs only what changed since.
   */
  async warmUp(count: number, timeMs: number): Promise<void> {
    const made = (await Promise.all(Array.from({ length: count }, () => this.compose(timeMs)))).filter((f): f is Frame => f !== null);
    const last = made.pop();
    for (const f of made) this.#o.frames().release(f);
    if (last) this.setLast(last);
  }

  /** Keeps `frame` (whose reference passes to us) as the last frame. */
  setLast(frame: Frame | null): void {
    if (this.#last) this.#o.frames().release(this.#last);
    this.#last = frame;
  }
}
