import { Router, type RouterMiddleware } from '@koa/router';
import Koa from 'koa';
import { HttpMethodEnum, koaBody } from 'koa-body';
import type { Logger } from 'pino';
import type { AssetService } from '../assets/asset-service.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StreamPipeline } from '../pipeline.js';
import type { RenderPool } from '../../pool/render-pool.js';
import type { StateManager } from '../state/state-manager.js';
import type { ConfigFollower } from '../state-sync.js';
import type { TokenSet } from '../auth/tokens.js';
import { authenticate, authorize } from './auth-middleware.js';
import { rateLimit, type RateLimitOptions } from './rate-limit.js';
import type { OriginPolicy } from '../auth/origin-policy.js';
import { securityHeaders } from './security.js';
import { dashboardRoutes } from '../dashboard/dashboard-routes.js';
import { apiDocsRoutes } from './openapi/docs-routes.js';
import { assetRoutes } from './asset-routes.js';
import { durableWrites } from './durable-writes.js';
import { mediaSecrets } from './media-secrets.js';
import { errorMiddleware } from './error-middleware.js';
import { healthRoutes } from './health.js';
import { layerRoutes } from './layer-routes.js';
import { outputRoutes } from './output-routes.js';
import { dataRoutes } from './data-routes.js';
import { chatRoutes } from './chat-routes.js';
import { sceneLibraryRoutes } from './scene-library-routes.js';
import type { ChatFeed } from '../chat/chat-feed.js';
import type { SceneLibrary } from '../scene/scene-library.js';
import type { Studio } from '../scene/studio.js';
import { studioRoutes } from './studio-routes.js';
import { requestContext } from './request-context.js';
import { streamRoutes } from './stream-routes.js';
import { whepRoutes } from './whep-routes.js';
import { whoamiRoute } from './whoami-route.js';
import { jsonDepthLimit } from './json-depth-limit.js';
import { hostCheck } from './host-check.js';
import type { HostPolicy } from '../auth/host-policy.js';

/** Largest JSON body, bytes. */
const JSON_LIMIT = '1mb';
/** The REST API is served under both prefixes (clients in use call either). */
const PREFIXES = ['/stream', '/api/stream'];

export interface HttpDeps {
  state: StateManager;
  /** Applies config changes to the stream; a request that made one awaits `applied()`. */
  configFollower: Pick<ConfigFollower, 'applied'>;
  pipeline: StreamPipeline;
  pool: RenderPool;
  metrics: Metrics;
  ffmpegPath: string;
  assets: AssetService;
  maxUploadBytes: number;
  /** Largest video upload, bytes (`MAX_VIDEO_UPLOAD_SIZE`). */
  maxVideoUploadBytes: number;
  /** DATA_DIR: HLS outputs are served from its `hls/` folder. */
  dataDir: string;
  tokens: TokenSet;
  origins: OriginPolicy;
  /** `Host` names served (DNS rebinding defence; enforced with auth off or ALLOWED_HOSTS). */
  hosts: HostPolicy;
  chat: ChatFeed;
  scenes: SceneLibrary;
  /** Studio mode's take (preview and program swap). */
  studio: Studio;
  /** Rate limit per client; `max` 0: none. */
  rateLimit: Omit<RateLimitOptions, 'log'>;
  log: Logger;
}

/** `GET /metrics`: the Prometheus text exposition of this app's registry. */
export function metricsRoute(metrics: Metrics): RouterMiddleware {
  return async (ctx) => {
    const { body, contentType } = await metrics.scrape();
    ctx.type = contentType;
    ctx.body = body;
  };
}

/**
 * The Koa application, in this order: request ids and logs, error mapping, the `Host` (and, with
 * the host check on, `Origin`) check, security headers and CORS, who is calling (token), rate limit (per token or IP), may they call this route (role),
 * JSON bodies (read only for allowed requests; at most 64 levels deep), then the stream and layer routes under both
 * prefixes, health and readiness (also at the root and under `/api`), metrics, the dashboard (`/`, `/ui/*`), and the API's
 * documents (`/openapi.json`, `/asyncapi.json`, `/docs`).
 */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa({ proxy: false });
  app.use(requestContext(deps.log, deps.metrics));
  app.use(errorMiddleware(deps.log));
  app.use(hostCheck(deps.hosts, deps.origins));
  for (const m of securityHeaders(deps.origins)) app.use(m);
  app.use(authenticate(deps.tokens));
  if (deps.rateLimit.max > 0) app.use(rateLimit({ ...deps.rateLimit, log: deps.log }));
  app.use(authorize(deps.tokens, deps.metrics));
  app.use(mediaSecrets());
  app.use(durableWrites(deps.state));
  // DELETE bodies are parsed too (and so depth-checked): a body on any mutating route is refused or used, never skipped unread.
  app.use(
    koaBody({
      json: true,
      jsonLimit: JSON_LIMIT,
      jsonStrict: true,
      multipart: false,
      urlencoded: false,
      text: false,
      parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
    }),
  );
  app.use(jsonDepthLimit());

  const root = new Router();
  root.get('/metrics', metricsRoute(deps.metrics));
  dashboardRoutes(root);
  apiDocsRoutes(root);
  for (const prefix of ['', '/api']) {
    const health = new Router({ prefix });
    healthRoutes(health, deps);
    root.use(health.routes());
  }
  app.use(root.routes());

  for (const prefix of PREFIXES) {
    const router = new Router({ prefix });
    healthRoutes(router, deps);
    streamRoutes(router, deps.pipeline, deps.state, deps.configFollower);
    layerRoutes(router, deps.state, deps.pipeline.media);
    outputRoutes(router, deps.pipeline, deps.dataDir);
    whepRoutes(router, deps.pipeline.hub);
    whoamiRoute(router, deps.tokens);
    dataRoutes(router, deps.state);
    chatRoutes(router, deps.chat);
    sceneLibraryRoutes(router, deps.scenes, deps.pipeline.media);
    studioRoutes(router, deps.state, deps.scenes, deps.studio, deps.pipeline.media);
    assetRoutes(router, deps.assets, { maxBytes: deps.maxUploadBytes, maxVideoBytes: deps.maxVideoUploadBytes });
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/** One route: an HTTP method and its path template, e.g. `{ method: 'PATCH', path: '/stream/layers/:id' }`. */
export interface RouteInfo {
  method: string;
  path: string;
}

/**
 * Every route `app` serves, read from its routers (each `@koa/router` middleware carries its
 * router): method and path template, once per method; HEAD (implied by GET) left out. For tests
 * and tools that must cover every route without listing them by hand.
 */
export function listRoutes(app: Koa): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const m of app.middleware as ((...args: never[]) => unknown)[]) {
    const router = (m as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string') continue;
      for (const method of layer.methods) if (method !== 'HEAD') routes.push({ method, path: layer.path });
    }
  }
  return routes;
}
