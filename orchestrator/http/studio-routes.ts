import type { Router } from '@koa/router';
import type { LayerView } from '../../shared/layer-view.js';
import type { SceneDocument } from '../../shared/state-doc.js';
import { cuedMedia } from '../media/cued-media.js';
import type { MediaControl } from '../media/media-control.js';
import { viewLayers } from '../media/media-view.js';
import type { SceneLibrary } from '../scene/scene-library.js';
import type { Studio } from '../scene/studio.js';
import type { StateManager } from '../state/state-manager.js';
import { dataRoutes } from './data-routes.js';
import { ifMatch, setEtag } from './etag.js';
import { layerRoutes } from './layer-routes.js';

/** Where studio mode's preview routes live below the API prefix. */
export const PREVIEW_PATH = '/preview';

/**
 * Studio mode (docs/studio-mode.md): the preview scene under `/preview` with the program's routes
 * (`/preview/layers...`, `/preview/batch`, `/preview/data` (the shared data), `GET|PUT
 * /preview/scene`, `PUT /preview/scenes/:name` (`{}` saves the preview's layers),
 * `POST /preview/scenes/:name/activate` (loads a scene into the preview)), and `POST /take`
 * (`{transition?, durationMs?, easing?}`): preview and program swap, cut or crossfaded.
 * The handlers are the program's, given the preview scene; preview video layers are cued, not decoded.
 */
export function studioRoutes(router: Router, state: StateManager, scenes: SceneLibrary, studio: Studio, media: MediaControl): void {
  const cued = cuedMedia(state.preview);
  const view = (doc: SceneDocument): SceneDocument & { layers: LayerView[] } => ({ ...doc, layers: viewLayers(doc.layers, cued) });
  layerRoutes(router, state, cued, { scene: state.preview, path: PREVIEW_PATH });
  dataRoutes(router, state, PREVIEW_PATH);
  router.get(`${PREVIEW_PATH}/scene`, (ctx) => {
    const doc = state.previewDocument();
    setEtag(ctx, state.version);
    ctx.body = view(doc);
  });
  router.put(`${PREVIEW_PATH}/scene`, (ctx) => {
    const doc = state.replacePreview(ctx.request.body, ifMatch(ctx));
    setEtag(ctx, state.version);
    ctx.body = view(doc);
  });
  router.put(`${PREVIEW_PATH}/scenes/:name`, (ctx) => {
    ctx.body = scenes.save(ctx.params['name']!, ctx.request.body, 'preview');
    ctx.state['log']?.info({ action: 'save', scene: ctx.params['name'], bus: 'preview' }, 'scenes changed');
  });
  router.post(`${PREVIEW_PATH}/scenes/:name/activate`, (ctx) => {
    const activated = scenes.activatePreview(ctx.params['name']!, ctx.request.body);
    ctx.body = { ...activated, layers: viewLayers(activated.layers, cued) };
    ctx.state['log']?.info({ action: 'activate', scene: ctx.params['name'], bus: 'preview' }, 'scenes changed');
  });
  router.post('/take', (ctx) => {
    const done = studio.take(ctx.request.body);
    ctx.state['log']?.info({ action: 'take', transition: done.transition, durationMs: done.durationMs, version: done.version }, 'take');
    ctx.body = { ...done, program: viewLayers(done.program, media), preview: viewLayers(done.preview, cued) };
  });
}
