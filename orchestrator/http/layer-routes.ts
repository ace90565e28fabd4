import type { Router, RouterMiddleware } from '@koa/router';
import type { SceneStore } from '../scene/scene-store.js';

/**
 * Layer routes: `GET /layers` (z-order, bottom first), `POST /layers` (201), `GET|PUT|PATCH|DELETE
 * /layers/:id`, `PATCH|POST /layers/:id/visibility`. PATCH is a JSON Merge Patch (RFC 7396).
 */
export function layerRoutes(router: Router, scene: SceneStore): void {
  router.get('/layers', (ctx) => {
    ctx.body = { layers: scene.list() };
  });
  router.post('/layers', (ctx) => {
    ctx.status = 201;
    ctx.body = scene.create(ctx.request.body);
  });
  router.get('/layers/:id', (ctx) => {
    ctx.body = scene.get(ctx.params['id']!);
  });
  router.put('/layers/:id', (ctx) => {
    ctx.body = scene.replace(ctx.params['id']!, ctx.request.body);
  });
  router.patch('/layers/:id', (ctx) => {
    ctx.body = scene.patch(ctx.params['id']!, ctx.request.body);
  });
  router.delete('/layers/:id', (ctx) => {
    scene.delete(ctx.params['id']!);
    ctx.status = 204;
  });
  const visibility: RouterMiddleware = (ctx) => {
    ctx.body = scene.setVisibility(ctx.params['id']!, ctx.request.body);
  };
  router.patch('/layers/:id/visibility', visibility);
  router.post('/layers/:id/visibility', visibility);
}
