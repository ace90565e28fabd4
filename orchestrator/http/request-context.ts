import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { scrubUrl } from '../redact-url.js';

/** A request id we accept from a client: printable, at most 128 characters. */
const REQUEST_ID = /^[\w.:/-]{1,128}$/;

/** What this middleware puts on `ctx.state`. */
export interface RequestState {
  /** The request's id, echoed as `X-Request-Id`. */
  requestId: string;
  /** A child logger whose every line carries `reqId`. */
  log: Logger;
}

/**
 * Scrapes and probes: `/metrics` and `/health`, `/health/ready` (also under `/api` and
 * `/stream`), which Prometheus and orchestrators call every few seconds.
 */
const ROUTINE = /^(?:\/api|\/stream)?\/(?:metrics|health|health\/ready)$/;

/**
 * Gives every request an id (the client's `X-Request-Id` when it is sane, else a new UUID) and a
 * child logger carrying it, logs one line per request (at debug for scrapes and probes, which
 * come every few seconds: {@link ROUTINE}; info otherwise), and records its duration by route
 * template (never the raw path, so label values stay bounded), method and status. The logged
 * `url` has its `?token=` values scrubbed.
 */
export function requestContext(log: Logger, metrics?: Metrics): Middleware<RequestState> {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ reqId: requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const matched = (ctx as unknown as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : 'unmatched';
      metrics?.httpDuration.observe({ route, method: ctx.method, status: String(ctx.status) }, seconds);
      const line = { method: ctx.method, route, url: scrubUrl(ctx.url), status: ctx.status, ms: Math.round(seconds * 10000) / 10 };
      if (ROUTINE.test(route)) ctx.state.log.debug(line, 'request');
      else ctx.state.log.info(line, 'request');
    }
  };
}
