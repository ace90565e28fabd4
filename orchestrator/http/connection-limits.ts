import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** How often a repeated condition (connections dropped, accept failing) is logged at most, ms. */
const LOG_EVERY_MS = 10_000;

/**
 * The soft limit on open file descriptors of this process (`ulimit -n`; Node raises the soft
 * limit to the hard one at start), from `/proc/self/limits`; null where that file is not readable
 * (not Linux).
 */
export function fdLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return null;
  }
}

/** File descriptors open now (`/proc/self/fd`), or null where unknown. */
export function openFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/**
 * How many client connections (HTTP, WebSocket, metrics: all servers together) fit under the fd
 * limit: the limit, less the fds open now, less a reserve for what opens later (ffmpeg's pipes,
 * per output: 3-4; recordings, state writes, uploads, Redis, fonts and images in workers): a
 * quarter of the limit, at least 128 and at most 1024. At least 16. With no readable limit, 1024.
 * E.g. `ulimit -n 1024` with 40 fds open: 1024 - 40 - 256 = 728.
 */
export function defaultMaxConnections(limit: number | null = fdLimit(), open: number | null = openFds()): number {
  if (limit === null) return 1024;
  const reserve = Math.min(1024, Math.max(128, Math.floor(limit / 4)));
  return Math.max(16, Math.min(limit - (open ?? 64) - reserve, 1_000_000));
}

/** Timeouts every server gets (Node's `http.createServer` options), ms. */
export interface ServerTimeouts {
  /** Time to receive a request's headers (slowloris; WebSocket upgrades too). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
}

/** The options for `http.createServer`: the timeouts, checked every second (Node's default checks every 30 s). */
export function serverOptions(t: ServerTimeouts): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, t.headersTimeoutMs),
  };
}

/**
 * One budget of client connections shared by every server of the process (so that together they
 * stay under the fd limit), and the handlers that keep a server alive when the fd table is full:
 * connections past the budget are closed at once (Node's `maxConnections`, and a shared count),
 * a failing `accept` (EMFILE, ENFILE) is logged, never thrown. Each condition is logged at most
 * once per 10 s, with how many times it happened.
 */
export class ConnectionBudget {
  #open = 0;
  #dropped = 0;
  #lastDropLog = 0;
  readonly #errorLog = new Map<string, { at: number; count: number }>();

  constructor(
    readonly max: number,
    readonly log: Logger,
  ) {}

  /** Connections open now, all servers together. */
  get open(): number {
    return this.#open;
  }

  /** Connections closed at once because the budget was full, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Puts `server` under this budget and keeps its errors (accept failures) from being thrown. */
  attach(server: Server, name: string): void {
    server.maxConnections = this.max;
    server.on('drop', () => this.#drop(name));
    server.on('connection', (socket: Socket) => {
      if (this.#open >= this.max) {
        socket.destroy();
        this.#drop(name);
        return;
      }
      this.#open++;
      socket.once('close', () => this.#open--);
    });
    server.on('error', (err: NodeJS.ErrnoException) => this.#error(name, err));
  }

  #drop(server: string): void {
    this.#dropped++;
    const now = Date.now();
    if (now - this.#lastDropLog < LOG_EVERY_MS) return;
    this.#lastDropLog = now;
    this.log.warn(
      { server, max: this.max, dropped: this.#dropped },
      'connection limit reached; new connections are closed at once (MAX_CONNECTIONS)',
    );
  }

  #error(server: string, err: NodeJS.ErrnoException): void {
    const key = `${server}:${err.code ?? err.message}`;
    const now = Date.now();
    const seen = this.#errorLog.get(key);
    if (seen && now - seen.at < LOG_EVERY_MS) {
      seen.count++;
      return;
    }
    this.#errorLog.set(key, { at: now, count: 1 });
    this.log.error({ err, server, repeats: seen?.count ?? 0 }, 'server error (the server keeps listening)');
  }
}
