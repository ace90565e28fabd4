import { Router, type RouterMiddleware } from '@koa/router';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Logger } from 'pino';
import type { StreamPipeline } from '../pipeline.js';
import type { StateManager } from '../state/state-manager.js';
import { errorMiddleware } from './error-middleware.js';
import { layerRoutes } from './layer-routes.js';
import { streamRoutes } from './stream-routes.js';

/** Largest JSON body, bytes. */
const JSON_LIMIT = '1mb';
/** The REST API is served under both prefixes (the seeds use both). */
const PREFIXES = ['/stream', '/api/stream'];

export interface HttpDeps {
  state: StateManager;
  pipeline: StreamPipeline;
  log: Logger;
}

/** The Koa application: error mapping, JSON bodies, the stream and layer routes, health (degraded while the store is). */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.use(errorMiddleware(deps.log));
  app.use(koaBody({ json: true, jsonLimit: JSON_LIMIT, jsonStrict: true, multipart: false, urlencoded: false, text: false }));

  const health: RouterMiddleware = (ctx) => {
    const s = deps.pipeline.status();
    const store = deps.state.health();
    ctx.body = { status: store.status === 'ok' ? 'ok' : 'degraded', uptime: process.uptime(), isLive: s.isLive, store };
  };
  const root = new Router();
  root.get('/health', health);
  root.get('/api/health', health);
  app.use(root.routes());

  for (const prefix of PREFIXES) {
    const router = new Router({ prefix });
    router.get('/health', health);
    streamRoutes(router, deps.pipeline, deps.state);
    layerRoutes(router, deps.state);
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
