import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { premultipliedPixel } from '../shared/color.js';
import { AppError } from '../shared/errors.js';
import type { StreamConfig } from '../shared/stream-config.js';
import type { StreamState } from '../shared/stream-state.js';
import type { Metrics } from './metrics/metrics.js';
import type { OutputStatus } from '../shared/output-status.js';
import { mainOutputChanged } from './output/main-output.js';
import { OUTPUT_FRAMES, OutputHub } from './output/output-hub.js';
import type { BoundData } from './render/bind-data.js';
import { OutputPolicy } from './output/output-path.js';
import type { OutputEvent, RestartPolicy } from './output/supervised-output.js';
import { FrameComposer, type Motion } from './render/frame-composer.js';
import { MonotonicClock, type SceneClock } from './motion/scene-clock.js';
import { FramePool, type Frame } from './render/frame-pool.js';
import { FrameStats } from './render/frame-stats.js';
import { FrameProducer, MAX_MAKING, type FrameTimes } from './render/frame-producer.js';
import { LayerRenderer, type LayerFault } from './render/layer-renderer.js';
import type { PreviewSettings, PreviewSink } from './output/preview-encoder.js';
import type { RenderPool } from '../pool/render-pool.js';
import { takeSnapshot } from './output/snapshot.js';
import type { SceneStore } from './scene/scene-store.js';
import { programMedia, type MediaSources } from './media/media-sources.js';
import { programAudio, type ProgramAudio } from './audio/program-audio.js';
import type { WhepIceSettings } from './webrtc/whep-viewer.js';
import { OnDemandPreview } from './studio/on-demand-preview.js';
import { PreviewBus } from './studio/preview-bus.js';

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
  /** Studio mode's off-air preview scene: rendered for WS `bus=preview` viewers only (none: no preview bus). */
  previewScene?: SceneStore;
  /** Live data for text placeholders (`PATCH /stream/data`). */
  data?: () => BoundData;
  pool: RenderPool;
  log: Logger;
  metrics?: Metrics;
  /** Scene time (default: monotonic from now); live frames are stamped on it. */
  clock?: SceneClock;
  /** Animations, chat and scene crossfades applied to every frame. */
  motion?: Motion;
  /** Where video layers' files are: the folder holding `assets/`, and the uploaded assets' folder (default: both the working folder). */
  media?: { assetRoot: string; assetStorage: string; ffprobePath?: string; maxSources?: number; liveHosts?: readonly string[] };
  /** WHEP viewers of `webrtc` outputs: the most at once and their ICE settings (default: 20, interfaces' addresses, any port). */
  webrtc?: { maxViewers: number; ice: WhepIceSettings };
}

/** Frame buffers beyond the encoder queue: the last frame, those being made, a preview, a snapshot. */
const EXTRA_FRAMES = 3 + MAX_MAKING;

/**
 * The live pipeline: frame clock -> layer renders on the pool -> compositor -> the outputs
 * (ffmpeg), previews and snapshots. Which frame each tick makes, render ahead and the drops are
 * the {@link FrameProducer}'s (render/frame-producer.ts); the outputs, their encoders and the
 * preview are the {@link OutputHub}'s (output/output-hub.ts), which the producer sees only as a
 * `FrameSink`. This class wires them and holds the control: start, stop, pause, configuration
 * and snapshots. Emits `state` on every change of live state and once a second, `output` on
 * every output's state change, and `frame` for each new live frame with the ms it took to
 * produce and its stages; a `frame` listener may read the frame and the times only during the
 * call (both are reused).
 */
