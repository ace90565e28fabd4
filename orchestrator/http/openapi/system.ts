import { z } from 'zod';
import { HealthSchema, ReadinessSchema, WhoAmISchema } from '../../../shared/responses.js';
import type { RouteGroup } from './route-doc.js';

/** A JSON document (the OpenAPI and AsyncAPI documents describe themselves no further). */
const JsonDocument = z.record(z.string(), z.unknown());

/** Health (http/health.ts), metrics, the dashboard's files and the API's own documents. */
export const systemGroup: RouteGroup = {
  tag: 'system',
  description:
    "Health and readiness (open to all), who the caller is, Prometheus metrics, the dashboard page, and this API's documents: OpenAPI, AsyncAPI (WebSocket) and the Swagger UI page",
  routes: [
    {
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      summary: 'Liveness: 503 `down` only when live and the frame clock stalled',
      description:
        'Also at `/api/health`, `/stream/health` and `/api/stream/health`. `degraded` (200) while the store is, the stream stopped in error or an output gave up.',
      ok: HealthSchema,
      others: { 503: { description: '`down`: live, and the frame clock has not ticked for 5 s', schema: HealthSchema } },
    },
    {
      method: 'get',
      path: '/health/ready',
      operationId: 'getReadiness',
      summary: 'Readiness: ffmpeg found, pool up, store reachable, the stream not stopped in error',
      description: 'Also at `/api/health/ready`, `/stream/health/ready` and `/api/stream/health/ready`.',
      ok: ReadinessSchema,
      others: { 503: { description: '`unready`: `failing` names the checks that fail', schema: ReadinessSchema } },
    },
    {
      method: 'get',
      path: '/stream/whoami',
      operationId: 'whoAmI',
      summary: "The caller's own role and token name, and whether auth is on (the dashboard offers only what the role may do)",
      description: 'With auth off everyone is the local admin (`{ role: "admin", name: "local", auth: false }`).',
      ok: WhoAmISchema,
    },
    {
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      summary: 'Prometheus text exposition (METRICS_TOKEN or an admin token when METRICS_TOKEN is set)',
      ok: { media: { 'text/plain': 'text' } },
    },
    {
      method: 'get',
      path: '/',
      operationId: 'getDashboard',
      summary: 'The dashboard page (its scripts ask for a token themselves)',
      ok: { media: { 'text/html': 'text' } },
      errors: ['SM_ERR_NOT_FOUND'],
    },
    {
      method: 'get',
      path: '/ui/{file}',
      operationId: 'getDashboardFile',
      summary: 'A script or stylesheet of the dashboard',
      params: z.object({ file: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/) }),
      ok: { media: { 'text/javascript': 'text', 'text/css': 'text' } },
      errors: ['SM_ERR_NOT_FOUND'],
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This document (OpenAPI 3.1), generated from the zod schemas of the API',
      ok: JsonDocument,
    },
    {
      method: 'get',
      path: '/asyncapi.json',
      operationId: 'getAsyncApi',
      summary: 'The WebSocket protocol (AsyncAPI 3.0): channels and every message, from the same zod schemas',
      ok: JsonDocument,
    },
    {
      method: 'get',
      path: '/docs',
      operationId: 'getDocsPage',
      summary: 'This document in Swagger UI (served from this server, no CDN)',
      ok: { media: { 'text/html': 'text' } },
    },
    {
      method: 'get',
      path: '/docs/{file}',
      operationId: 'getDocsFile',
      summary: 'A script, stylesheet or icon of the Swagger UI page',
      params: z.object({ file: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/) }),
      ok: { media: { 'text/javascript': 'text', 'text/css': 'text', 'image/png': 'binary' } },
      errors: ['SM_ERR_NOT_FOUND'],
    },
  ],
};
