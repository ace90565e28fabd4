import { CALLS, type CallArgs, type CallName, type CallResult } from './calls.js';
import { ApiError, ConnectionError, UsageError } from './errors.js';

export { ApiError, ConnectionError, UsageError } from './errors.js';

/** Where the server is and how to call it. */
export interface ClientOptions {
  /** The server's base URL, `http://host:port` (a path prefix, if any, is kept). */
  url: string;
  /** A token of AUTH_TOKENS, sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Longest wait for an answer, ms (default 10 000). */
  timeoutMs?: number | undefined;
}

/** Default base URL: the server's default port (PORT 4200) on this machine. */
export const DEFAULT_URL = 'http://127.0.0.1:4200';

/**
 * A small typed client of Stream Manager's HTTP API. `call(name, args)` makes one of the calls of
 * {@link CALLS} (named as the OpenAPI document's operations): the path parameters and the body
 * are typed by the shared zod schemas, and so is the answer (not re-validated: it is returned as
 * the server sent it, so a caller that prints it prints the API's answer).
 * @throws ApiError for an error answer (status, code, message, details); ConnectionError when no
 *   answer came; UsageError for a base URL that is not http(s) or a path parameter that is `.` or `..`
 */
export class StreamManagerClient {
  readonly base: URL;
  readonly #token: string | undefined;
  /** Longest wait for an answer (or, for a WebSocket, its handshake), ms. */
  readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new UsageError(`--url is not a URL: ${JSON.stringify(options.url.slice(0, 200))}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new UsageError(`--url must be http:// or https://, got ${base.protocol}`);
    if (base.username || base.password) throw new UsageError('--url may not carry a user or password: use --token');
    this.base = base;
    this.#token = options.token || undefined;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The URL of `path` (`/stream/...`) on this server, keeping a path prefix of the base URL. */
  url(path: string, query?: Record<string, string>): URL {
    const u = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
    return u;
  }

  /** Headers every call sends: the token, if any. */
  authHeaders(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  /** Makes one call of {@link CALLS} and answers its parsed body (undefined for 204). */
  async call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>> {
    const spec = CALLS[name];
    const params = (args.params ?? {}) as Record<string, string>;
    const path = spec.path.replace(/\{([^}]+)\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined || value === '' || value === '.' || value === '..')
        throw new UsageError(`${key} may not be ${JSON.stringify(value ?? '')}`);
      return encodeURIComponent(value);
    });
    const body = 'body' in args && args.body !== undefined ? JSON.stringify(args.body) : undefined;
    let res: Response;
    try {
      res = await fetch(this.url(path, args.query), {
        method: spec.method,
        headers: {
          accept: 'application/json',
          ...this.authHeaders(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw connectionError(err, this.base, this.timeoutMs);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw connectionError(err, this.base, this.timeoutMs);
    }
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) throw new ApiError(res.status, parsed ?? null);
    return parsed as CallResult<K>;
  }
}

/** A failed fetch as a ConnectionError naming the cause: refused, unknown host, reset, timed out. */
export function connectionError(err: unknown, base: URL, timeoutMs: number): ConnectionError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new ConnectionError(`${base.origin} did not answer within ${timeoutMs} ms`, { cause: err });
  const code = e.cause?.code;
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused (is the server running? see --url, STREAM_MANAGER_URL)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host'
        : code === 'ECONNRESET'
          ? 'the connection was reset'
          : (e.cause?.message ?? e.message ?? String(err));
  return new ConnectionError(`cannot reach ${base.origin}: ${why}${code ? ` (${code})` : ''}`, { cause: err });
}
