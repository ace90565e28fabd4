import { z } from 'zod';
import { ActivateSceneSchema, SceneNameSchema, ScenePutSchema } from '../../../shared/scenes.js';
import { SceneActivatedSchema, SceneListSchema, SceneViewSchema } from '../../../shared/responses.js';
import type { RouteGroup } from './route-doc.js';

const SceneParams = z.object({ name: SceneNameSchema });

/** The routes of http/scene-library-routes.ts: saved scenes and templates. */
export const scenesGroup: RouteGroup = {
  tag: 'scenes',
  description: 'Named scenes: sets of layers saved in the store, and the read-only templates in `assets/scenes/`',
  routes: [
    {
      method: 'get',
      path: '/stream/scenes',
      operationId: 'listScenes',
      summary: 'The scene last activated, and every saved scene and template',
      ok: SceneListSchema,
    },
    {
      method: 'get',
      path: '/stream/scenes/{name}',
      operationId: 'getScene',
      summary: 'One scene with its layers (a template laid out for the current canvas)',
      params: SceneParams,
      ok: SceneViewSchema,
      errors: ['SM_ERR_SCENE_NOT_FOUND'],
    },
    {
      method: 'put',
      path: '/stream/scenes/{name}',
      operationId: 'saveScene',
      summary: 'Save `{ layers }`, or `{}` to save the live layers as they are',
      params: SceneParams,
      body: ScenePutSchema,
      bodyOptional: true,
      ok: SceneViewSchema,
      errors: ['SM_ERR_ASSET_NOT_FOUND', 'SM_ERR_LIMIT_REACHED'],
    },
    {
      method: 'delete',
      path: '/stream/scenes/{name}',
      operationId: 'deleteScene',
      summary: 'Delete a saved scene (templates are read-only)',
      params: SceneParams,
      ok: null,
      errors: ['SM_ERR_SCENE_NOT_FOUND'],
    },
    {
      method: 'post',
      path: '/stream/scenes/{name}/activate',
      operationId: 'activateScene',
      summary: "The scene's layers replace the live ones, cut or crossfaded",
      description:
        '`{ transition?: cut|crossfade, durationMs? (1000), easing? (linear) }`; a crossfade mixes the outgoing and incoming frames.',
      params: SceneParams,
      body: ActivateSceneSchema,
      bodyOptional: true,
      ok: SceneActivatedSchema,
      errors: ['SM_ERR_SCENE_NOT_FOUND', 'SM_ERR_ASSET_NOT_FOUND'],
    },
  ],
};
