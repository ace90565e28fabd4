import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StreamState } from '../../shared/stream-state.js';
import { ClientMessageSchema, WsTargetSchema, type ServerMessage, type WsTarget } from '../../shared/ws-messages.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PreviewSink } from '../pipeline.js';

/** Largest client message, bytes; bigger closes the socket with 1009 (ws's maxPayload). */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** A client with more than this many bytes unsent is skipped for preview frames. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Paths on the HTTP port that upgrade to WebSocket. */
export const WS_PATHS = ['/stream/ws', '/api/stream/ws'];

/**
 * The WebSocket side: sockets on the HTTP port's `/stream/ws` and on the standalone WS port,
 * each on one channel (`?target=state|preview|layers`, default `state`). `ws` runs in noServer
 * mode: the upgrade passes through `handleUpgrade`, the seam where auth will check tokens.
 */
export class WsHub implements PreviewSink {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  readonly #targets = new Map<WebSocket, WsTarget>();
  readonly #log: Logger;
  readonly #state: () => StreamState;

  readonly #metrics: Metrics | undefined;

  /** @param state the current stream state, sent on connect */
  constructor(log: Logger, state: () => StreamState, metrics?: Metrics) {
    this.#log = log;
    this.#state = state;
    this.#metrics = metrics;
  }

  /** Sockets per channel, for metrics. */
  counts(): Record<WsTarget, number> {
    return { state: this.count('state'), preview: this.count('preview'), layers: this.count('layers') };
  }

  /** Sockets per channel. */
  count(target: WsTarget): number {
    let n = 0;
    for (const t of this.#targets.values()) if (t === target) n++;
    return n;
  }

  /** Routes `server`'s upgrades on `paths` (all paths when omitted) here; others get 404. */
  attach(server: Server, paths?: string[]): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (paths && !paths.includes(url.pathname)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.handleUpgrade(req, socket, head, url);
    });
  }

  /** Completes one upgrade (400 for an unknown `target`). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const parsed = WsTargetSchema.safeParse(url.searchParams.get('target') ?? 'state');
    if (!parsed.success) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, parsed.data));
  }

  /** Sends to every socket on `target`. */
  broadcast(target: WsTarget, message: ServerMessage): void {
    let data: string | null = null;
    for (const [ws, t] of this.#targets) {
      if (t !== target || ws.readyState !== ws.OPEN) continue;
      data ??= JSON.stringify(message);
      ws.send(data);
      this.#metrics?.wsMessages.inc({ type: message.type });
    }
  }

  wantsPreview(): boolean {
    return this.count('preview') > 0;
  }

  /** Sends one preview frame, encoded once, to every preview socket that is keeping up. */
  pushPreview(jpeg: Uint8Array, timestamp: number): void {
    const message: ServerMessage = {
      type: 'preview',
      payload: { data: Buffer.from(jpeg).toString('base64'), timestamp, quality: 'medium' },
    };
    const data = JSON.stringify(message);
    for (const [ws, t] of this.#targets) {
      if (t !== 'preview' || ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount >= MAX_BUFFERED_BYTES) {
        this.#metrics?.wsPreviewSkipped.inc();
        continue;
      }
      ws.send(data);
      this.#metrics?.wsMessages.inc({ type: 'preview' });
    }
  }

  /** Closes every socket with 1001 (going away). */
  close(): void {
    for (const ws of this.#targets.keys()) ws.close(1001, 'server shutting down');
    this.#wss.close();
  }

  #connected(ws: WebSocket, target: WsTarget): void {
    this.#targets.set(ws, target);
    ws.on('close', () => this.#targets.delete(ws));
    ws.on('error', (err) => this.#log.debug({ err }, 'socket error'));
    ws.on('message', (raw) => this.#message(ws, raw.toString()));
    this.#send(ws, { type: 'welcome', message: `Connected to Stream Manager (${target})`, timestamp: Date.now() });
    this.#send(ws, { type: 'stateUpdate', payload: { stream: this.#state() } });
  }

  #message(ws: WebSocket, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#send(ws, { type: 'error', payload: { code: 'SM_ERR_INVALID_JSON', message: 'Message is not valid JSON' } });
      return;
    }
    const msg = ClientMessageSchema.safeParse(json);
    if (!msg.success) {
      this.#send(ws, { type: 'error', payload: { code: 'SM_ERR_VALIDATION', message: 'Unknown or invalid message' } });
      return;
    }
    this.#send(ws, { type: 'pong', timestamp: Date.now() });
  }

  #send(ws: WebSocket, message: ServerMessage): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(message));
    this.#metrics?.wsMessages.inc({ type: message.type });
  }
}
