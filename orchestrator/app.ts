import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/env.js';
import { createHttpApp } from './http/http-app.js';
import { StreamPipeline } from './pipeline.js';
import { RenderPool } from './render/render-pool.js';
import { assetsExist } from './scene/asset-check.js';
import { auctionScene } from './scene/default-scene.js';
import { SceneStore } from './scene/scene-store.js';
import { WS_PATHS, WsHub } from './ws/ws-hub.js';

/** A running Stream Manager: its parts, the ports it listens on, and `close()`. */
export interface App {
  scene: SceneStore;
  pipeline: StreamPipeline;
  ws: WsHub;
  pool: RenderPool;
  http: Server;
  wsServer: Server | null;
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

/**
 * Builds and starts the server for `config`: scene (with the default scene unless `empty`),
 * render pool, pipeline, HTTP API and WebSocket endpoints. Does not go live.
 * @throws Error when a port cannot be bound
 */
export async function startApp(config: ServerConfig, log: Logger): Promise<App> {
  const scene = new SceneStore(assetsExist(config.assetRoot));
  if (config.defaultScene === 'auction') {
    for (const layer of auctionScene(config.stream.width, config.stream.height)) scene.create(layer);
  }
  const pool = new RenderPool(config.workers, config.assetRoot);
  const pipeline = new StreamPipeline({
    stream: config.stream,
    ffmpegPath: config.ffmpegPath,
    recordingsDir: config.recordingsDir,
    encoderMaxQueuedFrames: config.encoderMaxQueuedFrames,
    preview: config.preview,
    scene,
    pool,
    log,
  });
  const ws = new WsHub(log.child({ component: 'ws' }), () => pipeline.status());
  pipeline.preview = ws;
  pipeline.on('state', (stream) => ws.broadcast('state', { type: 'stateUpdate', payload: { stream } }));
  scene.on('change', (e) => {
    const payload = e.type === 'layerRemoved' ? { id: e.layer.id, removed: true, version: e.version } : { id: e.layer.id, layer: e.layer, version: e.version };
    ws.broadcast('state', { type: 'layerUpdate', payload });
    ws.broadcast('layers', { type: 'layerUpdate', payload });
  });

  const http = createServer(createHttpApp({ scene, pipeline, log: log.child({ component: 'http' }) }).callback());
  ws.attach(http, WS_PATHS);
  const port = await listen(http, config.port, config.host);
  let wsServer: Server | null = null;
  let wsPort: number | null = null;
  if (config.wsPort !== null) {
    wsServer = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only');
    });
    ws.attach(wsServer);
    wsPort = await listen(wsServer, config.wsPort, config.host);
  }
  log.info({ port, wsPort, host: config.host, workers: pool.threads }, 'stream manager listening');

  const closeServer = (s: Server | null): Promise<void> =>
    new Promise((resolve) => {
      if (!s) return resolve();
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    scene, pipeline, ws, pool, http, wsServer, port, wsPort,
    async close() {
      await pipeline.close();
      ws.close();
      await Promise.all([closeServer(http), closeServer(wsServer)]);
      await pool.close();
    },
  };
}
