import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Allowed cross-origin callers. An `Origin` is allowed when it is in `CORS_ORIGINS` (exact
 * `scheme://host[:port]` strings; `*` allows any) or names this server itself (same origin).
 */
export class OriginPolicy {
  readonly #allowed: Set<string>;
  constructor(allowed: readonly string[]) {
    this.#allowed = new Set(allowed);
  }

  /**
   * True when a request from `origin` to this server (`host`: the request's `Host` header) may be
   * served: no Origin (not a browser), the same origin, or an allowed one.
   */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (!origin) return true;
    if (this.#allowed.has('*') || this.#allowed.has(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /** True when `origin` is in the allow-list itself (cross-origin callers get CORS headers). */
  listed(origin: string): boolean {
    return this.#allowed.has('*') || this.#allowed.has(origin);
  }
}

/** Headers a browser may send cross-origin, and those its scripts may read. */
const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'X-Request-Id'];
const EXPOSE_HEADERS = ['ETag', 'Retry-After', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];

/**
 * Security headers (helmet's defaults: `Content-Security-Policy`, `X-Content-Type-Options:
 * nosniff`, `X-Frame-Options`, `Referrer-Policy: no-referrer`, ...; no `X-Powered-By`) and CORS
 * by `@koa/cors` for the origins in `policy` only (others get no CORS headers, so browsers keep
 * their scripts from reading the answers). Tokens travel in headers, never cookies, so credentials
 * are not allowed cross-origin.
 */
export function securityHeaders(policy: OriginPolicy): Middleware[] {
  return [
    helmet(),
    cors({
      origin: (ctx) => {
        const origin = ctx.get('Origin');
        return policy.listed(origin) ? origin : '';
      },
      allowHeaders: ALLOW_HEADERS,
      exposeHeaders: EXPOSE_HEADERS,
      maxAge: 600,
    }),
  ];
}
