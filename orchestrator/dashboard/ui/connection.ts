import type { StreamState } from '../../../shared/stream-state.js';
import type { OutputStatus } from '../../../shared/output-status.js';
import type { PreviewQuality, ServerMessage } from '../../../shared/ws-messages.js';
import { ApiError, type Api } from './api.js';

/**
 * The dashboard's live link: one WebSocket (`/stream/ws`, binary preview frames, the `state`,
 * `layers`, `preview`, `chat` and `audio` channels). When it drops, it reconnects with exponential backoff and, while
 * it is down, polls `GET /stream/status` every second so the numbers stay current (the contract's "fallback
 * to polling").
 */

/** `connecting`: first try; `connected`: socket open; `reconnecting`: down, a retry is scheduled. */
export type LinkState = 'connecting' | 'connected' | 'reconnecting';

/** Exponential backoff: `initialMs` x `factor`^attempt, at most `maxMs`, +-`jitter` (fraction). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

/** 0.5 s, 1 s, 2 s, ... up to 10 s, each +-20% so that many pages do not retry in step. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 };

/**
 * Delay before retry number `attempt` (0 = the first retry), ms.
 * @param random a number in [0, 1), e.g. `Math.random()`
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  return Math.round(base * (1 + policy.jitter * (2 * random - 1)));
}

/** Layout of a binary preview message: 16-byte header (frame number at byte 4, u32 LE), then a JPEG. See shared/ws-messages.ts. */
const BINARY_HEADER_BYTES = 16;

/** `GET /stream/status`: the stream state and the outputs. */
export type StatusBody = StreamState & { outputs: OutputStatus[] };

export interface LinkHandlers {
  /** The link changed state; `retryInMs` and `attempt` are set while reconnecting. */
  state(state: LinkState, info: { attempt: number; retryInMs: number | null }): void;
  message(msg: ServerMessage): void;
  /** A preview frame: its JPEG and frame number. */
  frame(jpeg: Blob, frame: number): void;
  /** A status polled while the socket is down. */
  polled(status: StatusBody): void;
  /** Polling failed (e.g. 401: no valid token; status 0: the server is unreachable). */
  pollError(err: ApiError): void;
}

/** Characters a WebSocket subprotocol may hold (RFC 7230 `token`); other tokens go in `?token=`. */
const PROTOCOL_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The URL and subprotocols of a `/stream/ws` socket with `query`: the token as a `bearer.<token>`
 * subprotocol, or in `?token=` when it has characters a subprotocol may not hold.
 */
export function socketUrl(query: Record<string, string>, token: string | null): { url: string; protocols: string[] } {
  const u = new URL('/stream/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  u.search = new URLSearchParams(query).toString();
  const protocols = ['stream-manager'];
  if (token && PROTOCOL_TOKEN.test(token)) protocols.push(`bearer.${token}`);
  else if (token) u.searchParams.set('token', token);
  return { url: u.toString(), protocols };
}

/** Layout of a binary preview message's header, bytes (for other sockets of the page). */
export const PREVIEW_HEADER_BYTES = BINARY_HEADER_BYTES;

export class LiveLink {
  #ws: WebSocket | null = null;
  #state: LinkState = 'connecting';
  #attempt = 0;
  #retry: number | undefined;
  #poll: number | undefined;
  #quality: PreviewQuality;
  #stopped = false;

  constructor(
    private readonly api: Api,
    private readonly token: () => string | null,
    private readonly handlers: LinkHandlers,
    quality: PreviewQuality,
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly pollMs = 1000,
  ) {
    this.#quality = quality;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Opens the socket (again, at once: e.g. after the token changed). */
  start(): void {
    this.#stopped = false;
    clearTimeout(this.#retry);
    this.#ws?.close();
    this.#open();
  }

  /** Switches the preview quality (sent at once when connected, used for the next socket anyway). */
  setQuality(quality: PreviewQuality): void {
    this.#quality = quality;
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ type: 'quality', quality }));
  }

  #url(): { url: string; protocols: string[] } {
    return socketUrl({ target: 'state', format: 'binary', quality: this.#quality }, this.token());
  }

  #open(): void {
    const { url, protocols } = this.#url();
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      ws.send(JSON.stringify({ type: 'subscribe', channels: ['layers', 'preview', 'chat', 'audio'] }));
      this.#attempt = 0;
      this.#stopPolling();
      this.#set('connected', null);
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === 'string') {
        const msg = JSON.parse(e.data) as ServerMessage;
        if (msg.type === 'preview') {
          const bytes = Uint8Array.from(atob(msg.payload.data), (c) => c.charCodeAt(0));
          this.handlers.frame(new Blob([bytes], { type: 'image/jpeg' }), msg.payload.frame ?? 0);
        } else {
          this.handlers.message(msg);
        }
        return;
      }
      if (e.data.byteLength <= BINARY_HEADER_BYTES) return;
      const frame = new DataView(e.data).getUint32(4, true);
      this.handlers.frame(new Blob([e.data.slice(BINARY_HEADER_BYTES)], { type: 'image/jpeg' }), frame);
    };
    ws.onclose = () => {
      if (this.#ws !== ws || this.#stopped) return;
      this.#ws = null;
      this.#scheduleRetry();
    };
  }

  #scheduleRetry(): void {
    const delay = backoffDelay(this.#attempt, this.backoff, Math.random());
    this.#attempt++;
    this.#set('reconnecting', delay);
    this.#startPolling();
    this.#retry = window.setTimeout(() => this.#open(), delay);
  }

  #set(state: LinkState, retryInMs: number | null): void {
    this.#state = state;
    this.handlers.state(state, { attempt: this.#attempt, retryInMs });
  }

  #startPolling(): void {
    if (this.#poll !== undefined) return;
    const poll = async (): Promise<void> => {
      try {
        this.handlers.polled(await this.api.request<StatusBody>('GET', '/status'));
      } catch (err) {
        this.handlers.pollError(err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err)));
      }
    };
    void poll();
    this.#poll = window.setInterval(() => void poll(), this.pollMs);
  }

  #stopPolling(): void {
    clearInterval(this.#poll);
    this.#poll = undefined;
  }
}
