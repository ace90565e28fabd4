import type { Redis } from 'ioredis';
import type { Context, Middleware, Next } from 'koa';
import ratelimit from 'koa-ratelimit';
import type { Logger } from 'pino';
import { requiredAccess } from '../auth/policy.js';
import type { AuthState } from './auth-middleware.js';

export interface RateLimitOptions {
  /** Requests one client may make per window. */
  max: number;
  /** Window length, ms. */
  windowMs: number;
  /** When set, counts live in Redis (shared by every instance) under `<prefix>ratelimit:`. */
  redis: { client: Redis; prefix: string; connected: () => boolean } | null;
  log: Logger;
}

/**
 * HTTP rate limiting by koa-ratelimit: per token (its name) when the request carries a valid one,
 * else per client IP, `max` requests per `windowMs` (a sliding window in Redis, a fixed one in
 * memory). Over the limit: 429 `SM_ERR_RATE_LIMITED` with `Retry-After` (seconds) and the
 * `X-RateLimit-*` headers. `/health*` and `/metrics` are not limited (probes and scrapers).
 *
 * With Redis configured the counts are shared there; while Redis is unreachable the limiter falls
 * back to counting in memory rather than refusing every request (fail open to a local limit).
 */
export function rateLimit(o: RateLimitOptions): Middleware<AuthState> {
  const id = (ctx: Context): string | false => {
    const access = requiredAccess(ctx.method, ctx.path);
    if (access === 'open' || access === 'metrics') return false;
    const principal = (ctx.state as AuthState).principal;
    return principal ? `token:${principal.name}` : `ip:${ctx.ip}`;
  };
  const common = { duration: o.windowMs, max: o.max, id, throw: true } as const;
  const memoryDb = new Map<string, { reset: number }>();
  const memory = ratelimit({ ...common, driver: 'memory', db: memoryDb });
  // koa-ratelimit's memory driver never forgets a key; sweep expired windows so that many
  // distinct IPs cannot grow the map without bound.
  const sweep = setInterval(
    () => {
      const now = Date.now() / 1000;
      for (const [k, v] of memoryDb) if (v.reset < now) memoryDb.delete(k);
    },
    Math.max(1000, o.windowMs),
  );
  sweep.unref();
  if (!o.redis) return memory as Middleware<AuthState>;

  const redis = o.redis;
  const shared = ratelimit({ ...common, driver: 'redis', db: redis.client, namespace: `${redis.prefix}ratelimit` });
  let warned = false;
  return async (ctx, next) => {
    if (!redis.connected()) return memory(ctx, next as Next);
    let entered = false;
    try {
      await shared(ctx, async () => {
        entered = true;
        await next();
      });
    } catch (err) {
      // Errors from the route, and the 429 itself, pass on; a Redis failure falls back to memory.
      if (entered || (err as { status?: number }).status !== undefined) throw err;
      if (!warned) o.log.warn({ err }, 'rate limiter cannot reach redis; counting in memory until it is back');
      warned = true;
      await memory(ctx, next as Next);
      return;
    }
    warned = false;
  };
}
