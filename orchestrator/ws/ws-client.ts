import type { WebSocket } from 'ws';
import type { Principal } from '../auth/tokens.js';
import type { Bus } from '../../shared/studio.js';
import { WS_ALIASES, type PreviewQuality, type ServerMessage, type WsAlias, type WsChannel } from '../../shared/ws-messages.js';

/** The message type of each channel that a design document's alias renames. */
const ALIASED_TYPE: Partial<Record<WsChannel, ServerMessage['type']>> = { preview: 'preview', state: 'stateUpdate' };

function isAlias(target: WsChannel | WsAlias): target is WsAlias {
  return Object.hasOwn(WS_ALIASES, target);
}

/**
 * One connected socket and what the hub knows of it: its channels, preview quality and format,
 * whether it answered the last heartbeat, and its congestion (bytes sent and not yet confirmed
 * read by the peer beyond the hub's threshold; see {@link WsClient.unconfirmed}).
 */
export class WsClient {
  static #next = 0;
  /** Unique within this process; the key of the socket's message rate limit. */
  readonly id = `c${++WsClient.#next}`;
  readonly channels = new Set<WsChannel>();
  /** Message types this socket gets under a design document's name, because it subscribed with that alias. */
  readonly names = new Map<ServerMessage['type'], WsAlias>();
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
  /** Bytes handed to the socket since it opened. */
  sent = 0;
  /** Bytes the peer has read, as far as we know: the mark of the last flow-control ping it answered. */
  confirmed = 0;
  /** `sent` when the last flow-control ping went out. */
  #pinged = 0;

  constructor(
    readonly ws: WebSocket,
    target: WsChannel | WsAlias,
    quality: PreviewQuality,
    binary: boolean,
    readonly maxBufferedBytes: number,
    readonly principal: Principal,
    /** Studio mode: which scene this socket's preview frames show (`?bus=`). */
    readonly bus: Bus = 'program',
  ) {
    this.join(target);
    this.quality = quality;
    this.binary = binary;
  }

  /**
   * Subscribes to a channel, named or by an alias (shared/ws-messages.ts `WS_ALIASES`): an alias
   * also renames its message type for this socket; the channel's own name takes that back.
   */
  join(target: WsChannel | WsAlias): void {
    if (isAlias(target)) {
      const { channel, type } = WS_ALIASES[target];
      this.channels.add(channel);
      this.names.set(type, target);
      return;
    }
    this.channels.add(target);
    const type = ALIASED_TYPE[target];
    if (type) this.names.delete(type);
  }

  /** Unsubscribes from a channel (named or by an alias), and forgets its renamed type. */
  leave(target: WsChannel | WsAlias): void {
    const channel = isAlias(target) ? WS_ALIASES[target].channel : target;
    this.channels.delete(channel);
    const type = ALIASED_TYPE[channel];
    if (type) this.names.delete(type);
  }

  /** The name this socket gets messages of `type` under: the type, or the alias it subscribed with. */
  nameOf(type: ServerMessage['type']): string {
    return this.names.get(type) ?? type;
  }

  /** `names` as the `subscribed` message reports it: `{ preview?: alias, stateUpdate?: alias }`, or undefined. */
  reportedNames(): { preview?: 'frame' | 'previewFrame'; stateUpdate?: 'streamState' } | undefined {
    if (this.names.size === 0) return undefined;
    return Object.fromEntries(this.names) as { preview?: 'frame' | 'previewFrame'; stateUpdate?: 'streamState' };
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /**
   * Bytes sent that the peer has not been seen to read: queued in `ws`, in our kernel's send
   * buffer, on the wire, or in the peer's receive buffer. The kernel's buffers are invisible to
   * `bufferedAmount` (a peer that never reads lets them grow to several MB per socket); this
   * counts them too.
   */
  get unconfirmed(): number {
    return this.sent - this.confirmed;
  }

  /** More than the threshold is sent but not known to be read (or is waiting in `ws`). */
  get congested(): boolean {
    return this.unconfirmed > this.maxBufferedBytes || this.ws.bufferedAmount > this.maxBufferedBytes;
  }

  /**
   * Sends a text frame (a string, or UTF-8 bytes already encoded: no per-client encode) or, with
   * `binary`, a binary frame. Every `window` bytes (a quarter of the threshold, at most 64 KiB) a
   * ping carrying the byte count follows the data: a peer answers a ping only once it has read
   * everything before it (RFC 6455 section 5.5.2; browsers and `ws` answer on their own), so its
   * pong confirms that count ({@link pong}).
   */
  send(data: string | Buffer, binary = false): void {
    if (!this.open) return;
    this.ws.send(data, { binary });
    this.sent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (this.sent - this.#pinged >= Math.min(64 * 1024, this.maxBufferedBytes / 4)) {
      this.#pinged = this.sent;
      this.ws.ping(String(this.sent));
    }
  }

  /** A pong came: its payload, when it is one of our marks, is how many bytes the peer has read. */
  pong(data: Buffer): void {
    this.alive = true;
    if (data.length === 0 || data.length > 16) return;
    const n = Number(data.toString('latin1'));
    if (Number.isSafeInteger(n) && n > this.confirmed && n <= this.sent) this.confirmed = n;
  }
}
