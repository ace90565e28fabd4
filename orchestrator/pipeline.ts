import { EventEmitter } from 'node:events';
import { endianness } from 'node:os';
import type { Logger } from 'pino';
import { premultipliedPixel } from '../shared/color.js';
import { AppError } from '../shared/errors.js';
import type { StreamConfig } from '../shared/stream-config.js';
import type { StreamState } from '../shared/stream-state.js';
import type { Metrics } from './metrics/metrics.js';
import type { OutputStatus } from '../shared/output-status.js';
import { redactOutput } from './output/encoder.js';
import { EncoderSupervisor, type OutputEvent, type RestartPolicy } from './output/encoder-supervisor.js';
import { GROUP_MAX_QUEUED_FRAMES } from './output/group-encoder.js';
import { OutputHub } from './output/output-hub.js';
import type { BoundData } from './render/bind-data.js';
import { isNetworkOutput, OutputPolicy } from './output/output-path.js';
import { ffprobeFor, RecordingJanitor } from './output/recording-check.js';
import { FrameComposer, type Motion } from './render/frame-composer.js';
import { MonotonicClock, type SceneClock } from './motion/scene-clock.js';
import { FramePool, type Frame } from './render/frame-pool.js';
import { FrameStats } from './render/frame-stats.js';
import { FrameProducer, MAX_MAKING, type FrameTimes } from './render/frame-producer.js';
import { LayerRenderer, type LayerFault } from './render/layer-renderer.js';
import { PreviewEncoder, type PreviewSettings, type PreviewSink } from './output/preview-encoder.js';
import type { RenderPool } from '../pool/render-pool.js';
import { encodeSnapshot } from './output/snapshot.js';
import type { SceneStore } from './scene/scene-store.js';

if (endianness() !== 'LE') throw new Error('Stream Manager needs a little-endian CPU (frame words are RGBA in LE order)');

export type { PreviewSink } from './output/preview-encoder.js';

export interface PipelineOptions {
  stream: StreamConfig;
  ffmpegPath: string;
  recordingsDir: string;
  /** OUTPUT_DIRS: folders besides `recordingsDir` that absolute file outputs may be written under. */
  outputDirs?: string[];
  /** Extra outputs' working files (HLS playlists and segments) go under it. */
  dataDir: string;
  encoderMaxQueuedFrames: number;
  /** How a dead or stalled ffmpeg is restarted while live. */
  restartPolicy: RestartPolicy;
  preview: PreviewSettings;
  scene: SceneStore;
  /** Live data for text placeholders (`PATCH /stream/data`). */
  data?: () => BoundData;
  pool: RenderPool;
  log: Logger;
  metrics?: Metrics;
  /** Scene time (default: monotonic from now); live frames are stamped on it. */
  clock?: SceneClock;
  /** Animations, chat and scene crossfades applied to every frame. */
  motion?: Motion;
}

export type { FrameTimes } from './render/frame-producer.js';

/** Frame buffers beyond the encoder queue: the last frame, those being made, a preview, a snapshot. */
const EXTRA_FRAMES = 3 + MAX_MAKING;
/**
 * Frame buffers drawn before a start's clock runs (frame-producer.ts `warmUp`): those in use at
 * once in steady state, the frames in the making, the last frame, and one ffmpeg is reading.
 */
const WARM_FRAMES = MAX_MAKING + 2;
/**
 * Copies of the first frame handed to ffmpeg before the clock starts, and how long a start waits
 * for it to read them, ms (encoder-supervisor.ts `prime`): the first is read before ffmpeg opens
 * its encoder and output, the second after.
 */
const PRIME_FRAMES = 2;
const PRIME_TIMEOUT_MS = 1000;
/**
 * Frame buffers the extra outputs' shared encoders may hold (up to 3 each, for up to 4 encode
 * groups). The pool allocates lazily, so these cost memory only while encoders lag.
 */
const OUTPUT_FRAMES = GROUP_MAX_QUEUED_FRAMES * 4;

/**
 * The live pipeline: frame clock -> layer renders on the pool -> compositor -> ffmpeg, plus
 * previews and snapshots. Exactly one frame goes to the output per frame interval: a new one,
 * the held one while paused, or a repeat of the last one when rendering ran late (counted as
 * dropped). When ffmpeg cannot keep up (`encoderMaxQueuedFrames` unread) the frame is dropped,
 * never queued without bound. Which frame each tick makes, render ahead and the drops are the
 * {@link FrameProducer}'s (render/frame-producer.ts); this class holds the control: start, stop,
 * pause, configuration, snapshots and outputs. Emits `state` on every change of live state and once a second, and
 * `frame` for each new live frame with the ms it took to produce and its stages; a `frame`
 * listener may read the frame and the times only during the call (both are reused).
 */
