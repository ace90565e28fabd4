import type { Role } from './tokens.js';

/** A file name the dashboard may have: no folders, no hidden files, no `..`. */
export const DASHBOARD_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** URL paths of the dashboard: the page at `/` and its files under `/ui/`. They hold no secrets. */
export function isDashboardPath(path: string): boolean {
  return path === '/' || (path.startsWith('/ui/') && DASHBOARD_FILE_NAME.test(path.slice(4)));
}

/**
 * URL paths of the API's own documents: `/openapi.json`, `/asyncapi.json`, the Swagger UI page
 * `/docs` and its files under `/docs/`. Generated from the schemas alone, they hold no
 * configuration value or secret (as Restreamer's Swagger UI and obs-websocket's protocol docs are public).
 */
export function isApiDocsPath(path: string): boolean {
  return (
    path === '/openapi.json' ||
    path === '/asyncapi.json' ||
    path === '/docs' ||
    (path.startsWith('/docs/') && DASHBOARD_FILE_NAME.test(path.slice(6)))
  );
}

/** What a route needs: nothing, the metrics token (or admin), or a token of at least a role. */
export type Access = 'open' | 'metrics' | Role;

/** Routes that only an admin may call, by method and path below the API prefix. */
const ADMIN_ONLY: { method: string; path: RegExp }[] = [
  { method: 'PATCH', path: /^\/config$/ },
  { method: 'DELETE', path: /^\/assets\/[^/]+$/ },
  // Output URLs carry stream keys: only admins add or change outputs (operators may start/stop them).
  { method: 'POST', path: /^\/outputs$/ },
  { method: 'PATCH', path: /^\/outputs\/[^/]+$/ },
  { method: 'DELETE', path: /^\/outputs\/[^/]+$/ },
];

/**
 * Changes a viewer may make, by method and path below the API prefix: opening and ending its own
 * WHEP session (a viewer watches the program over WebRTC as it does the WS preview), and any
 * other method on a session (answered 405: no trickle ICE).
 */
const VIEWER_WRITES: { method: RegExp; path: RegExp }[] = [
  { method: /^POST$/, path: /^\/whep\/[^/]+$/ },
  { method: /^/, path: /^\/whep\/[^/]+\/[^/]+$/ },
];

/**
 * The access rule for one request, decided from its method and path alone so that it runs before
 * the body is read: `/health*`, the dashboard's files (`GET /`, `/ui/*`: the page asks for a
 * token itself) and the API's documents (`/openapi.json`, `/asyncapi.json`, `/docs*`) are open; `/metrics` needs METRICS_TOKEN when one is set; reading
 * (GET, HEAD) and a WHEP session (`POST /whep/:id`, any method on `/whep/:id/:session`) need `viewer`; `PATCH /config`, `DELETE /assets/:id` and adding, changing or removing an output need `admin`; every other
 * change needs `operator`. Unknown paths need `viewer`, so a caller without a token learns nothing
 * about which routes exist.
 * @param method HTTP method, upper case
 * @param path URL path without the query, e.g. `/api/stream/layers/x`
 */
export function requiredAccess(method: string, path: string): Access {
  const rest = path.replace(/^\/api(?=\/|$)/, '').replace(/^\/stream(?=\/|$)/, '') || '/';
  if (rest === '/health' || rest === '/health/ready') return 'open';
  if (path === '/metrics') return 'metrics';
  if ((method === 'GET' || method === 'HEAD') && (isDashboardPath(path) || isApiDocsPath(path))) return 'open';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'viewer';
  if (VIEWER_WRITES.some((r) => r.method.test(method) && r.path.test(rest))) return 'viewer';
  if (ADMIN_ONLY.some((r) => r.method === method && r.path.test(rest))) return 'admin';
  return 'operator';
}

/**
 * Whether a caller may see secrets in answers (output URLs with stream keys, passphrases, user
 * info): admins only, who are also the only ones who may set them. With auth off everyone is the
 * local admin. Everyone else gets them through `redactUrl`/`redactConfig`.
 */
export function seesSecrets(principal: { role: Role } | null | undefined): boolean {
  return principal?.role === 'admin';
}
