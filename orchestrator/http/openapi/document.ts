import { readFileSync } from 'node:fs';
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../../../shared/errors.js';
import { ErrorBodySchema } from '../../../shared/responses.js';
import { requiredAccess, type Access } from '../../auth/policy.js';
import { assetsGroup } from './assets.js';
import { nameComponents } from './components.js';
import { chatGroup, dataGroup } from './data-chat.js';
import { layersGroup } from './layers.js';
import { outputsGroup } from './outputs.js';
import type { Media, RouteDoc, RouteGroup } from './route-doc.js';
import { scenesGroup } from './scenes.js';
import { streamGroup } from './stream.js';
import { studioGroup } from './studio.js';
import { systemGroup } from './system.js';
import { whepGroup } from './whep.js';

/** Every route group, in the order the document lists them. A new group file is added here. */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  streamGroup,
  layersGroup,
  dataGroup,
  chatGroup,
  scenesGroup,
  studioGroup,
  outputsGroup,
  whepGroup,
  assetsGroup,
  systemGroup,
];

/** The OpenAPI document as JSON (the generator's output type, loosely). */
export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/**
 * The canonical path of a route the router serves, as the document names it: the REST API is
 * served under `/stream` and `/api/stream`, health also at `/health`, `/api/health` and
 * `/stream/health`; the document lists each route once, at `/stream/...` (health at `/health`).
 * Koa's `:name` becomes OpenAPI's `{name}`.
 * @param path a router path template, e.g. `/api/stream/layers/:id`
 * @returns e.g. `/stream/layers/{id}`
 */
export function canonicalPath(path: string): string {
  let p = path.replace(/^\/api(?=\/)/, '');
  if (/^\/stream\/health(\/|$)/.test(p)) p = p.slice('/stream'.length);
  return p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A concrete path for a template (`{id}` -> `x`), to ask the access rule about it. */
function samplePath(template: string): string {
  return template.replace(/\{[^}]+\}/g, 'x');
}

/** Who may call `route`, by the server's own access rule (auth/policy.ts). */
export function routeAccess(route: Pick<RouteDoc, 'method' | 'path'>): Access {
  return requiredAccess(route.method.toUpperCase(), samplePath(route.path));
}

/** The OpenAPI security requirement of an access level: `[]` open, a bearer role, or the metrics token. */
function security(access: Access): Record<string, string[]>[] {
  if (access === 'open') return [];
  if (access === 'metrics') return [{}, { metricsToken: [] }, { bearerAuth: ['admin'] }];
  return [{ bearerAuth: [access] }];
}

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** The error codes `route` can answer: those of its kind (access, body, If-Match, store) and its own. */
export function routeErrors(route: RouteDoc): ErrorCode[] {
  const access = routeAccess(route);
  const codes = new Set<ErrorCode>(['SM_ERR_HOST_FORBIDDEN', 'SM_ERR_ORIGIN_FORBIDDEN', 'SM_ERR_INTERNAL']);
  if (access !== 'open') codes.add('SM_ERR_UNAUTHORIZED');
  // Open routes and /metrics are not rate limited (http/rate-limit.ts).
  if (access !== 'open' && access !== 'metrics') codes.add('SM_ERR_RATE_LIMITED');
  if (access === 'operator' || access === 'admin') codes.add('SM_ERR_FORBIDDEN');
  if (MUTATING.has(route.method)) {
    for (const c of ['SM_ERR_INVALID_JSON', 'SM_ERR_BODY_TOO_LARGE', 'SM_ERR_STORE_UNAVAILABLE'] as const) codes.add(c);
  }
  if (route.body || route.query || route.ifMatch) codes.add('SM_ERR_VALIDATION');
  if (route.ifMatch) codes.add('SM_ERR_PRECONDITION_FAILED');
  for (const c of route.errors ?? []) codes.add(c);
  return [...codes];
}

/** A `content` map for media types: bytes, text, or JSON of a schema. */
function content(media: Media): Record<string, { schema: z.ZodType | { type: 'string'; contentMediaType?: string } }> {
  return Object.fromEntries(
    Object.entries(media).map(([type, kind]) => [
      type,
      {
        schema:
          kind === 'binary' ? { type: 'string' as const, contentMediaType: type } : kind === 'text' ? { type: 'string' as const } : kind,
      },
    ]),
  ) as Record<string, { schema: z.ZodType }>;
}

const ETAG_HEADER = {
  ETag: { description: 'The version of what was answered, e.g. `"17"`: send it back in `If-Match`', schema: { type: 'string' as const } },
};

