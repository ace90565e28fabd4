import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { WebSocketServer } from 'ws';
import type { Layer } from '../../shared/scene.js';
import type { StreamConfig } from '../../shared/stream-config.js';
import type { StreamState } from '../../shared/stream-state.js';
import { ClientMessageSchema, WsQuerySchema, type PreviewQuality, type ServerMessage, type WsChannel } from '../../shared/ws-messages.js';
import { binaryPreviewHeader } from '../../shared/binary-preview.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PreviewSink } from '../pipeline.js';
import type { Bus } from '../../shared/studio.js';
import { WS_PROTOCOL, upgradeToken } from '../auth/credentials.js';
import { refuseUpgrade } from './refuse-upgrade.js';
import { seesSecrets } from '../auth/policy.js';
import { redactConfig } from '../../shared/outputs.js';
import { redactMediaSecrets } from '../../shared/media-secrets.js';
import type { TokenSet } from '../auth/tokens.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import type { HostPolicy } from '../auth/host-policy.js';
import { deeperThan, MAX_JSON_DEPTH } from '../../shared/json-depth.js';
import { WsClient } from './ws-client.js';

/** Largest client message, bytes; bigger closes the socket with 1009 (ws's maxPayload). */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** How often congested sockets are looked at, ms. */
const CONGESTION_CHECK_MS = 250;
/** Close codes (RFC 6455 section 7.4.1). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_TRY_AGAIN_LATER = 1013;
const CLOSE_POLICY_VIOLATION = 1008;
/** A socket that sends this many times its message rate within one second is closed with 1008. */
const FLOOD_FACTOR = 5;
/** Paths on the HTTP port that upgrade to WebSocket. */
export const WS_PATHS = ['/stream/ws', '/api/stream/ws'];

/** Everything a client needs to be whole again. */
export interface FullState {
  stream: StreamState;
  version: number;
  config: StreamConfig;
  layers: Layer[];
  /** Studio mode's preview scene, once studio mode is in use (absent before: no change for clients without it). */
  preview?: Layer[];
}

export interface WsHubOptions {
  log: Logger;
  fullState: () => FullState;
  metrics?: Metrics;
  /** Ping interval, ms; a socket that missed the previous pong is terminated. */
  heartbeatMs: number;
  /** Bytes queued for a socket above which it is congested: previews are skipped, state is held. */
  maxBufferedBytes: number;
  /** A socket congested this long is closed with 1013, ms. */
  congestionCloseMs: number;
  /** Messages per second one socket may send; beyond, each gets an `error` and is ignored. */
  messagesPerSecond: number;
  /** Tokens (none: auth off) checked before the 101. */
  tokens: TokenSet;
  /** Browsers' `Origin` must be this server's own or allowed (cross-site WebSocket hijacking). */
  origins: OriginPolicy;
  /** `Host` names served (DNS rebinding; enforced with auth off or ALLOWED_HOSTS). */
  hosts: HostPolicy;
  /** Sockets one remote address may hold at once (WS_MAX_PER_IP); more get 429. */
  maxPerIp: number;
  /** Sockets one token may hold at once, with auth on (WS_MAX_PER_TOKEN); more get 429. */
  maxPerToken: number;
}

/**
 * A message as a socket without the admin role may see it: a config it carries (the welcome
 * `stateUpdate`, a full state after congestion) has its output URL redacted, and every video
 * layer's live `src` (in any message) too. Output events carry redacted URLs for everyone already.
 */
function withoutSecrets(message: ServerMessage): ServerMessage {
  // Live video sources' URLs (layers, scenes) are redacted as output URLs are (shared/media-secrets.ts).
  const m = redactMediaSecrets(message);
  if (m.type === 'stateUpdate' && m.payload.config) return { ...m, payload: { ...m.payload, config: redactConfig(m.payload.config) } };
  return m;
}

/** Message types that are state: never dropped for a congested socket, replaced by a full state. */
const STATE_TYPES = new Set<ServerMessage['type']>(['stateUpdate', 'layerUpdate', 'layerVisibility', 'previewLayerUpdate']);

/**
 * The WebSocket side: sockets on the HTTP port's `/stream/ws` and on the standalone WS port, on
 * channels (`?target=`, then `subscribe`/`unsubscribe`). `ws` runs in noServer mode: upgrades pass
 * through `handleUpgrade`, which checks the `Origin` and the token before answering 101. Each
 * client message counts against a per-socket rate. Each preview frame is encoded
 * once per quality level in use and the same bytes go to every socket at that level.
 */
