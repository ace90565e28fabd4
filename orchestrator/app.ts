import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/env.js';
import { AssetFiles } from './assets/asset-files.js';
import { AssetService } from './assets/asset-service.js';
import { BEARER_CHALLENGE, bearerToken } from './auth/credentials.js';
import { createHttpApp, listRoutes, type RouteInfo } from './http/http-app.js';
import { OriginPolicy } from './auth/origin-policy.js';
import { Metrics } from './metrics/metrics.js';
import { redactOutput } from './output/encoder.js';
import { confineStoredOutput, OutputPolicy } from './output/output-path.js';
import { StreamPipeline } from './pipeline.js';
import { RenderPool } from '../pool/render-pool.js';
import { assetsExist } from './scene/asset-check.js';
import { auctionScene } from './scene/default-scene.js';
import type { SceneStore } from './scene/scene-store.js';
import { createStore } from './state/create-store.js';
import { RedisStore } from './state/redis-store.js';
import { StateManager } from './state/state-manager.js';
import { WS_PATHS, WsHub } from './ws/ws-hub.js';
import { join } from 'node:path';
import { Animator } from './motion/animator.js';
import { MonotonicClock, type SceneClock } from './motion/scene-clock.js';
import { ChatFeed } from './chat/chat-feed.js';
import { SceneLibrary } from './scene/scene-library.js';
import { SceneSwitcher } from './motion/scene-switcher.js';
import { HostPolicy } from './auth/host-policy.js';
import { ConnectionBudget, defaultMaxConnections, fdLimit, serverOptions } from './http/connection-limits.js';
import { applyEnvPrecedence } from './config/precedence.js';

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

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Loads the stored state; when the store is unreachable, starts on defaults and loads it later. */
async function loadState(state: StateManager, log: Logger): Promise<boolean> {
  const store = state.store;
  try {
    if (store instanceof RedisStore && !(await store.connect())) throw new Error('redis unreachable');
    const { restored } = await state.load();
    return restored;
  } catch (err) {
    log.warn({ err }, 'stored state could not be read; running on defaults until the store is back');
    state.useDefaults();
    return false;
  }
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
  const state: StateManager = new StateManager({
    metrics,
    store: createStore(config.state, log.child({ component: 'state' })),
    defaults: {
      config: config.stream,
      layers: config.defaultScene === 'auction' ? auctionScene(config.stream.width, config.stream.height) : [],
    },
    check: assetsExist(config.assetRoot, (id) => state.asset(id)),
    log: log.child({ component: 'state' }),
  });
  const restored = await loadState(state, log);
  // Explicit environment > stored state > defaults, logged (docs/configuration.md, Precedence).
  applyEnvPrecedence(state, config.stream, config.explicit, log);
  confineStoredOutput(state, new OutputPolicy(config.recordingsDir, config.outputDirs), log);
  const wasLive = state.stream.isLive;
  const scene = state.scene;
  const files = new AssetFiles(config.assets.storagePath);
  const assets = new AssetService(files, state, { limitInputPixels: config.assets.limitInputPixels, allowSvg: config.assets.allowSvg });
  const pool = new RenderPool(
    { threads: config.workers, assetRoot: config.assetRoot, assetStorage: files.dir, imageCacheBytes: config.assets.imageCacheBytes, ...config.render },
    metrics,
    log.child({ component: 'pool' }),
  );
  await pool.warmUp();
  const animator = new Animator(scene, clock);
  const switcher = new SceneSwitcher(clock);
  const chat = new ChatFeed(clock);
  const scenes = new SceneLibrary(state, switcher, join(config.assetRoot, 'assets', 'scenes'), log.child({ component: 'scenes' }));
  // A host whose timed animation is over goes back to idle in the state too.
  animator.on('revert', (id) => {
    try {
      const layer = scene.get(id);
      if (layer.content.type === 'character' && layer.content.animation !== 'idle') scene.patch(id, { content: { animation: 'idle' } });
    } catch (err) {
      log.debug({ err, layerId: id }, 'host animation revert skipped');
    }
  });
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
    data: () => ({ values: state.data, version: state.dataVersion }),
    pool,
    log,
    metrics,
  });
  const skipped = pipeline.hub.restore(state.outputs);
  if (skipped.length) log.error({ outputs: skipped }, 'stored outputs are invalid; skipped');
  pipeline.hub.on('specs', (specs) => state.setOutputs(specs));
  // A layer whose asset was deleted (with force) must not show the deleted picture again from its buffer.
  assets.on('removed', ({ layers }) => pipeline.forgetLayerPixels(layers));
  const { tokens } = config.auth;
  const origins = new OriginPolicy(config.auth.corsOrigins);
  const hosts = new HostPolicy(config.net.allowedHosts, tokens.size === 0);
  if (tokens.size === 0) log.warn({ host: config.host }, 'no AUTH_TOKENS: authentication is off and the server listens on loopback only');
  const ws = new WsHub({
    log: log.child({ component: 'ws' }),
    metrics,
    tokens,
    origins,
    hosts,
    fullState: () => ({ stream: pipeline.status(), version: state.version, config: state.config, layers: scene.list() }),
    ...config.ws,
  });
  metrics.sources.pool = () => pool.stats();
  metrics.sources.pipeline = () => ({ ...pipeline.status(), output: pipeline.output });
  metrics.sources.outputs = () => pipeline.outputs();
  metrics.sources.ws = () => ws.counts();
  metrics.sources.wsBuffered = () => ws.bufferedBytes();
  metrics.sources.store = () => ({ connected: state.store.connected });
  metrics.sources.dirs = () => ({ data: config.state.dataDir, recordings: config.recordingsDir });
  pipeline.preview = ws;
  pipeline.on('state', (stream) => {
    state.observeStream(stream);
    ws.broadcast(['state'], { type: 'stateUpdate', payload: { stream, version: state.version } });
    if (stream.isLive) {
      ws.broadcast(['state'], {
        type: 'metricsUpdate',
        payload: {
          fps: stream.fps,
          targetFPS: stream.targetFPS,
          droppedFrames: stream.droppedFrames,
          averageRenderTime: stream.averageRenderTime,
          poolUtilization: pool.stats().utilization,
          viewers: ws.count('preview'),
          bitrateBps: pipeline.outputs()[0]?.bitrateBps ?? null,
          timestamp: Date.now(),
        },
      });
    }
  });
  animator.on('ended', (payload) => ws.broadcast(['state', 'layers'], { type: 'animationEnded', payload }));
  switcher.on('ended', (payload) => ws.broadcast(['state', 'layers'], { type: 'animationEnded', payload }));
  chat.on('message', (payload) => ws.broadcast(['chat'], { type: 'chat', payload }));
  pipeline.on('layerFault', (fault) => ws.broadcast(['state', 'layers'], { type: 'layerError', payload: fault }));
  pipeline.on('output', (payload) => ws.broadcast(['state'], { type: 'outputUpdate', payload }));
  scene.on('change', (e) => {
    const payloads =
      e.type === 'sceneReplaced'
        ? e.layers.map((layer) => ({ id: layer.id, layer, version: e.version }))
        : [e.type === 'layerRemoved' ? { id: e.layer.id, removed: true, version: e.version } : { id: e.layer.id, layer: e.layer, version: e.version }];
    for (const payload of payloads) ws.broadcast(['state', 'layers'], { type: 'layerUpdate', payload });
    if (e.type === 'layerUpdated' && e.layer.visible !== e.previous.visible) {
      ws.broadcast(['state', 'layers'], { type: 'layerVisibility', payload: { id: e.layer.id, visible: e.layer.visible, version: e.version } });
    }
  });
  state.on('change', (e) => {
    if (e.type !== 'stream') pipeline.changed();
    if (e.type === 'data') ws.broadcast(['state', 'layers'], { type: 'dataUpdate', payload: { data: e.data, version: e.version } });
  });
  state.store.onReconnect(() => {
    void state.loadLate().then(
      (adopted) => {
        if (!adopted) return undefined;
        applyEnvPrecedence(state, config.stream, config.explicit, log);
        // Nothing was changed meanwhile, so the hub holds no outputs: take the stored ones (before
        // its next change writes its list over them).
        const lost = pipeline.hub.restore(state.outputs);
        if (lost.length) log.error({ outputs: lost }, 'stored outputs are invalid; skipped');
        confineStoredOutput(state, pipeline.outputPaths, log);
        return pipeline.applyConfig(state.config);
      },
      (err: unknown) => log.error({ err }, 'late state load failed'),
    );
  });

  const netOptions = serverOptions(config.net);
  const httpApp = createHttpApp({
      state, pipeline, pool, metrics, assets, chat, scenes, maxUploadBytes: config.assets.maxUploadBytes, ffmpegPath: config.ffmpegPath, dataDir: config.state.dataDir, tokens, origins, hosts,
      rateLimit: {
        ...config.rateLimit,
        redis: state.store instanceof RedisStore ? { client: state.store.redis, prefix: config.state.redisPrefix, connected: () => state.store.connected } : null,
      },
      log: log.child({ component: 'http' }),
  });
  const http = createServer(netOptions, httpApp.callback());
  ws.attach(http, WS_PATHS);
  // Every server's connections come out of one budget under the fd limit: a flood of idle sockets
  // gets new connections closed at once, never EMFILE for the stream's own files and pipes.
  const budget = new ConnectionBudget(config.net.maxConnections ?? defaultMaxConnections(), log.child({ component: 'net' }));
  // Go live before listening, so the first answer a client gets already says so; after the HTTP
  // app is built, so that its set-up does not hold up the first frames of the clock.
  if (restored ? config.state.resumeOnStart && wasLive : config.autostart) {
    try {
      await pipeline.start();
      log.info({ output: redactOutput(pipeline.output ?? ''), resumed: restored }, 'stream is live');
    } catch (err) {
      log.error({ err }, 'could not go live; the API is up, POST /stream/start to retry');
    }
  }

  const port = await listen(http, config.port, config.host);
  budget.attach(http, 'http');
  let wsServer: Server | null = null;
  let wsPort: number | null = null;
  if (config.wsPort !== null) {
    wsServer = createServer(netOptions, (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only');
    });
    ws.attach(wsServer);
    wsPort = await listen(wsServer, config.wsPort, config.host);
    budget.attach(wsServer, 'ws');
  }
  let metricsServer: Server | null = null;
  let metricsPort: number | null = null;
  if (config.metricsPort !== null) {
    metricsServer = createServer(netOptions, (req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end();
      if (!tokens.mayReadMetrics(bearerToken(req.headers.authorization))) {
        metrics.authFailures.inc({ transport: 'http' });
        return void res.writeHead(401, { 'www-authenticate': BEARER_CHALLENGE }).end();
      }
      void metrics.scrape().then(({ body, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(body));
    });
    metricsPort = await listen(metricsServer, config.metricsPort, config.host);
    budget.attach(metricsServer, 'metrics');
  }
  log.info(
    { port, wsPort, metricsPort, host: config.host, workers: pool.threads, store: state.store.kind, restored, maxConnections: budget.max, fdLimit: fdLimit() },
    'stream manager listening',
  );

  const closeServer = (s: Server | null): Promise<void> =>
    new Promise((resolve) => {
      if (!s) return resolve();
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    state, metrics, metricsPort, scene, clock, animator, chat, scenes, pipeline, ws, pool, http, wsServer, port, wsPort, routes: listRoutes(httpApp),
    async close() {
      // Remember whether we were live, so a restart resumes; then stop (ffmpeg writes its trailer).
      const live = pipeline.status().isLive;
      await pipeline.close();
      animator.close();
      switcher.close();
      if (live) state.observeStream({ ...pipeline.status(), isLive: true });
      ws.close();
      await Promise.all([closeServer(http), closeServer(wsServer), closeServer(metricsServer)]);
      await pool.close();
      assets.close();
      await state.close();
    },
  };
}
