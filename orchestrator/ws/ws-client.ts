import type { WebSocket } from 'ws';
import type { Principal } from '../auth/tokens.js';
import type { PreviewQuality, WsChannel } from '../../shared/ws-messages.js';

/**
 * One connected socket and what the hub knows of it: its channels, preview quality and format,
 * whether it answered the last heartbeat, and its congestion (bytes queued in `ws` beyond the
 * hub's threshold).
 */
export class WsClient {
  static #next = 0;
  /** Unique within this process; the key of the socket's message rate limit. */
  readonly id = `c${++WsClient.#next}`;
  readonly channels: Set<WsChannel>;
  quality: PreviewQuality;
  readonly binary: boolean;
  /** Cleared when a ping goes out, set by the pong. */
  alive = true;
  /** performance.now() when it became congested, or null. */
  congestedSince: number | null = null;
  /** A state event was held back while congested: send the full state when it drains. */
  needsFullState = false;
  /** Preview frames skipped for this socket because it was congested. */
  skipped = 0;

  constructor(readonly ws: WebSocket, channel: WsChannel, quality: PreviewQuality, binary: boolean, readonly maxBufferedBytes: number, readonly principal: Principal) {
    this.channels = new Set([channel]);
    this.quality = quality;
    this.binary = binary;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** More than the threshold is waiting to be written to this socket. */
  get congested(): boolean {
    return this.ws.bufferedAmount > this.maxBufferedBytes;
  }

  /**
   * Sends a text frame (a string, or UTF-8 bytes already encoded: no per-client encode) or, with
   * `binary`, a binary frame.
   */
  send(data: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(data, { binary });
  }
}
