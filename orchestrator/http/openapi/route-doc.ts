import type { z } from 'zod';
import type { ErrorCode } from '../../../shared/errors.js';

/** HTTP methods of the API's routes, as OpenAPI spells them. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A body that is not JSON: media type -> `binary` (bytes), `text`, or a zod schema of JSON. */
export type Media = Record<string, 'binary' | 'text' | z.ZodType>;

/** Another answer than the success and the errors: a description, and its body when it has one. */
export interface OtherAnswer {
  description: string;
  schema?: z.ZodType;
}

/**
 * One route of the HTTP API as the OpenAPI document describes it: one small declarative entry per
 * method and path, kept in this folder by route group beside the route module that serves it
 * (layers.ts for layer-routes.ts, ...). Who may call it is not written here: the document asks
 * the server's own access rule (`requiredAccess` in auth/policy.ts). The errors every route of a
 * kind can answer (401/403 by access, 400 for a body, 412 with `ifMatch`, 503 for a store that
 * cannot be written, ...) are added by document.ts; `errors` lists only the route's own.
 *
 * test/openapi.test.ts fails, naming the route, when the router serves a method and path that
 * no entry describes, or an entry describes one the router does not serve.
 */
export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI path template under the canonical prefix: `/stream/layers/{id}` (also served under `/api/stream`). */
  path: string;
  /** Unique; the typed client (cli/calls.ts) names its calls the same. */
  operationId: string;
  summary: string;
  description?: string;
  /** Path parameters: one field per `{name}` in `path`. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON request body, or (`media`) another kind of body (an upload). */
  body?: z.ZodType | { media: Media; description: string };
  /** True when the body may be left out (an empty body means `{}`, e.g. a toggle). */
  bodyOptional?: boolean;
  /**
   * The success answer: a zod schema (a JSON body), `null` (no body: 204), or `media` (another
   * media type: a PNG, an HLS playlist, an HTML page).
   */
  ok: z.ZodType | null | { media: Media };
  /** The success status; default 200 (204 when `ok` is null). */
  status?: 200 | 201 | 204;
  /** What the success answer means, when the summary does not say it. */
  okDescription?: string;
  /** Other statuses that are not errors (304, a 200 beside a 201...) or not the error envelope (a health 503). */
  others?: Record<number, OtherAnswer>;
  /** This route's own error codes (see the interface comment for those added to every route). */
  errors?: ErrorCode[];
  /** The route honours `If-Match` (412 when stale) and answers an `ETag`. */
  ifMatch?: boolean;
  /** The route answers an `ETag` (without taking `If-Match`). */
  etag?: boolean;
}

/** The route groups, in the order the document lists them; each entry's tag. */
export interface RouteGroup {
  tag: string;
  description: string;
  routes: RouteDoc[];
}
