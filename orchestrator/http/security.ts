import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import type { OriginPolicy } from '../auth/origin-policy.js';

/** Headers a browser may send cross-origin, and those its scripts may read. */
const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'X-Request-Id'];
const EXPOSE_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'X-Request-Id',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
];

/**
 * Security headers (helmet's defaults: `Content-Security-Policy` (scripts and styles from this
 * origin only; images also from `blob:`; no request upgrade), `X-Content-Type-Options:
 * nosniff`, `X-Frame-Options`, `Referrer-Policy: no-referrer`, ...; no `X-Powered-By`) and CORS
 * by `@koa/cors` for the origins in `policy` only (others get no CORS headers, so browsers keep
 * their scripts from reading the answers). Tokens travel in headers, never cookies, so credentials
 * are not allowed cross-origin.
 */
export function securityHeaders(policy: OriginPolicy): Middleware[] {
  return [
    helmet({
      contentSecurityPolicy: {
        directives: {
          // The dashboard draws binary preview frames from blob: URLs and talks to this origin's
          // WebSocket; it is served over plain HTTP (TLS, if any, ends at a proxy), so requests
          // must not be upgraded to https.
          'img-src': ["'self'", 'data:', 'blob:'],
          'connect-src': ["'self'"],
          'upgrade-insecure-requests': null,
        },
      },
    }),
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
