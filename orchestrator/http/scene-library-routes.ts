import type { Router } from '@koa/router';
import type { SceneLibrary } from '../scene/scene-library.js';
import type { MediaControl } from '../media/media-control.js';
import { viewLayers } from '../media/media-view.js';

/**
 * Named scenes: `GET /scenes` (`{active, scenes: [{name, layers, template}]}`), `GET /scenes/:name`,
 * `PUT /scenes/:name` (`{layers}`, or `{}` to save the live layers), `DELETE /scenes/:name` (saved
 * scenes only; templates are read-only), `POST /scenes/:name/activate` (`{transition: "cut" |
 * "crossfade", durationMs, easing}`: the scene's layers replace the live ones, its video layers start
 * at their `startMs`; the answer's live video layers carry `media`).
 */
export function sceneLibraryRoutes(router: Router, scenes: SceneLibrary, media: MediaControl): void {
  const log = (ctx: { state: { log?: { info: (o: object, m: string) => void } } }, action: string, name: string): void =>
    ctx.state.log?.info({ action, scene: name }, 'scenes changed');
  router.get('/scenes', (ctx) => {
    ctx.body = scenes.list();
  });
  router.get('/scenes/:name', (ctx) => {
    ctx.body = scenes.get(ctx.params['name']!);
  });
  router.put('/scenes/:name', (ctx) => {
    ctx.body = scenes.save(ctx.params['name']!, ctx.request.body);
    log(ctx, 'save', ctx.params['name']!);
  });
  router.delete('/scenes/:name', (ctx) => {
    scenes.remove(ctx.params['name']!);
    log(ctx, 'delete', ctx.params['name']!);
    ctx.status = 204;
  });
  router.post('/scenes/:name/activate', (ctx) => {
    const activated = scenes.activate(ctx.params['name']!, ctx.request.body);
    ctx.body = { ...activated, layers: viewLayers(activated.layers, media) };
    log(ctx, 'activate', ctx.params['name']!);
  });
}
