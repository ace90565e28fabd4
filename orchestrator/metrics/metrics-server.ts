/**
 * The metrics-only server (METRICS_PORT): `GET /metrics` and nothing else, so Prometheus can
 * scrape on a port the API is not reachable on.
 */
import type { RequestListener } from 'node:http';
import { BEARER_CHALLENGE, bearerToken } from '../auth/credentials.js';
import type { TokenSet } from '../auth/tokens.js';
import type { Metrics } from './metrics.js';

/**
 * The request handler of the metrics-only server: `/metrics` (any query) answers the Prometheus
 * text exposition; with METRICS_TOKEN set, only to that token or an admin token (else 401 with a
 * Bearer challenge, counted in `authFailures`); every other path is a 404.
 */
export function metricsListener(metrics: Metrics, tokens: TokenSet): RequestListener {
  return (req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    if (!tokens.mayReadMetrics(bearerToken(req.headers.authorization))) {
      metrics.authFailures.inc({ transport: 'http' });
      return void res.writeHead(401, { 'www-authenticate': BEARER_CHALLENGE }).end();
    }
    void metrics.scrape().then(({ body, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(body));
  };
}
