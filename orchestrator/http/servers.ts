/**
 * The listening sockets: the API server (HTTP, and WebSocket upgrades on its WS paths), the
 * standalone WebSocket server (WS_PORT) and the metrics-only server (METRICS_PORT), their shared
 * connection budget, binding them and closing them.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/env.js';
import { WS_PATHS, type WsHub } from '../ws/ws-hub.js';
import { ConnectionBudget, defaultMaxConnections, serverOptions } from './connection-limits.js';

/**
 * Binds `server` to `port` on `host`.
 * @returns the port bound (the one picked when `port` is 0)
 * @throws Error from `listen` (EADDRINUSE, EACCES, EADDRNOTAVAIL), naming port and address
 */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops `server` accepting and closes its open connections; resolves once it is closed. */
export function closeServer(server: Server | null): Promise<void> {
  return new Promise((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** What the servers answer with. */
export interface ServerHandlers {
  /** The HTTP API (Koa's `callback()`). */
  api: RequestListener;
  /** Takes the WebSocket upgrades of the API server (on its WS paths) and of the WS_PORT server. */
  ws: WsHub;
  /** The metrics-only server's handler. */
  metrics: RequestListener;
}

/**
 * The servers `config` names, built at once (so that the connection budget is sized from the fds
 * open before the stream starts) and bound by {@link listen}. Every server's connections come out
 * of one budget under the fd limit: a flood of idle sockets gets new connections closed at once,
 * never EMFILE for the stream's own files and pipes.
 */
export class Servers {
  readonly http: Server;
  readonly wsServer: Server | null;
  readonly metricsServer: Server | null;
  readonly budget: ConnectionBudget;
  /** Ports bound (useful with port 0); set by {@link listen}. */
  port = 0;
  wsPort: number | null = null;
  metricsPort: number | null = null;
  readonly #config: Pick<ServerConfig, 'port' | 'wsPort' | 'metricsPort' | 'host'>;

  constructor(config: Pick<ServerConfig, 'port' | 'wsPort' | 'metricsPort' | 'host' | 'net'>, handlers: ServerHandlers, log: Logger) {
    this.#config = config;
    const options = serverOptions(config.net);
    this.http = createServer(options, handlers.api);
    handlers.ws.attach(this.http, WS_PATHS);
    this.budget = new ConnectionBudget(config.net.maxConnections ?? defaultMaxConnections(), log.child({ component: 'net' }));
    this.wsServer =
      config.wsPort === null
        ? null
        : createServer(options, (_req, res) => void res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only'));
    if (this.wsServer) handlers.ws.attach(this.wsServer);
    this.metricsServer = config.metricsPort === null ? null : createServer(options, handlers.metrics);
  }

  /**
   * Binds the API port, then WS_PORT and METRICS_PORT when set, on HOST, each put under the
   * budget once bound.
   * @throws Error when a port cannot be bound
   */
  async listen(): Promise<void> {
    const { host } = this.#config;
    this.port = await listen(this.http, this.#config.port, host);
    this.budget.attach(this.http, 'http');
    if (this.wsServer && this.#config.wsPort !== null) {
      this.wsPort = await listen(this.wsServer, this.#config.wsPort, host);
      this.budget.attach(this.wsServer, 'ws');
    }
    if (this.metricsServer && this.#config.metricsPort !== null) {
      this.metricsPort = await listen(this.metricsServer, this.#config.metricsPort, host);
      this.budget.attach(this.metricsServer, 'metrics');
    }
  }

  /** Closes every server and its connections. */
  async close(): Promise<void> {
    await Promise.all([closeServer(this.http), closeServer(this.wsServer), closeServer(this.metricsServer)]);
  }
}
