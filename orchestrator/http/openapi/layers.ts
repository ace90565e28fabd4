import { z } from 'zod';
import { AnimationBodySchema } from '../../../shared/animation.js';
import { BatchSchema } from '../../../shared/batch.js';
import { LayerPatchSchema } from '../../../shared/layer-patch.js';
import { LayerViewSchema } from '../../../shared/layer-view.js';
import { MediaActionSchema } from '../../../shared/media.js';
import { BatchResultSchema, LayerListSchema, MediaLayerSchema } from '../../../shared/responses.js';
import { LayerCreateSchema, LayerIdSchema, LayerReplaceSchema, VisibilityBodySchema } from '../../../shared/scene.js';
import type { RouteDoc, RouteGroup } from './route-doc.js';

const LayerParams = z.object({ id: LayerIdSchema });

const visibility = (method: 'patch' | 'post', operationId: string): RouteDoc => ({
  method,
  path: '/stream/layers/{id}/visibility',
  operationId,
  summary: `Show or hide a layer (${method === 'patch' ? 'also POST' : 'also PATCH'}); no body toggles`,
  description:
    "`{ visible, transition? }`; without `visible` it toggles. Without `transition` the layer's `transitions.show`/`hide` apply (none: cut).",
  params: LayerParams,
  body: VisibilityBodySchema,
  bodyOptional: true,
  ok: LayerViewSchema,
  ifMatch: true,
  errors: ['SM_ERR_LAYER_NOT_FOUND'],
});

/** The routes of http/layer-routes.ts: layers, visibility, host animations, batches. */
export const layersGroup: RouteGroup = {
  tag: 'layers',
  description: "The live scene's layers (z-order, content, transform, opacity) and batches of changes applied on one frame",
  routes: [
    {
      method: 'get',
      path: '/stream/layers',
      operationId: 'listLayers',
      summary: 'The layers, bottom first (zIndex, then creation order)',
      ok: LayerListSchema,
      etag: true,
    },
    {
      method: 'post',
      path: '/stream/layers',
      operationId: 'createLayer',
      summary: 'Add a layer (an id is assigned when absent)',
      body: LayerCreateSchema,
      ok: LayerViewSchema,
      status: 201,
      etag: true,
      errors: ['SM_ERR_ASSET_NOT_FOUND', 'SM_ERR_LAYER_EXISTS', 'SM_ERR_LIMIT_REACHED'],
    },
    {
      method: 'get',
      path: '/stream/layers/{id}',
      operationId: 'getLayer',
      summary: 'One layer',
      params: LayerParams,
      ok: LayerViewSchema,
      etag: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND'],
    },
    {
      method: 'put',
      path: '/stream/layers/{id}',
      operationId: 'replaceLayer',
      summary: 'Replace a layer whole',
      params: LayerParams,
      body: LayerReplaceSchema,
      ok: LayerViewSchema,
      ifMatch: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND', 'SM_ERR_ASSET_NOT_FOUND'],
    },
    {
      method: 'patch',
      path: '/stream/layers/{id}',
      operationId: 'patchLayer',
      summary: 'Change a layer (JSON Merge Patch), optionally tweened',
      description:
        'RFC 7396: objects merge, `null` removes a field; a new `content.type` replaces the content. With `transition: { durationMs, easing?, delayMs? }` the change of `transform` and `opacity` glides. The merged layer is validated whole.',
      params: LayerParams,
      body: LayerPatchSchema,
      ok: LayerViewSchema,
      ifMatch: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND', 'SM_ERR_ASSET_NOT_FOUND'],
    },
    {
      method: 'delete',
      path: '/stream/layers/{id}',
      operationId: 'deleteLayer',
      summary: 'Remove a layer',
      params: LayerParams,
      ok: null,
      ifMatch: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND'],
    },
    visibility('patch', 'setLayerVisibility'),
    visibility('post', 'postLayerVisibility'),
    {
      method: 'post',
      path: '/stream/layers/{id}/animation',
      operationId: 'playLayerAnimation',
      summary: 'A character layer plays an animation; with `durationMs`, then idles again',
      params: LayerParams,
      body: AnimationBodySchema,
      ok: LayerViewSchema,
      etag: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND'],
    },
    {
      method: 'post',
      path: '/stream/layers/{id}/media',
      operationId: 'controlLayerMedia',
      summary: 'Play, pause, restart or seek a video layer',
      description:
        "`{ action: play|pause|restart|seek, positionMs? }` (seek needs `positionMs`; a live feed does not seek). `play`/`pause` are stored as `content.playing`; the answer carries the source's status after the action in `media`.",
      params: LayerParams,
      body: MediaActionSchema,
      ok: MediaLayerSchema,
      ifMatch: true,
      errors: ['SM_ERR_LAYER_NOT_FOUND'],
    },
    {
      method: 'post',
      path: '/stream/batch',
      operationId: 'batch',
      summary: 'Layer operations applied in order, all or nothing, between two frames',
      description:
        "Each op's body is that of its single route (`create`: POST /layers, `patch`: PATCH /layers/{id}, ...). The first failing op's error is the answer, its message prefixed `ops[i] (op):`, `details.index` set; nothing changed.",
      body: BatchSchema,
      ok: BatchResultSchema,
      errors: ['SM_ERR_LAYER_NOT_FOUND', 'SM_ERR_LAYER_EXISTS', 'SM_ERR_ASSET_NOT_FOUND', 'SM_ERR_LIMIT_REACHED'],
    },
  ],
};