export class WsHub implements PreviewSink {
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    // Select our subprotocol when offered (browsers sending `bearer.<token>` must get one back);
    // never echo the token protocol.
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  readonly #clients = new Set<WsClient>();
  readonly #o: WsHubOptions;
  readonly #timers: NodeJS.Timeout[];
  readonly #messageLimit: RateLimiterMemory;
  /** Sockets (upgrading or open) per remote address and per token name. */
  readonly #perIp = new Map<string, number>();
  readonly #perToken = new Map<string, number>();

  constructor(options: WsHubOptions) {
    this.#o = options;
    this.#messageLimit = new RateLimiterMemory({ points: options.messagesPerSecond, duration: 1, keyPrefix: 'ws' });
    this.#wss.on('error', (err) => options.log.error({ err }, 'websocket server error'));
    this.#timers = [
      setInterval(() => this.#heartbeat(), options.heartbeatMs),
      setInterval(() => this.#checkCongestion(), CONGESTION_CHECK_MS),
    ];
    for (const t of this.#timers) t.unref();
  }

  /** Sockets subscribed to `channel`. */
  count(channel: WsChannel): number {
    let n = 0;
    for (const c of this.#clients) if (c.channels.has(channel)) n++;
    return n;
  }

  /** Sockets per channel, for metrics. */
  counts(): Record<WsChannel, number> {
    return {
      state: this.count('state'),
      preview: this.count('preview'),
      layers: this.count('layers'),
      chat: this.count('chat'),
      audio: this.count('audio'),
    };
  }

  /** Routes `server`'s upgrades on `paths` (all paths when omitted) here; others get 404. */
  attach(server: Server, paths?: string[]): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node takes its own error handler off an upgrading socket: without one, a peer resetting
      // while we write a refusal would throw (ECONNRESET) out of the process.
      socket.on('error', (err) => {
        this.#o.log.debug({ err }, 'upgrading socket error');
        socket.destroy();
      });
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        // `GET //` and the like: no URL at all (this threw out of the process before).
        return refuseUpgrade(socket, 'SM_ERR_VALIDATION', 'Invalid request URL');
      }
      if (paths && !paths.includes(url.pathname)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.handleUpgrade(req, socket, head, url);
    });
  }

  /**
   * Completes one upgrade, or refuses it before the 101 with an HTTP answer written to the socket:
   * 403 for a `Host` this server does not answer to or a foreign `Origin`, 401 without a valid
   * token (any role may watch), 400 for an invalid query, 429 when the remote address or the
   * token already holds its most sockets (WS_MAX_PER_IP, WS_MAX_PER_TOKEN).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const refuse = (code: Parameters<typeof refuseUpgrade>[1], message?: string): void => {
      // `url` is scrubbed of `?token=` by the logger's serializer.
      this.#o.log.debug({ url: req.url, ip: req.socket.remoteAddress, code }, 'upgrade refused');
      refuseUpgrade(socket, code, message);
    };
    if (!this.#o.hosts.allows(req.headers.host)) return refuse('SM_ERR_HOST_FORBIDDEN');
    if (!this.#o.origins.allows(req.headers.origin, req.headers.host)) return refuse('SM_ERR_ORIGIN_FORBIDDEN');
    const principal = this.#o.tokens.authenticate(upgradeToken(req, url));
    if (!principal) {
      this.#o.metrics?.authFailures.inc({ transport: 'ws' });
      return refuse('SM_ERR_UNAUTHORIZED');
    }
    url.searchParams.delete('token');
    const query = WsQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) return refuse('SM_ERR_VALIDATION', `Invalid query: ${query.error.issues[0]?.message ?? ''}`);
    const ip = req.socket.remoteAddress ?? 'unknown';
    const token = this.#o.tokens.size > 0 ? principal.name : null;
    if ((this.#perIp.get(ip) ?? 0) >= this.#o.maxPerIp)
      return refuse('SM_ERR_TOO_MANY_CONNECTIONS', `This address holds ${this.#o.maxPerIp} WebSocket connections already (WS_MAX_PER_IP)`);
    if (token !== null && (this.#perToken.get(token) ?? 0) >= this.#o.maxPerToken) {
      return refuse(
        'SM_ERR_TOO_MANY_CONNECTIONS',
        `This token holds ${this.#o.maxPerToken} WebSocket connections already (WS_MAX_PER_TOKEN)`,
      );
    }
    // Counted from now until the TCP socket closes, whether the handshake completes or not.
    count(this.#perIp, ip, 1);
    if (token !== null) count(this.#perToken, token, 1);
    socket.once('close', () => {
      count(this.#perIp, ip, -1);
      if (token !== null) count(this.#perToken, token, -1);
    });
    const { target, quality, format, bus } = query.data;
    this.#o.log.debug({ url: req.url, ip, client: principal.name }, 'upgrade');
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#connected(new WsClient(ws, target, quality, format === 'binary', this.#o.maxBufferedBytes, principal, bus)),
    );
  }

  /**
   * Sends to every socket on any of `channels` (once each), serialised once. A congested socket
   * does not get state messages now; it gets the latest full state when it drains.
   */
  broadcast(channels: readonly WsChannel[], message: ServerMessage): void {
    /** The text of each form sent: with or without secrets, under its own name or an alias. */
    const forms = new Map<string, string>();
    const isState = STATE_TYPES.has(message.type);
    for (const c of this.#clients) {
      if (!c.open || !channels.some((ch) => c.channels.has(ch))) continue;
      if (c.congested) {
        if (isState) c.needsFullState = true;
        continue;
      }
      const secrets = seesSecrets(c.principal);
      const name = c.nameOf(message.type);
      const key = `${secrets ? 'admin' : 'redacted'} ${name}`;
      let text = forms.get(key);
      if (text === undefined) {
        text = JSON.stringify(renamed(secrets ? message : withoutSecrets(message), name));
        forms.set(key, text);
      }
      c.send(text);
      this.#o.metrics?.wsMessages.inc({ type: message.type });
    }
  }