/** One entry as zod-to-openapi's route config: parameters, body, success, other answers and errors. */
function routeConfig(route: RouteDoc, tag: string): RouteConfig {
  const access = routeAccess(route);
  const status = route.status ?? (route.ok === null ? 204 : 200);
  const headers = route.ifMatch || route.etag ? ETAG_HEADER : undefined;
  const responses: RouteConfig['responses'] = {};
  const okDescription = route.okDescription ?? route.summary;
  if (route.ok === null) responses[status] = { description: okDescription };
  else if (route.ok instanceof z.ZodType)
    responses[status] = { description: okDescription, headers, content: { 'application/json': { schema: route.ok } } };
  else responses[status] = { description: okDescription, content: content(route.ok.media) };
  for (const [code, other] of Object.entries(route.others ?? {})) {
    responses[code] = other.schema
      ? { description: other.description, content: { 'application/json': { schema: other.schema } } }
      : { description: other.description };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(route)) {
    const s = ERRORS[code].status;
    byStatus.set(s, [...(byStatus.get(s) ?? []), code]);
  }
  for (const [s, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    if (responses[s]) continue;
    responses[s] = {
      description: codes.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join('; '),
      content: { 'application/json': { schema: ErrorBodySchema } },
      'x-error-codes': codes,
    } as RouteConfig['responses'][string];
  }
  const request: NonNullable<RouteConfig['request']> = {};
  if (route.params) request.params = route.params;
  if (route.query) request.query = route.query;
  if (route.ifMatch) {
    request.headers = z.object({
      'If-Match': z
        .string()
        .optional()
        .meta({ description: '`"<etag>"` (or a list, or `*`): change only while the resource is at this version, else 412' }),
    });
  }
  if (route.body instanceof z.ZodType) {
    request.body = { required: !route.bodyOptional, content: { 'application/json': { schema: route.body } } };
  } else if (route.body) {
    request.body = { required: true, description: route.body.description, content: content(route.body.media) };
  }
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, accessLine(access)].filter(Boolean).join('\n\n'),
    tags: [tag],
    security: security(access),
    'x-required-role': access,
    request,
    responses,
  } as RouteConfig;
}

/** A sentence saying who may call. */
function accessLine(access: Access): string {
  if (access === 'open') return 'Open: no token needed.';
  if (access === 'metrics') return 'Needs `METRICS_TOKEN` (or an admin token) when `METRICS_TOKEN` is set; open otherwise.';
  return `Needs a token of role \`${access}\` or above (with \`AUTH_TOKENS\` unset, every caller on loopback is admin).`;
}

const DESCRIPTION = `Stream Manager's HTTP API: a headless live-video compositor driven over HTTP.

Every \`/stream/...\` route is also served under \`/api/stream/...\`; \`/health\` and \`/health/ready\` also under \`/api\`, \`/stream\` and \`/api/stream\`.

**Auth**: \`Authorization: Bearer <token>\` with a token of \`AUTH_TOKENS\`. Roles, weakest first: \`viewer\` reads, \`operator\` also changes the show, \`admin\` also changes the config and outputs and sees stream keys. Without \`AUTH_TOKENS\` the server answers on loopback only and every caller is admin.

**Errors**: \`{ "error": { "code", "message", "details?" } }\` with a stable code; each answer lists its codes (\`x-error-codes\`). Invalid input changes nothing; a 2xx on a change means it is stored.

**Versions**: \`ETag\` answers and \`If-Match\` (412 when stale) on layers, config and the scene.

The WebSocket protocol is described by \`/asyncapi.json\`; this document is browsable at \`/docs\`.`;

/** The package's version (package.json beside dist/), for `info.version`. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

let cached: OpenApiDocument | null = null;

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas of shared/ and the
 * route entries of this folder (once per process, then cached). It holds no configuration value:
 * the same for every server, safe to serve to anyone.
 * @throws Error when two entries share a method and path or an operationId (a programming error)
 */
export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  nameComponents();
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token of `AUTH_TOKENS` (or `AUTH_TOKENS_FILE`); the role list of a requirement names the weakest role that may call.',
  });
  registry.registerComponent('securitySchemes', 'metricsToken', {
    type: 'http',
    scheme: 'bearer',
    description: '`METRICS_TOKEN`: reads `/metrics` only.',
  });
  const seen = new Set<string>();
  for (const group of ROUTE_GROUPS) {
    for (const route of group.routes) {
      for (const key of [`${route.method} ${route.path}`, `operationId ${route.operationId}`]) {
        if (seen.has(key)) throw new Error(`Two OpenAPI route entries share ${key}`);
        seen.add(key);
      }
      registry.registerPath(routeConfig(route, group.tag));
    }
  }
  const generator = new OpenApiGeneratorV31(registry.definitions);
  cached = generator.generateDocument({
    openapi: '3.1.0',
    info: { title: 'Stream Manager', version: packageVersion(), description: DESCRIPTION },
    servers: [{ url: '/' }],
    tags: ROUTE_GROUPS.map((g) => ({ name: g.tag, description: g.description })),
  });
  return cached;
}
