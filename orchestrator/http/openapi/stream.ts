import { SnapshotQuerySchema } from '../../../shared/queries.js';
import { SceneDocumentViewSchema, StatusResponseSchema } from '../../../shared/responses.js';
import { SceneDocumentSchema } from '../../../shared/state-doc.js';
import { StreamConfigPatchSchema, StreamConfigSchema } from '../../../shared/stream-config.js';
import { StreamStateSchema } from '../../../shared/stream-state.js';
import type { RouteGroup } from './route-doc.js';

/** The routes of http/stream-routes.ts: stream control, config, the scene document, snapshots. */
export const streamGroup: RouteGroup = {
  tag: 'stream',
  description: "Stream control (the contract's `StreamState`), the stream configuration and the scene as one document",
  routes: [
    {
      method: 'get',
      path: '/stream/status',
      operationId: 'getStatus',
      summary: "The stream state and every output's status",
      description:
        "The contract's `StreamState` (`fps` measured over the last second, `averageRenderTime` in ms, `startTime` in ms since the epoch) and `outputs`, `main` first; stream keys redacted.",
      ok: StatusResponseSchema,
    },
    {
      method: 'post',
      path: '/stream/start',
      operationId: 'start',
      summary: 'Go live: spawn ffmpeg, start the frame clock',
      ok: StreamStateSchema,
      errors: ['SM_ERR_STREAM_LIVE', 'SM_ERR_ENCODER'],
    },
    {
      method: 'post',
      path: '/stream/stop',
      operationId: 'stop',
      summary: 'Stop; ffmpeg flushes and finishes the file',
      ok: StreamStateSchema,
      errors: ['SM_ERR_STREAM_NOT_LIVE'],
    },
    {
      method: 'post',
      path: '/stream/pause',
      operationId: 'pause',
      summary: 'Hold the last frame in the output',
      ok: StreamStateSchema,
      errors: ['SM_ERR_STREAM_NOT_LIVE', 'SM_ERR_STREAM_PAUSED'],
    },
    {
      method: 'post',
      path: '/stream/resume',
      operationId: 'resume',
      summary: 'Go on after a pause',
      ok: StreamStateSchema,
      errors: ['SM_ERR_STREAM_NOT_LIVE', 'SM_ERR_STREAM_NOT_PAUSED'],
    },
    {
      method: 'post',
      path: '/stream/reset',
      operationId: 'reset',
      summary: 'Stop if live, zero the counters (fps included), clear the error',
      ok: StreamStateSchema,
    },
    {
      method: 'get',
      path: '/stream/config',
      operationId: 'getConfig',
      summary: 'The stream configuration',
      description: '`output.url` in full for admins only, redacted (`***`) for every other role.',
      ok: StreamConfigSchema,
      etag: true,
    },
    {
      method: 'patch',
      path: '/stream/config',
      operationId: 'patchConfig',
      summary: 'Change the configuration (JSON Merge Patch)',
      description:
        'Any subset, nested objects merged field by field. While live, a change of size, FPS, encoder or output restarts the encoder (a file output goes on in a new file); answered once in effect.',
      body: StreamConfigPatchSchema,
      ok: StreamConfigSchema,
      ifMatch: true,
      errors: ['SM_ERR_OUTPUT_URL', 'SM_ERR_ENCODER'],
    },
    {
      method: 'get',
      path: '/stream/scene',
      operationId: 'getSceneDocument',
      summary: 'The canvas and the layers as one versioned document',
      ok: SceneDocumentViewSchema,
      etag: true,
    },
    {
      method: 'put',
      path: '/stream/scene',
      operationId: 'putSceneDocument',
      summary: 'Replace canvas and layers at once, validated as a whole',
      body: SceneDocumentSchema,
      ok: SceneDocumentViewSchema,
      ifMatch: true,
      errors: ['SM_ERR_ASSET_NOT_FOUND', 'SM_ERR_LIMIT_REACHED'],
    },
    {
      method: 'get',
      path: '/stream/snapshot',
      operationId: 'getSnapshot',
      summary: 'The last composited frame as PNG (rendered on demand when not live)',
      query: SnapshotQuerySchema,
      ok: { media: { 'image/png': 'binary' } },
      errors: ['SM_ERR_NO_FRAME'],
    },
  ],
};
