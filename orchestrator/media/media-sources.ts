import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { isLiveSrc, type MediaAction, type MediaStatus } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';
import type { Metrics } from '../metrics/metrics.js';
import { ffprobeFor } from '../output/recording-check.js';
import type { RestartPolicy } from '../output/supervised-output.js';
import type { VideoFrame, VideoFrames } from '../render/video-frames.js';
import type { LayerEntry, SceneEvent, SceneStore } from '../scene/scene-store.js';
import { liveHostAllowed } from './live-hosts.js';
import type { MediaControl } from './media-control.js';
import { sourceMetrics, type SourceMetrics } from './source-metrics.js';
import { sourceInput } from './source-path.js';
import { VideoSource } from './video-source.js';

/** How often the watchdog looks at every source (frame counts, live supervision, ends), ms. */
const WATCH_MS = 200;
/** Off the clock, a frame waits at most this long for its video pictures, ms. */
export const SETTLE_MS = 5000;
/**
 * The last picture of a removed or restarted source is kept for a crossfade's outgoing copy of its
 * layer until the crossfade ends, or at most this long unused, ms (a crossfade lasts at most 60 s).
 */
const GHOST_MS = 61_000;
/**
 * Video sources (decoders: an ffmpeg and a reader thread each) a program runs at once, unless
 * `MAX_VIDEO_SOURCES` says otherwise. A video
 * layer beyond it gets no decoder and reports `error` until a source is freed (a scene holds up
 * to 1000 layers: one request could otherwise start 1000 ffmpegs and threads).
 */
export const MAX_VIDEO_SOURCES = 16;

/** What the sources need from the program. */
export interface MediaSourcesOptions {
  scene: SceneStore;
  /** Scene time now, ms. */
  now: () => number;
  /** The program's frame rate now. */
  fps: () => number;
  ffmpegPath: string;
  /** ffprobe (default: beside `ffmpegPath`). */
  ffprobePath?: string | undefined;
  /** The folder that holds `assets/` (paths in `src` are resolved against it). */
  assetRoot: string;
  /** Video layers decoding at once (`MAX_VIDEO_SOURCES`; default {@link MAX_VIDEO_SOURCES}). */
  maxSources?: number | undefined;
  /** `VIDEO_LIVE_HOSTS`: the hosts live feeds may be read from (empty or absent: any). */
  liveHosts?: readonly string[] | undefined;
  /** The folder of uploaded assets (an asset id in `src` is a file in it). */
  assetStorage: string;
  /** How a live feed that dropped is retried (the outputs' policy). */
  policy: RestartPolicy;
  log: Logger;
  metrics?: Metrics | undefined;
}

type Listener = (layerId: string, status: MediaStatus) => void;

/**
 * The video sources of one program: one {@link VideoSource} per video layer, created, changed and
 * stopped as the scene's layers are added, changed and removed (a new `src` is a new source; the
 * box, fit, rate and loop make a new decoder run; `playing` only pauses or resumes; position,
 * opacity and zIndex touch nothing). Implements the control surface ({@link MediaControl}) and
 * the layer renderer's {@link VideoFrames}. A watchdog looks at every source a few times a second.
 */
export class MediaSources implements MediaControl, VideoFrames {
  readonly #o: MediaSourcesOptions;
  readonly #ffprobe: string;
  /** Sources decoding at once, at most. */
  readonly #max: number;
  readonly #metrics: SourceMetrics;
  readonly #sources = new Map<string, VideoSource>();
  /** Video layers without a source because {@link MAX_VIDEO_SOURCES} run already, with what they report. */
  readonly #refused = new Map<string, MediaStatus>();
  /** Last pictures of sources that were removed or restarted, for a crossfade's outgoing copy of their layer. */
  readonly #ghosts = new Map<string, { frame: VideoFrame; usedAt: number }>();
  readonly #updates = new Set<Listener>();
  readonly #endings = new Set<Listener>();
  readonly #closing = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;
  #reported = 0;
  #closed = false;

