/**
 * The composition root: builds the parts of a running Stream Manager and connects them. What a
 * part does is in its own module; this file says only which part is given to which.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { RenderPool } from '../pool/render-pool.js';
import { AssetFiles } from './assets/asset-files.js';
import { AssetService } from './assets/asset-service.js';
import { accessFor } from './auth/access.js';
import { ChatFeed } from './chat/chat-feed.js';
import type { ServerConfig } from './config/env.js';
import { confineStoredOutput, OutputPolicy } from './config/output-dirs.js';
import { applyEnvPrecedence } from './config/precedence.js';
import { createHttpApp, listRoutes, type RouteInfo } from './http/http-app.js';
import { Servers } from './http/servers.js';
import { fdLimit } from './http/connection-limits.js';
import { metricsListener } from './metrics/metrics-server.js';
import { Metrics } from './metrics/metrics.js';
import { Animator } from './motion/animator.js';
import { idleHostsAfterAnimations } from './motion/host-idle.js';
import { MonotonicClock, type SceneClock } from './motion/scene-clock.js';
import { SceneSwitcher } from './motion/scene-switcher.js';
import { ffprobeFor } from './output/recording-check.js';
import { StreamPipeline } from './pipeline.js';
import { SceneLibrary } from './scene/scene-library.js';
import { Studio } from './scene/studio.js';
import { AUDIO_RATE_HZ } from '../shared/audio.js';
import type { SceneStore } from './scene/scene-store.js';
import { shutdown } from './shutdown.js';
import { goLiveAtStart } from './startup.js';
import { createState, loadState, sharedRedis } from './state/open-state.js';
import type { StateManager } from './state/state-manager.js';
import { syncState } from './state-sync.js';
import { broadcastChanges } from './ws/broadcasts.js';
import { WsHub } from './ws/ws-hub.js';
import { viewLayers } from './media/media-view.js';
import { cuedMedia } from './media/cued-media.js';

/** A running Stream Manager: its parts, the ports it listens on, and `close()`. */
export interface App {
  state: StateManager;
  metrics: Metrics;
  /** Port of the metrics-only server (METRICS_PORT), or null. */
  metricsPort: number | null;
  scene: SceneStore;
  /** Scene time: tweens, transitions, chat TTLs and live frames are stamped on it. */
  clock: SceneClock;
  animator: Animator;
  chat: ChatFeed;
  scenes: SceneLibrary;
  /** Studio mode's take. */
  studio: Studio;
  pipeline: StreamPipeline;
  ws: WsHub;
  pool: RenderPool;
  http: Server;
  wsServer: Server | null;
  /** Every HTTP route: method and path template (tests walk them). */
  routes: RouteInfo[];
  /** Ports actually bound (useful with port 0). */
  port: number;
  wsPort: number | null;
  /** Stops the stream (ffmpeg writes its trailer), closes sockets with 1001, the pool and the servers. */
  close(): Promise<void>;
}

/** Options for embedding and tests. */
export interface StartOptions {
  /** Scene time source (default: monotonic); tests pass a ManualClock to render frames at chosen times. */
  clock?: SceneClock;
}

/**
 * Builds and starts the server for `config`: state (loaded from the store; on a first boot the
 * default scene unless `empty`), render pool, pipeline, HTTP API and WebSocket endpoints. Goes
 * live when the stored stream was live (RESUME_ON_START) or, on a first boot, with AUTOSTART.
 * @throws Error when a port cannot be bound
 */