export class StreamPipeline extends EventEmitter<{
  state: [StreamState];
  layerFault: [LayerFault];
  output: [OutputStatus & OutputEvent];
  frame: [Frame, FrameTimes];
}> {
  #o: PipelineOptions;
  #stream: StreamConfig;
  #renderer: LayerRenderer;
  #frames: FramePool;
  #stats: FrameStats;
  #bgPixel: number;
  /** The frame clock's side: which frame to make at each tick, and where it goes. */
  readonly #producer: FrameProducer;
  readonly #sceneClock: SceneClock;
  /** Every output: `main` (the config's) and the extra ones (`/stream/outputs`), fed the same composited frames. */
  readonly hub: OutputHub;
  /** Where file outputs may be written (RECORDINGS_DIR, OUTPUT_DIRS): every entry checks an output URL against it. */
  readonly outputPaths: OutputPolicy;
  /** Video layers' sources: decoders, media clocks, states and control (orchestrator/media/). */
  readonly media: MediaSources;
  /** The program's sound: audio sources, the mixer thread and the program tape the encoders read (orchestrator/audio/). */
  readonly audio: ProgramAudio;
  /** Serialises start/stop/restart so two admin calls never interleave. */
  #control: Promise<unknown> = Promise.resolve();
  /** Program previews while the stream is not live (rendered on demand while watched). */
  readonly #idlePreview: OnDemandPreview;
  /** Studio mode's preview bus, or null without a preview scene. */
  readonly previewBus: PreviewBus | null;

  /** Where preview frames go (the WebSocket hub), program and preview bus; null: no previews are encoded. */
  set preview(sink: PreviewSink | null) {
    this.hub.preview.sink = sink;
    if (this.previewBus) this.previewBus.sink = sink;
  }

  constructor(options: PipelineOptions) {
    super();
    this.#o = options;
    this.#stream = options.stream;
    this.#renderer = new LayerRenderer(options.pool, options.log.child({ component: 'render' }), options.metrics, (fault) =>
      this.emit('layerFault', fault),
    );
    this.#sceneClock = options.clock ?? new MonotonicClock();
    this.media = programMedia(
      options,
      () => this.#sceneClock.now(),
      () => this.#stream.targetFPS,
    );
    this.#renderer.videoFrames = this.media;
    this.audio = programAudio(
      options,
      this.media,
      () => this.#sceneClock.now(),
      () => this.#stream,
    );
    this.media.audio = this.audio;
    this.#frames = this.#newPool();
    this.#stats = new FrameStats(options.stream.targetFPS, options.metrics);
    this.#bgPixel = premultipliedPixel(options.stream.background);
    const frames = (): FramePool => this.#frames;
    this.outputPaths = new OutputPolicy(options.recordingsDir, options.outputDirs);
    this.hub = new OutputHub({
      ffmpegPath: options.ffmpegPath,
      dataDir: options.dataDir,
      paths: this.outputPaths,
      stream: () => this.#stream,
      pool: frames,
      policy: options.restartPolicy,
      log: options.log,
      metrics: options.metrics,
      preview: { pool: options.pool, settings: options.preview },
      webrtc: options.webrtc ?? { maxViewers: 20, ice: { hostAddresses: [], portRange: null } },
      audio: this.audio,
      onMainFailed: (message) =>
        void this.#serial(async () => {
          // Unless the stream was stopped or started again meanwhile.
          if (!this.#stats.state.isLive || !this.hub.mainFailed) return;
          await this.#stopOutput();
          this.#markStopped(message);
        }),
    });
    this.hub.on('output', (e) => this.emit('output', e));
    this.#producer = new FrameProducer({
      composer: new FrameComposer({
        renderer: this.#renderer,
        scene: options.scene,
        metrics: options.metrics,
        data: options.data,
        motion: { ...options.motion, lipSync: this.audio },
        bands: options.pool,
      }),
      stats: this.#stats,
      sink: this.hub,
      frames,
      stream: () => this.#stream,
      background: () => this.#bgPixel,
      encoderMaxQueuedFrames: options.encoderMaxQueuedFrames,
      log: options.log,
      metrics: options.metrics,
      wantsFrames: () => this.listenerCount('frame') > 0,
      onFrame: (frame, times) => this.emit('frame', frame, times),
    });
    const log = options.log.child({ component: 'preview' });
    this.#idlePreview = new OnDemandPreview({
      encoder: this.hub.preview,
      active: () => !this.#stats.state.isLive,
      compose: () => this.#producer.compose(this.#sceneClock.now()),
      release: (frame) => this.#frames.release(frame),
      log,
    });
    this.previewBus = options.previewScene
      ? new PreviewBus({
          pool: options.pool,
          scene: options.previewScene,
          stream: () => this.#stream,
          background: () => this.#bgPixel,
          now: () => this.#sceneClock.now(),
          data: options.data,
          chat: options.motion?.chat,
          settings: options.preview,
          log,
        })
      : null;
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
    this.hub.preview.changed();
    this.#producer.changed();
  }

  /** A copy of the stream's `StreamState` (the API contract's shape). */
  status(): StreamState {
    return { ...this.#stats.state };
  }

  /** The outputs and their states: `main` (the config's), then the extra ones; stream keys redacted. */
  outputs(): OutputStatus[] {
    return this.hub.statuses();
  }

  /**
   * Forgets the rendered pixels of these layers (their asset was deleted): the next render of
   * each reads its assets again, and fails (`layerError`) when one is gone.
   * @param ids program layers (the pipeline's renderer)
   * @param previewIds studio mode's preview scene layers (the preview bus's own renderer)
   */
  forgetLayerPixels(ids: readonly string[], previewIds: readonly string[] = []): void {
    for (const id of ids) this.#renderer.forget(id);
    this.previewBus?.forgetLayerPixels(previewIds);
  }

  /**
   * How the main encoder kept up since the last call (the `metricsUpdate` figures): `latencyMs`,
   * mean ms from a frame's hand-off (right after compositing) until ffmpeg had read it;
   * `bufferHealth`, 1 - (most frames queued at once / ENCODER_MAX_QUEUED_FRAMES), 0..1 (1: empty
   * queue; 0: full, frames are dropped; also 0 while the main encoder is down, when no frame goes
   * out). Starts a new window.
   */
  encoderLoad(): { latencyMs: number; bufferHealth: number } {
    const load = this.hub.takeMainLoad();
    if (!load) return { latencyMs: 0, bufferHealth: 0 };
    const max = Math.max(1, this.#o.encoderMaxQueuedFrames);
    return { latencyMs: load.readMs, bufferHealth: 1 - Math.min(load.peakQueued, max) / max };
  }

  /** The current stream configuration. */
  get config(): StreamConfig {
    return this.#stream;
  }

  /** ms since the frame clock last ticked (Infinity before the first tick). */
  msSinceTick(): number {
    return this.#producer.msSinceTick();
  }

  /** Where the main output's running encoder writes, or null. */
  get output(): string | null {
    return this.hub.mainOutput;
  }

  /** The main output's running ffmpeg's pid, or undefined. */
  get encoderPid(): number | undefined {
    return this.hub.mainPid;
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
      this.#stats.markLive();
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
    this.#stats.setPaused(true);
    this.#emit();
    return this.status();
  }

  /** @throws AppError SM_ERR_STREAM_NOT_LIVE, SM_ERR_STREAM_NOT_PAUSED */
  resume(): StreamState {
    this.#stats.setPaused(false);
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
      const restart = this.#stats.state.isLive && mainOutputChanged(prev, next);
      if (restart) await this.#stopOutput();
      this.#stream = next;
      this.#bgPixel = premultipliedPixel(next.background);
      this.#stats.state.targetFPS = next.targetFPS;
      if (prev.width !== next.width || prev.height !== next.height) {
        this.#renderer.invalidate();
        this.#producer.setLast(null);
        this.media.audio = this.audio;
        this.#frames = this.#newPool();
      }
      if (restart) {
        try {
          await this.#startOutput();
        } catch (err) {
          // The outputs are down and no frame clock runs: the stream is stopped, saying why (the
          // caller gets the error too), never left reading live with nothing behind it.
          this.#markStopped(`The stream stopped: its outputs could not restart with the new configuration: ${(err as Error).message}`);
          throw err;
        }
      }
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
  snapshot(width?: number): Promise<Buffer> {
    return takeSnapshot(
      this.#producer,
      () => this.#frames,
      () => this.#stats.state.isLive,
      () => this.#sceneClock.now(),
      width,
    );
  }

  /** Stops the stream if live, and every video source's decoder (for shutdown). */
  async close(): Promise<void> {
    this.#idlePreview.close();
    this.previewBus?.close();
    await this.#serial(async () => {
      if (this.#stats.state.isLive) {
        await this.#stopOutput();
        this.#markStopped();
      }
      await this.hub.whep.shutdown();
      this.#producer.setLast(null);
      await Promise.all([this.media.close(), this.audio.close()]);
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
    await this.hub.startMain();
    if (this.#stats.state.isLive) this.#o.metrics?.encoderRestarts.inc();
    try {
      await this.#producer.start(() => this.#sceneClock.now());
    } catch (err) {
      // Main's ffmpeg is running already: a start that fails leaves nothing behind.
      await this.hub.stopAll();
      throw err;
    }
    this.hub.goLive();
    this.#stats.sampleEverySecond(() => this.#emit());
  }

  async #stopOutput(): Promise<void> {
    const stopping = this.#producer.stop();
    this.#stats.sampleEverySecond(null);
    await stopping;
    await this.hub.stopAll();
  }

  #markStopped(error: string | null = null): void {
    this.#stats.markStopped(error);
    this.#emit();
  }

  #emit(): void {
    this.emit('state', this.status());
  }
}