  constructor(options: MediaSourcesOptions) {
    this.#o = options;
    this.#ffprobe = options.ffprobePath ?? ffprobeFor(options.ffmpegPath);
    this.#max = options.maxSources ?? MAX_VIDEO_SOURCES;
    this.#metrics = sourceMetrics(options.metrics);
    options.scene.on('change', this.#onChange);
    for (const e of options.scene.entries()) this.#sync(e.layer);
    this.#timer = setInterval(() => this.#watch(), WATCH_MS);
    this.#timer.unref();
  }

  // MediaControl

  status(layerId: string): MediaStatus | undefined {
    return this.#sources.get(layerId)?.status() ?? this.#refused.get(layerId);
  }

  /** The sound of `audio` layers (orchestrator/audio/program-audio.ts): their media actions go there. */
  audio: { control(layerId: string, action: MediaAction): MediaStatus } | undefined;

  control(layerId: string, action: MediaAction): MediaStatus {
    const layer = this.#o.scene.entry(layerId).layer;
    if (layer.content.type === 'audio' && this.audio) return this.audio.control(layerId, action);
    const source = this.#sources.get(layerId);
    if (layer.content.type !== 'video' || !source)
      throw new AppError('SM_ERR_VALIDATION', `Layer "${layerId}" is not a video layer`, [
        { path: 'content.type', message: 'Expected a video layer' },
      ]);
    const before = this.#reported;
    switch (action.action) {
      case 'play':
        source.play();
        break;
      case 'pause':
        source.pause();
        break;
      case 'restart':
        source.restart();
        break;
      case 'seek':
        if (source.live)
          throw new AppError('SM_ERR_VALIDATION', 'A live feed cannot seek', [{ path: 'action', message: 'Only files seek' }]);
        source.seek(action.positionMs ?? 0);
        break;
    }
    const status = source.status();
    // Every action is news for the clients, even one that leaves the state as it was (a seek).
    if (this.#reported === before) this.#update(layerId, status);
    return status;
  }

  restartAll(layerIds: readonly string[]): void {
    for (const id of layerIds) {
      const source = this.#sources.get(id);
      if (!source || source.live) continue;
      this.#keepGhost(id, source);
      source.restart();
      // A restart is a jump of the position: news for the clients and for the layer's sound (orchestrator/audio/).
      this.#update(id, source.status());
    }
  }

  onUpdate(listener: Listener): () => void {
    this.#updates.add(listener);
    return () => this.#updates.delete(listener);
  }

  onEnded(listener: Listener): () => void {
    this.#endings.add(listener);
    return () => this.#endings.delete(listener);
  }

  // VideoFrames

  frame(entry: LayerEntry, timeMs: number, seq: number, live: boolean): VideoFrame | null {
    const id = entry.layer.id;
    if (entry.slot !== undefined) {
      // A crossfade's outgoing copy of the layer: the picture it had when the scene changed.
      const ghost = this.#ghosts.get(id);
      if (ghost) {
        ghost.usedAt = performance.now();
        return ghost.frame;
      }
      return this.#sources.get(id)?.current(seq) ?? null;
    }
    return this.#sources.get(id)?.frame(entry.layer, timeMs, seq, live) ?? null;
  }

  async settle(entries: readonly LayerEntry[], timeMs: number): Promise<void> {
    const deadline = performance.now() + SETTLE_MS;
    await Promise.all(
      entries.map((e) => (e.slot === undefined ? this.#sources.get(e.layer.id)?.settle(e.layer, timeMs, deadline) : undefined)),
    );
  }

  composited(seq: number): void {
    for (const s of this.#sources.values()) s.composited(seq);
  }

  forgetGhosts(): void {
    this.#ghosts.clear();
  }

  /** The pid of video layer `layerId`'s running decoder (ffmpeg), for tests and diagnostics. */
  decoderPid(layerId: string): number | undefined {
    return this.#sources.get(layerId)?.pid;
  }

  /** Stops every source (their ffmpegs killed, their threads ended) and stops listening to the scene. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#o.scene.off('change', this.#onChange);
    for (const id of [...this.#sources.keys()]) this.#remove(id);
    this.#ghosts.clear();
    await Promise.all([...this.#closing]);
  }

  readonly #onChange = (e: SceneEvent): void => {
    if (this.#closed) return;
    try {
      this.#apply(e);
      this.#fill();
    } catch (err) {
      // A source's failure stays with its layer: the scene change itself has happened.
      this.#o.log.error({ err, event: e.type }, 'video sources could not follow a scene change');
    }
  };

  #apply(e: SceneEvent): void {
    switch (e.type) {
      case 'layerAdded':
      case 'layerUpdated':
        this.#sync(e.layer);
        break;
      case 'layerRemoved':
        this.#remove(e.layer.id);
        break;
      case 'sceneReplaced': {
        // A scene activation (a crossfade's outgoing layers may show the pictures kept here).
        this.#ghosts.clear();
        const keep = new Set(e.layers.map((l) => l.id));
        for (const id of [...this.#sources.keys()]) if (!keep.has(id)) this.#remove(id, true);
        for (const layer of e.layers) this.#sync(layer, true);
        break;
      }
    }
  }

  /** Sources of removed or replaced layers still closing (their ffmpeg and thread ending). */
  get closing(): number {
    return this.#closing.size;
  }

  /** Layer `id` gets no source: it reports `error` with `lastError` (logged once, as `logMsg`) until it changes or a slot frees. */
  #refuse(id: string, lastError: string, logMsg: string): void {
    const status: MediaStatus = { state: 'error', positionMs: 0, durationMs: null, width: 0, height: 0, fps: 0, lastError };
    if (!this.#refused.has(id)) this.#o.log.warn({ layerId: id, max: this.#max }, logMsg);
    this.#refused.set(id, status);
    this.#update(id, status);
  }

  /**
   * Brings the source of `layer` in line with it: created, changed, replaced (new `src`) or removed
   * (no longer video); with `ghost`, a source that goes leaves its last picture for a crossfade.
   */
  #sync(layer: Layer, ghost = false): void {
    const existing = this.#sources.get(layer.id);
    if (layer.content.type !== 'video') {
      this.#refused.delete(layer.id);
      if (existing) this.#remove(layer.id, ghost);
      return;
    }
    if (existing && existing.content.src === layer.content.src) {
      existing.update(layer);
      return;
    }
    if (existing) this.#remove(layer.id, ghost);
    const src = layer.content.src;
    if (isLiveSrc(src) && !liveHostAllowed(src, this.#o.liveHosts ?? [])) {
      // Stored before VIDEO_LIVE_HOSTS said otherwise (the API refuses new ones): never read.
      this.#refuse(layer.id, 'The live source names a host that VIDEO_LIVE_HOSTS does not allow', 'video layer host not allowed');
      return;
    }
    if (this.#sources.size >= this.#max) {
      this.#refuse(
        layer.id,
        `Too many video sources: at most ${this.#max} play at once (MAX_VIDEO_SOURCES); this one starts when another video layer goes`,
        'video layer over the source limit',
      );
      return;
    }
    this.#refused.delete(layer.id);
    let input;
    try {
      input = sourceInput(layer.content.src, this.#o.assetRoot, this.#o.assetStorage);
    } catch (err) {
      // The API refuses such a source before storing it; a stored state from elsewhere may still hold one.
      this.#o.log.error({ err, layerId: layer.id }, 'video layer source refused; the layer shows nothing');
      return;
    }
    const id = layer.id;
    // Declared first: the source may report while it is being made.
    let source: VideoSource | undefined = undefined;
    source = new VideoSource(layer, {
      layerId: id,
      ...input,
      ffmpegPath: this.#o.ffmpegPath,
      ffprobePath: this.#ffprobe,
      fps: this.#o.fps,
      now: this.#o.now,
      policy: this.#o.policy,
      log: this.#o.log,
      metrics: this.#metrics,
      onChange: (status) => {
        if (this.#sources.get(id) === source) this.#update(id, status);
      },
      onEnded: (status) => {
        if (this.#sources.get(id) !== source) return;
        for (const l of this.#endings) l(id, status);
      },
    });
    this.#sources.set(id, source);
    this.#update(id, source.status());
  }

  /** Stops the source of `id` (with `ghost`, its last picture is kept for a crossfade's outgoing copy of its layer). */
  #remove(id: string, ghost = false): void {
    this.#refused.delete(id);
    const source = this.#sources.get(id);
    if (!source) return;
    if (ghost) this.#keepGhost(id, source);
    this.#sources.delete(id);
    const closing = source
      .close()
      .then(() => {
        // Only when the layer has no source again by now: a new src's source reports under the same
        // labels, and removing them when the old one is done closing would erase the new one's.
        if (!this.#sources.has(id) && !this.#refused.has(id)) this.#metrics.remove(id);
      })
      .catch((err: unknown) => this.#o.log.error({ err, layerId: id }, 'video source did not close'));
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /** Starts the sources of video layers refused for {@link MAX_VIDEO_SOURCES} while there is room, in scene order. */
  #fill(): void {
    if (this.#refused.size === 0) return;
    for (const e of this.#o.scene.entries()) {
      if (this.#sources.size >= this.#max) return;
      if (this.#refused.has(e.layer.id)) this.#sync(e.layer);
    }
  }

  /** Keeps the picture on screen of a source about to stop decoding into it, for a crossfade's outgoing copy. */
  #keepGhost(id: string, source: VideoSource): void {
    const frame = source.held();
    if (frame) this.#ghosts.set(id, { frame, usedAt: performance.now() });
  }

  #update(id: string, status: MediaStatus): void {
    this.#reported++;
    for (const l of this.#updates) l(id, status);
  }

  #watch(): void {
    for (const s of this.#sources.values()) s.tick();
    const now = performance.now();
    for (const [id, g] of this.#ghosts) if (now - g.usedAt > GHOST_MS) this.#ghosts.delete(id);
  }
}

/**
 * The sources of a program (`StreamPipeline.media`) from the pipeline's options: files under
 * `media.assetRoot` / `media.assetStorage` (default: the working folder), feeds retried with its
 * restart policy.
 * @param now scene time now, ms
 * @param fps the program's frame rate now
 */
export function programMedia(
  o: Pick<MediaSourcesOptions, 'scene' | 'ffmpegPath' | 'log' | 'metrics'> & {
    restartPolicy: RestartPolicy;
    media?:
      { assetRoot: string; assetStorage: string; ffprobePath?: string; maxSources?: number; liveHosts?: readonly string[] } | undefined;
  },
  now: () => number,
  fps: () => number,
): MediaSources {
  return new MediaSources({
    scene: o.scene,
    now,
    fps,
    ffmpegPath: o.ffmpegPath,
    policy: o.restartPolicy,
    log: o.log.child({ component: 'media' }),
    metrics: o.metrics,
    assetRoot: o.media?.assetRoot ?? '.',
    assetStorage: o.media?.assetStorage ?? '.',
    ffprobePath: o.media?.ffprobePath,
    maxSources: o.media?.maxSources,
    liveHosts: o.media?.liveHosts,
  });
}