export async function startApp(config: ServerConfig, log: Logger, options: StartOptions = {}): Promise<App> {
  const clock = options.clock ?? new MonotonicClock();
  const metrics = new Metrics();
  const state = createState(config, metrics, log);
  const restored = await loadState(state, log);
  // Explicit environment > stored state > defaults, logged (docs/configuration.md, Precedence).
  applyEnvPrecedence(state, config.stream, config.explicit, log);
  confineStoredOutput(state, new OutputPolicy(config.recordingsDir, config.outputDirs), log);
  const wasLive = state.stream.isLive;
  const scene = state.scene;
  const files = new AssetFiles(config.assets.storagePath);
  const assets = new AssetService(
    files,
    state,
    { limitInputPixels: config.assets.limitInputPixels, allowSvg: config.assets.allowSvg },
    {
      tools: { ffmpegPath: config.ffmpegPath, ffprobePath: ffprobeFor(config.ffmpegPath) },
      limits: { maxPixels: config.assets.video.maxPixels, maxDurationS: config.assets.video.maxDurationS },
    },
  );
  const pool = new RenderPool(
    {
      threads: config.workers,
      assetRoot: config.assetRoot,
      assetStorage: files.dir,
      imageCacheBytes: config.assets.imageCacheBytes,
      ...config.render,
    },
    metrics,
    log.child({ component: 'pool' }),
  );
  await pool.warmUp();
  const animator = new Animator(scene, clock);
  const switcher = new SceneSwitcher(clock);
  const chat = new ChatFeed(clock);
  const scenes = new SceneLibrary(state, switcher, join(config.assetRoot, 'assets', 'scenes'), log.child({ component: 'scenes' }));
  const studio = new Studio(state, switcher);
  // The preview scene's own timed host animations: a host told to talk for 2 s off air goes back
  // to idle there too (its tweens are not played off air), and a take carries them over.
  const previewAnimator = new Animator(state.preview, clock);
  studio.plays = { program: animator, preview: previewAnimator };
  idleHostsAfterAnimations(animator, scene, log);
  idleHostsAfterAnimations(previewAnimator, state.preview, log);
  const pipeline = new StreamPipeline({
    clock,
    motion: { animator, chat, scenes: switcher },
    stream: state.config,
    ffmpegPath: config.ffmpegPath,
    recordingsDir: config.recordingsDir,
    outputDirs: config.outputDirs,
    dataDir: config.state.dataDir,
    encoderMaxQueuedFrames: config.encoderMaxQueuedFrames,
    restartPolicy: config.encoderRestart,
    preview: config.preview,
    scene,
    previewScene: state.preview,
    data: () => ({ values: state.data, version: state.dataVersion }),
    media: {
      assetRoot: config.assetRoot,
      assetStorage: files.dir,
      maxSources: config.assets.video.maxSources,
      liveHosts: config.assets.video.liveHosts,
    },
    pool,
    log,
    metrics,
    webrtc: config.webrtc,
  });
  const configFollower = syncState(state, pipeline, config, log);
  // A layer whose asset was deleted (with force) must not show the deleted picture again from its buffer.
  // So must a preview layer on the preview bus's own renderer (studio mode).
  assets.on('removed', ({ layers, preview }) => pipeline.forgetLayerPixels(layers, preview));
  const { tokens, origins, hosts } = accessFor(config, log);
  // Full states (on connect, and to a congested socket once it drains) carry the preview scene once
  // studio mode is in use: a socket that missed its previewLayerUpdates is whole again too.
  const cued = cuedMedia(state.preview);
  let studioInUse = false;
  state.preview.on('change', () => (studioInUse = true));
  const ws = new WsHub({
    log: log.child({ component: 'ws' }),
    metrics,
    tokens,
    origins,
    hosts,
    fullState: () => ({
      stream: pipeline.status(),
      version: state.version,
      config: state.config,
      layers: viewLayers(scene.list(), pipeline.media),
      ...(studioInUse || state.preview.list().length ? { preview: viewLayers(state.preview.list(), cued) } : {}),
    }),
    ...config.ws,
  });
  Object.assign(metrics.sources, {
    pool: () => pool.stats(),
    pipeline: () => ({ ...pipeline.status(), output: pipeline.output }),
    outputs: () => pipeline.outputs(),
    ws: () => ws.counts(),
    wsBuffered: () => ws.bufferedBytes(),
    store: () => ({ connected: state.store.connected }),
    dirs: () => ({ data: config.state.dataDir, recordings: config.recordingsDir }),
    audio: () => pipeline.audio.levels,
    audioMixerRestarts: () => pipeline.audio.mixerRestarts,
    audioUnderrunSeconds: () => pipeline.audio.underrunFrames / AUDIO_RATE_HZ,
  } satisfies Metrics['sources']);
  pipeline.preview = ws;
  scenes.media = pipeline.media;
  studio.media = pipeline.media;
  broadcastChanges(ws, {
    state,
    pipeline,
    animations: [animator, switcher],
    chat,
    poolUtilization: () => pool.stats().utilization,
    scenes,
  });

  const httpApp = createHttpApp({
    state,
    configFollower,
    pipeline,
    pool,
    metrics,
    assets,
    chat,
    scenes,
    studio,
    tokens,
    origins,
    hosts,
    maxUploadBytes: config.assets.maxUploadBytes,
    maxVideoUploadBytes: config.assets.video.maxUploadBytes,
    ffmpegPath: config.ffmpegPath,
    dataDir: config.state.dataDir,
    rateLimit: { ...config.rateLimit, redis: sharedRedis(state, config.state.redisPrefix) },
    log: log.child({ component: 'http' }),
  });
  const servers = new Servers(config, { api: httpApp.callback(), ws, metrics: metricsListener(metrics, tokens) }, log);
  // Go live before listening, so the first answer a client gets already says so; after the HTTP
  // app is built, so that its set-up does not hold up the first frames of the clock.
  await goLiveAtStart(pipeline, config, restored, wasLive, log);
  await servers.listen();
  const { port, wsPort, metricsPort, budget } = servers;
  log.info(
    {
      port,
      wsPort,
      metricsPort,
      host: config.host,
      workers: pool.threads,
      store: state.store.kind,
      restored,
      maxConnections: budget.max,
      fdLimit: fdLimit(),
    },
    'stream manager listening',
  );

  return {
    state,
    metrics,
    metricsPort,
    scene,
    clock,
    animator,
    chat,
    scenes,
    studio,
    pipeline,
    ws,
    pool,
    http: servers.http,
    wsServer: servers.wsServer,
    port,
    wsPort,
    routes: listRoutes(httpApp),
    close: () => shutdown({ pipeline, animators: [animator, previewAnimator], switcher, state, ws, servers, pool, assets }),
  };
}