export class StreamPipeline extends EventEmitter<{ state: [StreamState]; layerFault: [LayerFault]; output: [OutputStatus & OutputEvent]; frame: [Frame, FrameTimes] }> {
  #o: PipelineOptions;
  #stream: StreamConfig;
  #renderer: LayerRenderer;
  readonly #composer: FrameComposer;
  #frames: FramePool;
  #stats: FrameStats;
  #bgPixel: number;
  #encoder: EncoderSupervisor | null = null;
  #sampler: NodeJS.Timeout | null = null;
  /** The main output's current or last recording (absolute path), or null. */
  #mainFile: string | null = null;
  readonly #preview: PreviewEncoder;
  /** The frame clock's side: which frame to make at each tick, and where it goes. */
  readonly #producer: FrameProducer;
  readonly #sceneClock: SceneClock;
  /** The extra outputs (`/stream/outputs`), fed the same composited frames as the main output. */
  readonly hub: OutputHub;
  /** Where file outputs may be written (RECORDINGS_DIR, OUTPUT_DIRS): every entry checks an output URL against it. */
  readonly outputPaths: OutputPolicy;
  /** Removes recordings an ffmpeg left unreadable when it exits. */
  readonly #janitor: RecordingJanitor;
  /** Serialises start/stop/restart so two admin calls never interleave. */
  #control: Promise<unknown> = Promise.resolve();

  /** Where preview frames go (the WebSocket hub); null: no previews are encoded. */
  set preview(sink: PreviewSink | null) {
    this.#preview.sink = sink;
  }

  constructor(options: PipelineOptions) {
    super();
    this.#o = options;
    this.#stream = options.stream;
    this.#renderer = new LayerRenderer(options.pool, options.log.child({ component: 'render' }), options.metrics, (fault) => this.emit('layerFault', fault));
    this.#sceneClock = options.clock ?? new MonotonicClock();
    this.#composer = new FrameComposer({ renderer: this.#renderer, scene: options.scene, metrics: options.metrics, data: options.data, motion: options.motion, bands: options.pool });
    this.#frames = this.#newPool();
    this.#stats = new FrameStats(options.stream.targetFPS, options.metrics);
    this.#bgPixel = premultipliedPixel(options.stream.background);
    this.#preview = new PreviewEncoder(options.pool, options.preview, options.log.child({ component: 'preview' }));
    this.outputPaths = new OutputPolicy(options.recordingsDir, options.outputDirs);
    this.#janitor = new RecordingJanitor(ffprobeFor(options.ffmpegPath), options.log.child({ component: 'recordings' }), () => options.metrics?.recordingsRemoved.inc());
    this.hub = new OutputHub({
      ffmpegPath: options.ffmpegPath,
      dataDir: options.dataDir,
      paths: this.outputPaths,
      onFileExit: (path) => void this.#janitor.afterExit(path),
      job: () => ({ width: this.#stream.width, height: this.#stream.height, fps: this.#stream.targetFPS, encoder: this.#stream.encoder }),
      pool: () => this.#frames,
      policy: options.restartPolicy,
      log: options.log.child({ component: 'outputs' }),
    });
    this.hub.on('output', (e) => this.emit('output', e));
    this.#producer = new FrameProducer({
      composer: this.#composer,
      stats: this.#stats,
      preview: this.#preview,
      hub: this.hub,
      frames: () => this.#frames,
      stream: () => this.#stream,
      background: () => this.#bgPixel,
      encoderMaxQueuedFrames: options.encoderMaxQueuedFrames,
      log: options.log,
      metrics: options.metrics,
      wantsFrames: () => this.listenerCount('frame') > 0,
      onFrame: (frame, times) => this.emit('frame', frame, times),
    });
    options.scene.on('change', (e) => {
      if (e.type === 'layerRemoved') this.#renderer.forget(e.layer.id);
      if (e.type === 'sceneReplaced') this.#renderer.forgetExcept(new Set(e.layers.map((l) => l.id)));
    });
  }

  /**
   * The scene or the data changed: the next frame is made now rather than at its tick (render
   * ahead), written to the outputs as soon as it is composited, and also previewed at once. At
   * most one frame ahead of the frame clock, so the outputs never run ahead of real time by more
   * than one frame interval; a change while a frame is being made waits for it to finish.
   */
  changed(): void {
    this.#preview.changed();
    this.#producer.changed();
  }

