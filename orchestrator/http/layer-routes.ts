import type { Router, RouterMiddleware } from '@koa/router';
import type { Layer } from '../../shared/scene.js';
import type { MediaControl } from '../media/media-control.js';
import { viewLayer, viewLayers } from '../media/media-view.js';
import type { StateManager } from '../state/state-manager.js';
import type { SceneStore } from '../scene/scene-store.js';
import { ifMatch, setEtag } from './etag.js';

/** The video sources as the layer routes use them. */
export type LayerMedia = Pick<MediaControl, 'status' | 'control'>;

/** Which scene layer routes address: `scene` (default the program) under `path` (default none, e.g. `/preview`). */
export interface LayerTarget {
  scene?: SceneStore;
  path?: string;
}

/**
 * Layer routes: `GET /layers` (z-order, bottom first), `POST /layers` (201), `GET|PUT|PATCH|DELETE
 * /layers/:id`, `PATCH|POST /layers/:id/visibility`, `POST /layers/:id/animation` (a host's
 * `{name, durationMs?}`), `POST /layers/:id/media` (a video layer's `{action, positionMs?}`),
 * `POST /batch`. PATCH is a JSON Merge Patch (RFC 7396) and may carry a `transition` (tween);
 * visibility calls may carry a show/hide `transition`. Each layer's ETag is its revision; changes
 * honour `If-Match` (412 when stale). Every answer's video layers carry `media`, their source's
 * status (read-only: ignored in request bodies).
 * @param media the video sources (the pipeline's; the preview scene's cue their layers only)
 * @param target which scene the routes address and under which path (default the program's at
 *   the prefix; studio mode's preview scene at `/preview`)
 */
export function layerRoutes(router: Router, state: StateManager, media: LayerMedia, target: LayerTarget = {}): void {
  const scene = target.scene ?? state.scene;
  const p = target.path ?? '';
  const view = (layer: Layer): ReturnType<typeof viewLayer> => viewLayer(layer, media);
  /** One audit line per change, through the request's logger (it carries the request id). */
  const audit = (ctx: { state: { log?: { info: (o: object, m: string) => void } } }, action: string, layer: Pick<Layer, 'id'>): void =>
    ctx.state.log?.info({ action, layerId: layer.id, version: state.version, ...(p ? { bus: 'preview' } : {}) }, 'scene changed');
  router.get(`${p}/layers`, (ctx) => {
    setEtag(ctx, state.version);
    ctx.body = { layers: viewLayers(scene.list(), media) };
  });
  router.post(`${p}/layers`, (ctx) => {
    const layer = scene.create(ctx.request.body);
    audit(ctx, 'create', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.status = 201;
    ctx.body = view(layer);
  });
  router.get(`${p}/layers/:id`, (ctx) => {
    const entry = scene.entry(ctx.params['id']!);
    setEtag(ctx, entry.revision);
    ctx.body = view(entry.layer);
  });
  router.put(`${p}/layers/:id`, (ctx) => {
    const layer = scene.replace(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, 'replace', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = view(layer);
  });
  router.patch(`${p}/layers/:id`, (ctx) => {
    const layer = scene.patch(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, 'patch', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = view(layer);
  });
  router.delete(`${p}/layers/:id`, (ctx) => {
    audit(ctx, 'delete', scene.delete(ctx.params['id']!, ifMatch(ctx)));
    ctx.status = 204;
  });
  const visibility: RouterMiddleware = (ctx) => {
    const layer = scene.setVisibility(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    audit(ctx, layer.visible ? 'show' : 'hide', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = view(layer);
  };
  router.post(`${p}/layers/:id/animation`, (ctx) => {
    const layer = scene.playAnimation(ctx.params['id']!, ctx.request.body);
    audit(ctx, 'animation', layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = view(layer);
  });
  router.post(`${p}/layers/:id/media`, (ctx) => {
    // play/pause store content.playing first (durable before the answer); then the source follows.
    const { layer, action } = scene.mediaAction(ctx.params['id']!, ctx.request.body, ifMatch(ctx));
    const status = media.control(layer.id, action);
    audit(ctx, `media ${action.action}`, layer);
    setEtag(ctx, scene.entry(layer.id).revision);
    ctx.body = { ...layer, media: status };
  });
  router.post(`${p}/batch`, (ctx) => {
    const results = scene.batch(ctx.request.body, (id, action) => {
      // The layers are committed by now: a source that refuses is logged, not turned into an error answer.
      try {
        media.control(id, action);
      } catch (err) {
        ctx.state['log']?.warn({ err, layerId: id, action: action.action }, 'batch media action not applied');
      }
    });
    ctx.state['log']?.info(
      { action: 'batch', ops: results.length, version: state.version, ...(p ? { bus: 'preview' } : {}) },
      'scene changed',
    );
    ctx.body = { version: state.version, results: results.map((r) => ('deleted' in r ? r : view(r))) };
  });
  router.patch(`${p}/layers/:id/visibility`, visibility);
  router.post(`${p}/layers/:id/visibility`, visibility);
}
