import type { Router, RouterMiddleware } from '@koa/router';
import type { Layer } from '../../shared/scene.js';
import type { StateManager } from '../state/state-manager.js';
import { ifMatch, setEtag } from './etag.js';

/**
 * Layer routes: `GET /layers` (z-order, bottom first), `POST /layers` (201), `GET|PUT|PATCH|DELETE
 * /layers/:id`, `PATCH|POST /layers/:id/visibility`, `POST /layers/:id/animation` (a host's
 * `{name, durationMs?}`), `POST /batch`. PATCH is a JSON Merge Patch (RFC 7396) and may carry a
 * `transition` (tween); visibility calls may carry a show/hide `transition`.
 * Each layer's ETag is its revision; changes honour `If-Match` (412 when stale).
 */
export function layerRoutes(router: Router, state: StateManager): void {
  const scene = state.scene;
  /** One audit line per change, through the request's logger (it carries the request id). */
  const audit = (ctx: { state: { log?: { info: (o: object, m: string) => void } } }, action: string, layer: Pick<Layer, 'id'>): void =>
    ctx.state.log?.info({ action, layerId: layer.id, version: state.version }, 'scene changed');
  router.get('/layers', (ctx) => {
    setEtag(ctx, state.version);
    ctx.body = { layers: scene.list() };
  });
  router.post('/layers', (ctx) => {
    const layer = scene.create(ctx.request.body);
    audit(ctx, 'create', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.status = 201;
    ctx.body = layer;
  });
  router.get('/layers/:id', (ctx) => {
    const entry = scene.entry(ctx.params['id']!);
    setEtag(ctx, entry.revision);
    ctx.body = entry.layer;
  });
  router.put('/layers/:id', (ctx) => {
    const layer = scene.replace(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, 'replace', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = layer;
  });
  router.patch('/layers/:id', (ctx) => {
    const layer = scene.patch(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, 'patch', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = layer;
  });
  router.delete('/layers/:id', (ctx) => {
    audit(ctx, 'delete', scene.delete(ctx.params['id']!, ifMatch(ctx)));
    ctx.status = 204;
  });
  const visibility: RouterMiddleware = (ctx) => {
    const layer = scene.setVisibility(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, layer.visible ? 'show' : 'hide', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = layer;
  };
  router.post('/layers/:id/animation', (ctx) => {
    const layer = scene.playAnimation(ctx.params['id']!, ctx.request.body);
    audit(ctx, 'animation', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = layer;
  });
  router.post('/batch', (ctx) => {
    const results = scene.batch(ctx.request.body);
    ctx.state['log']?.info({ action: 'batch', ops: results.length, version: state.version }, 'scene changed');
    ctx.body = { version: state.version, results };
  });
  router.patch('/layers/:id/visibility', visibility);
  router.post('/layers/:id/visibility', visibility);
}