  /** A copy of the seeds' `StreamState`. */
  status(): StreamState {
    return { ...this.#stats.state };
  }

  /** The outputs and their states: `main` (the config's), then the extra ones; stream keys redacted. */
  outputs(): OutputStatus[] {
    return [this.#mainOutput(), ...this.hub.list()];
  }

  /**
   * The main output's status, from `e` (the running supervisor; the one sending an event, which
   * may not be `#encoder` yet while it starts). `file`: the recording being (or last) written.
   */
  #mainOutput(e: EncoderSupervisor | null = this.#encoder): OutputStatus {
    const url = e?.output ?? this.#stream.output.url;
    const p = e?.progress ?? null;
    if (e) this.#mainFile = e.file;
    return {
      id: 'main',
      url: url === null ? null : redactOutput(url),
      state: e?.state ?? 'stopped',
      restarts: e?.restarts ?? 0,
      lastError: e?.lastError ?? null,
      bytes: p?.totalSizeBytes ?? 0,
      bitrateBps: p && Number.isFinite(p.bitrateBps) ? p.bitrateBps : null,
      file: this.#mainFile,
    };
  }

  /**
   * Forgets the rendered pixels of these layers (their asset was deleted): the next render of
   * each reads its assets again, and fails (`layerError`) when one is gone.
   */
  forgetLayerPixels(ids: readonly string[]): void {
    for (const id of ids) this.#renderer.forget(id);
  }

  /** The current stream configuration. */
  get config(): StreamConfig {
    return this.#stream;
  }

  /** ms since the frame clock last ticked (Infinity before the first tick). */
  msSinceTick(): number {
    return this.#producer.msSinceTick();
  }

  /** Where the running encoder writes, or null. */
  get output(): string | null {
    return this.#encoder?.output ?? null;
  }

  /** The running ffmpeg's pid, or undefined. */
  get encoderPid(): number | undefined {
    return this.#encoder?.pid;
  }

  /** Render counts (layers rendered vs reused) and drops by reason. */
  get counters(): { rendered: number; reused: number; failed: number; dropped: FrameStats['dropped'] } {
    return { ...this.#renderer.stats, dropped: { ...this.#stats.dropped } };
  }

  /**
   * Goes live: spawns the encoder and starts the frame clock.
   * @throws AppError SM_ERR_STREAM_LIVE when live; SM_ERR_ENCODER when ffmpeg cannot start
   */
  start(): Promise<StreamState> {
    return this.#serial(async () => {
      if (this.#stats.state.isLive) throw new AppError('SM_ERR_STREAM_LIVE');
      await this.#startOutput();
      const s = this.#stats.state;
      s.isLive = true;
      s.isPaused = false;
      s.startTime = Date.now();
      s.error = null;
      this.#emit();
      return this.status();
    });
  }

  /**
   * Stops: ends the clock, lets ffmpeg flush and write its trailer.
   * @throws AppError SM_ERR_STREAM_NOT_LIVE
   */
  stop(): Promise<StreamState> {
    return this.#serial(async () => {
      if (!this.#stats.state.isLive) throw new AppError('SM_ERR_STREAM_NOT_LIVE');
      await this.#stopOutput();
      this.#markStopped();
      return this.status();
    });
  }

  /**
   * Holds the last frame in the output until `resume`.
   * @throws AppError SM_ERR_STREAM_NOT_LIVE, SM_ERR_STREAM_PAUSED
   */
  pause(): StreamState {
    const s = this.#stats.state;
    if (!s.isLive) throw new AppError('SM_ERR_STREAM_NOT_LIVE');
    if (s.isPaused) throw new AppError('SM_ERR_STREAM_PAUSED');
    s.isPaused = true;
    this.#emit();
    return this.status();
  }

  /** @throws AppError SM_ERR_STREAM_NOT_LIVE, SM_ERR_STREAM_NOT_PAUSED */
  resume(): StreamState {
    const s = this.#stats.state;
    if (!s.isLive) throw new AppError('SM_ERR_STREAM_NOT_LIVE');
    if (!s.isPaused) throw new AppError('SM_ERR_STREAM_NOT_PAUSED');
    s.isPaused = false;
    this.#emit();
    return this.status();
  }

