import { TakeAnswerSchema, TakeSchema } from '../../../shared/studio.js';
import { dataGroup } from './data-chat.js';
import { layersGroup } from './layers.js';
import type { RouteDoc, RouteGroup } from './route-doc.js';
import { scenesGroup } from './scenes.js';
import { streamGroup } from './stream.js';

/** `getLayer` -> `getPreviewLayer`, `batch` -> `previewBatch`: the preview twin of a program operation. */
function previewOperationId(id: string): string {
  const m = /^([a-z]+)([A-Z].*)$/.exec(id);
  return m ? `${m[1]}Preview${m[2]}` : `preview${id[0]!.toUpperCase()}${id.slice(1)}`;
}

/** The preview scene's twin of a program route: the same entry at `/stream/preview/...`, addressing the preview scene. */
function previewTwin(route: RouteDoc, summary?: string): RouteDoc {
  return {
    ...route,
    path: route.path.replace(/^\/stream\//, '/stream/preview/'),
    operationId: previewOperationId(route.operationId),
    summary: summary ?? `Studio mode's preview scene: ${route.summary[0]!.toLowerCase()}${route.summary.slice(1)}`,
  };
}

const twin = (group: RouteGroup, ids: readonly string[]): RouteDoc[] =>
  group.routes.filter((r) => ids.includes(r.operationId)).map((r) => previewTwin(r));

const stream = (id: string): RouteDoc => streamGroup.routes.find((r) => r.operationId === id)!;
const scene = (id: string): RouteDoc => scenesGroup.routes.find((r) => r.operationId === id)!;

/**
 * The routes of http/studio-routes.ts: studio mode's preview scene (the program's layer, batch,
 * data and scene routes under `/stream/preview`, generated from their entries) and the take.
 */
export const studioGroup: RouteGroup = {
  tag: 'studio',
  description:
    "Studio mode (OBS's and vMix's preview / program): an off-air preview scene prepared with the program's routes under `/stream/preview`, and `POST /stream/take`, which swaps it with the program (docs/studio-mode.md)",
  routes: [
    ...layersGroup.routes.map((r) => ({
      ...previewTwin(r),
      description: `${r.description ? `${r.description} ` : ''}Off air: tweens and show/hide transitions apply at once, and video layers are cued (not decoded; \`media\` reads paused at \`startMs\`) until a take puts them on the program.`,
    })),
    ...twin(dataGroup, ['getData', 'patchData']).map((r) => ({
      ...r,
      description: 'The data is shared by program and preview: this is `/stream/data` under the preview path.',
    })),
    previewTwin(stream('getSceneDocument'), "The preview scene as one versioned document (the program's canvas)"),
    {
      ...previewTwin(stream('putSceneDocument'), "Replace the preview scene's layers at once (the canvas must be the one in effect)"),
      description: 'The canvas is shared by program and preview: a different one is refused (400); `PATCH /stream/config` changes it.',
    },
    {
      ...previewTwin(scene('saveScene'), "Save `{ layers }`, or `{}` to save the preview scene's layers as they are"),
      path: '/stream/preview/scenes/{name}',
    },
    {
      ...previewTwin(scene('activateScene'), "Load a scene into the preview (off air; the body's transition is checked and ignored)"),
      description: "The program does not change and the saved scenes' `active` stays; a take puts the scene on air.",
    },
    {
      method: 'post',
      path: '/stream/take',
      operationId: 'take',
      summary: 'The preview becomes the program (cut or crossfade), the old program the new preview',
      description:
        "`{ transition?: cut|crossfade, durationMs? (1000), easing? (linear) }`. Both scenes swap in one durable change. 409 `SM_ERR_TAKE_IN_PROGRESS` while a crossfade of the program (a take's or a scene activation's) runs; 409 `SM_ERR_PREVIEW_EMPTY` when the preview has no layers.",
      body: TakeSchema,
      bodyOptional: true,
      ok: TakeAnswerSchema,
      errors: ['SM_ERR_TAKE_IN_PROGRESS', 'SM_ERR_PREVIEW_EMPTY'],
    },
  ],
};