  /** Bytes queued in `ws` for every socket together. */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.#clients) n += c.ws.bufferedAmount;
    return n;
  }

  /** Quality levels some preview socket watching `bus` (default the program) wants now. */
  previewQualities(bus: Bus = 'program'): PreviewQuality[] {
    const q = new Set<PreviewQuality>();
    for (const c of this.#clients) if (c.channels.has('preview') && c.bus === bus) q.add(c.quality);
    return [...q];
  }

  /** Sends one encoded preview frame of `bus` (default the program) to every preview socket watching it at `quality` that keeps up. */
  pushPreview(quality: PreviewQuality, jpeg: Uint8Array, timestamp: number, frame: number, bus: Bus = 'program'): void {
    // Each form is built once per frame and the same bytes go to every socket (the JSON as UTF-8
    // bytes already: ws would otherwise encode the ~40 kB string again for each client).
    /** The JSON form under each name in use (`preview`, or an alias), UTF-8 encoded once. */
    const json = new Map<string, Buffer>();
    let base64: string | null = null;
    let binary: Buffer | null = null;
    for (const c of this.#clients) {
      if (!c.channels.has('preview') || c.quality !== quality || c.bus !== bus || !c.open) continue;
      if (c.congested) {
        c.skipped++;
        this.#o.metrics?.wsPreviewSkipped.inc();
        continue;
      }
      if (c.binary) {
        binary ??= Buffer.concat([binaryPreviewHeader(quality, frame, timestamp), jpeg]);
        c.send(binary, true);
      } else {
        const name = c.nameOf('preview');
        let bytes = json.get(name);
        if (!bytes) {
          base64 ??= Buffer.from(jpeg).toString('base64');
          const message: ServerMessage = {
            type: 'preview',
            payload: { data: base64, timestamp, quality, frame, ...(bus === 'preview' ? { bus } : {}) },
          };
          bytes = Buffer.from(JSON.stringify(renamed(message, name)));
          json.set(name, bytes);
        }
        c.send(bytes);
      }
      this.#o.metrics?.wsMessages.inc({ type: 'preview' });
    }
  }

  /**
   * Drops every socket at once, without a close handshake, as a crashed server would; the hub goes
   * on taking new upgrades. For operators moving clients off (and the dashboard's reconnect test).
   * @returns how many sockets were dropped
   */
  terminateAll(): number {
    const n = this.#clients.size;
    for (const c of this.#clients) c.ws.terminate();
    return n;
  }

  /** Closes every socket with 1001 (going away) and stops the timers. */
  close(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const c of this.#clients) c.ws.close(CLOSE_GOING_AWAY, 'server shutting down');
    this.#wss.close();
  }

  #connected(client: WsClient): void {
    const ws = client.ws;
    this.#clients.add(client);
    ws.on('close', () => this.#clients.delete(client));
    ws.on('error', (err) => this.#o.log.debug({ err }, 'socket error'));
    ws.on('pong', (data) => client.pong(data));
    ws.on('message', (raw, isBinary) => {
      this.#messageLimit.consume(client.id).then(
        () => this.#message(client, isBinary ? '' : raw.toString()),
        (res: unknown) => this.#limited(client, res),
      );
    });
    this.#send(client, {
      type: 'welcome',
      message: `Connected to Stream Manager (${[...client.channels].join(',')})`,
      timestamp: Date.now(),
    });
    this.#sendFullState(client);
  }

  /** A message over the socket's rate: answered with an error and ignored; a flood closes the socket. */
  #limited(client: WsClient, res: unknown): void {
    if (!(res instanceof RateLimiterRes)) return void this.#o.log.error({ err: res }, 'ws rate limiter failed');
    this.#o.metrics?.wsRateLimited.inc();
    if (res.consumedPoints > FLOOD_FACTOR * this.#o.messagesPerSecond) {
      if (client.open) {
        this.#o.log.warn({ client: client.principal.name }, 'socket flooded messages; closing');
        client.ws.close(CLOSE_POLICY_VIOLATION, 'message rate exceeded');
      }
      return;
    }
    const retryMs = Math.max(1, res.msBeforeNext);
    this.#send(client, {
      type: 'error',
      payload: {
        code: 'SM_ERR_RATE_LIMITED',
        message: `More than ${this.#o.messagesPerSecond} messages per second; retry in ${retryMs} ms`,
      },
    });
  }

  #sendFullState(client: WsClient): void {
    client.needsFullState = false;
    const message: ServerMessage = { type: 'stateUpdate', payload: this.#o.fullState() };
    this.#send(client, seesSecrets(client.principal) ? message : withoutSecrets(message));
  }

  #message(client: WsClient, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#send(client, { type: 'error', payload: { code: 'SM_ERR_INVALID_JSON', message: 'Message is not valid JSON' } });
      return;
    }
    if (deeperThan(json)) {
      this.#send(client, {
        type: 'error',
        payload: { code: 'SM_ERR_VALIDATION', message: `Message nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep` },
      });
      return;
    }
    const parsed = ClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.#send(client, {
        type: 'error',
        payload: {
          code: 'SM_ERR_VALIDATION',
          message: `Invalid message${issue?.path.length ? ` at "${issue.path.join('.')}"` : ''}: ${issue?.message ?? ''}`,
        },
      });
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'ping':
        this.#send(client, { type: 'pong', timestamp: Date.now() });
        return;
      case 'quality':
        client.quality = msg.quality;
        break;
      case 'subscribe':
        for (const ch of msg.channels) client.join(ch);
        break;
      case 'unsubscribe':
        for (const ch of msg.channels) client.leave(ch);
        break;
    }
    const names = client.reportedNames();
    this.#send(client, {
      type: 'subscribed',
      payload: {
        channels: [...client.channels],
        quality: client.quality,
        format: client.binary ? 'binary' : 'json',
        ...(names ? { names } : {}),
      },
    });
  }

  #send(client: WsClient, message: ServerMessage): void {
    if (!client.open) return;
    client.send(JSON.stringify(renamed(message, client.nameOf(message.type))));
    this.#o.metrics?.wsMessages.inc({ type: message.type });
  }

  /** Terminates sockets that missed the last pong, then pings the rest (ws's documented pattern). */
  #heartbeat(): void {
    for (const c of this.#clients) {
      if (!c.alive) {
        this.#o.log.info({ channels: [...c.channels] }, 'peer missed a heartbeat; terminating');
        c.ws.terminate();
        this.#clients.delete(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Closes sockets congested too long; sends the full state to those that drained. */
  #checkCongestion(): void {
    const now = performance.now();
    for (const c of this.#clients) {
      if (c.congested) {
        c.congestedSince ??= now;
        if (now - c.congestedSince > this.#o.congestionCloseMs) {
          this.#o.log.warn({ skipped: c.skipped, buffered: c.ws.bufferedAmount }, 'socket congested too long; closing');
          c.ws.close(CLOSE_TRY_AGAIN_LATER, 'too slow');
          // A peer that does not read may not read the close frame either.
          setTimeout(() => c.ws.terminate(), 1000).unref();
          this.#clients.delete(c);
        }
      } else {
        c.congestedSince = null;
        if (c.needsFullState) this.#sendFullState(c);
      }
    }
  }
}

/** `message` under the type name `name` (an alias a socket subscribed with), or itself when that is its type. */
function renamed(message: ServerMessage, name: string): ServerMessage | (Omit<ServerMessage, 'type'> & { type: string }) {
  return name === message.type ? message : { ...message, type: name };
}

/** Adds `delta` to `key`'s count, deleting it at 0 (the maps stay as small as the open sockets). */
function count(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