  /** Stops if live, then zeroes the counters and clears the error. */
  reset(): Promise<StreamState> {
    return this.#serial(async () => {
      if (this.#stats.state.isLive) await this.#stopOutput();
      this.#stats.reset(this.#stream.targetFPS);
      this.#emit();
      return this.status();
    });
  }

  /**
   * Applies a new stream configuration. While live, a change of size, rate, encoder settings or
   * output restarts the encoder (the stream stays live; a file output goes on in a new file).
   */
  applyConfig(next: StreamConfig): Promise<StreamConfig> {
    return this.#serial(async () => {
      const prev = this.#stream;
      if (JSON.stringify(prev) === JSON.stringify(next)) return next;
      const restart =
        this.#stats.state.isLive &&
        (prev.width !== next.width ||
          prev.height !== next.height ||
          prev.targetFPS !== next.targetFPS ||
          JSON.stringify(prev.encoder) !== JSON.stringify(next.encoder) ||
          prev.output.url !== next.output.url);
      if (restart) await this.#stopOutput();
      this.#stream = next;
      this.#bgPixel = premultipliedPixel(next.background);
      this.#stats.state.targetFPS = next.targetFPS;
      if (prev.width !== next.width || prev.height !== next.height) {
        this.#renderer.invalidate();
        this.#producer.setLast(null);
        this.#frames = this.#newPool();
      }
      if (restart) await this.#startOutput();
      this.#emit();
      return this.#stream;
    });
  }

  /**
   * The last composited frame as PNG; when not live, the scene is rendered once for it, at the
   * scene clock's time now.
   * @param width downscale to this many pixels wide
   * @throws AppError SM_ERR_NO_FRAME when no frame buffer is free
   */
  async snapshot(width?: number): Promise<Buffer> {
    const inflight = this.#producer.inflight;
    if (inflight) await inflight;
    const last = this.#producer.last;
    let frame = last && this.#stats.state.isLive ? this.#frames.retain(last) : null;
    if (!frame) {
      frame = await this.#producer.compose(this.#sceneClock.now());
      if (!frame) throw new AppError('SM_ERR_NO_FRAME', 'No frame buffer is free; try again');
    }
    try {
      return await encodeSnapshot(frame, width);
    } finally {
      this.#frames.release(frame);
    }
  }

  /** Stops the stream if live (for shutdown). */
  async close(): Promise<void> {
    await this.#serial(async () => {
      if (this.#stats.state.isLive) {
        await this.#stopOutput();
        this.#markStopped();
      }
      this.#producer.setLast(null);
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#control.then(fn, fn);
    this.#control = run.catch(() => undefined);
    return run;
  }

  #newPool(): FramePool {
    return new FramePool(this.#stream.width, this.#stream.height, this.#o.encoderMaxQueuedFrames + EXTRA_FRAMES + OUTPUT_FRAMES);
  }

  async #startOutput(): Promise<void> {
    const s = this.#stream;
    const supervisor = new EncoderSupervisor({
      ffmpegPath: this.#o.ffmpegPath,
      job: () => ({ width: s.width, height: s.height, fps: s.targetFPS, encoder: s.encoder, output: this.outputPaths.resolveOutput(s.output.url) }),
      onExit: (output) => {
        if (!isNetworkOutput(output)) void this.#janitor.afterExit(output);
      },
      pool: () => this.#frames,
      policy: this.#o.restartPolicy,
      log: this.#o.log.child({ component: 'encoder' }),
      metrics: this.#o.metrics,
      onFailed: (message) => {
        void this.#serial(async () => {
          if (this.#encoder !== supervisor) return;
          await this.#stopOutput();
          this.#markStopped(message);
        });
      },
    });
    supervisor.on('output', (event) => {
      if (this.#encoder === supervisor || this.#encoder === null) this.emit('output', { ...this.#mainOutput(supervisor), ...event, state: event.state });
    });
    await supervisor.start();
    if (this.#stats.state.isLive) this.#o.metrics?.encoderRestarts.inc();
    this.#encoder = supervisor;
    // Draw the frame buffers the first live frames take before the clock starts: first-time
    // image decodes, cold workers and a never-drawn buffer's whole-frame composite and I420
    // conversion (steady frames redraw only what changed) would otherwise make them late.
    await this.#producer.warmUp(WARM_FRAMES, this.#sceneClock.now());
    const first = this.#producer.last;
    if (first) {
      // ffmpeg's own start-up, past its first frames, before the clock: they open the stream.
      const primed = await supervisor.prime(first, PRIME_FRAMES, PRIME_TIMEOUT_MS);
      for (let i = 0; i < primed; i++) this.#stats.delivered(false);
    }
    this.hub.goLive();
    // Frame n is at scene time startMs + n x interval: the frame clock starts now, so frames track scene time.
    this.#producer.start(supervisor, this.#sceneClock.now());
    this.#stats.openWindow();
    this.#sampler = setInterval(() => {
      this.#stats.sample();
      this.#emit();
    }, 1000);
  }

  async #stopOutput(): Promise<void> {
    const stopping = this.#producer.stop();
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
    await stopping;
    const encoder = this.#encoder;
    this.#encoder = null;
    await Promise.all([encoder?.stop(), this.hub.stopAll()]);
  }

  #markStopped(error: string | null = null): void {
    const s = this.#stats.state;
    s.isLive = false;
    s.isPaused = false;
    s.fps = 0;
    s.startTime = null;
    if (error) s.error = error;
    this.#emit();
  }

  #emit(): void {
    this.emit('state', this.status());
  }

}
