import { Router, type RouterMiddleware } from '@koa/router';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Logger } from 'pino';
import type { StreamPipeline } from '../pipeline.js';
import type { SceneStore } from '../scene/scene-store.js';
import { errorMiddleware } from './error-middleware.js';
import { layerRoutes } from './layer-routes.js';
import { streamRoutes } from './stream-routes.js';

/** Largest JSON body, bytes. */
const JSON_LIMIT = '1mb';
/** The REST API is served under both prefixes (the seeds use both). */
const PREFIXES = ['/stream', '/api/stream'];

export interface HttpDeps {
  scene: SceneStore;
  pipeline: StreamPipeline;
  log: Logger;
}

/** The Koa application: error mapping, JSON bodies, the stream and layer routes, health. */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  app.use(errorMiddleware(deps.log));
  app.use(koaBody({ json: true, jsonLimit: JSON_LIMIT, jsonStrict: true, multipart: false, urlencoded: false, text: false }));

  const health: RouterMiddleware = (ctx) => {
    const s = deps.pipeline.status();
    ctx.body = { status: 'ok', uptime: process.uptime(), isLive: s.isLive };
  };
  const root = new Router();
  root.get('/health', health);
  root.get('/api/health', health);
  app.use(root.routes());

  for (const prefix of PREFIXES) {
    const router = new Router({ prefix });
    router.get('/health', health);
    streamRoutes(router, deps.pipeline);
    layerRoutes(router, deps.scene);
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
