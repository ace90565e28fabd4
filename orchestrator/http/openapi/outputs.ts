import { z } from 'zod';
import { OutputCreateSchema, OutputPatchSchema, OutputViewSchema } from '../../../shared/outputs.js';
import { OutputListSchema } from '../../../shared/responses.js';
import type { RouteGroup } from './route-doc.js';

/** An output id in a path: `main` (the config's output) or an extra output's id. */
const OutputParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
/** `main` is changed with PATCH /stream/config, not here: 400. */
const NOT_MAIN = "For `main` (the config's output) the answer is 400 `SM_ERR_VALIDATION`: change it with `PATCH /stream/config`.";

/** The routes of http/output-routes.ts: extra outputs and HLS files. */
export const outputsGroup: RouteGroup = {
  tag: 'outputs',
  description:
    "Outputs: `main` (the config's) and extra ones sending the same program elsewhere (RTMP, SRT, files, HLS); URLs redacted in every answer",
  routes: [
    {
      method: 'get',
      path: '/stream/outputs',
      operationId: 'listOutputs',
      summary: '`main` first, then the extra outputs',
      ok: OutputListSchema,
    },
    {
      method: 'post',
      path: '/stream/outputs',
      operationId: 'createOutput',
      summary: 'Add an output (admin); starts at once when live',
      body: OutputCreateSchema,
      ok: OutputViewSchema,
      status: 201,
      errors: ['SM_ERR_OUTPUT_URL', 'SM_ERR_OUTPUT_EXISTS', 'SM_ERR_LIMIT_REACHED'],
    },
    {
      method: 'get',
      path: '/stream/outputs/{id}',
      operationId: 'getOutput',
      summary: 'One output',
      params: OutputParams,
      ok: OutputViewSchema,
      errors: ['SM_ERR_OUTPUT_NOT_FOUND'],
    },
    {
      method: 'patch',
      path: '/stream/outputs/{id}',
      operationId: 'patchOutput',
      summary: 'Change `url`, `enabled`, `encoder` (admin); that output restarts, no other',
      description: NOT_MAIN,
      params: OutputParams,
      body: OutputPatchSchema,
      ok: OutputViewSchema,
      errors: ['SM_ERR_OUTPUT_NOT_FOUND', 'SM_ERR_OUTPUT_URL'],
    },
    {
      method: 'delete',
      path: '/stream/outputs/{id}',
      operationId: 'deleteOutput',
      summary: 'Remove an output (admin); a recording is finished first',
      description: NOT_MAIN,
      params: OutputParams,
      ok: null,
      errors: ['SM_ERR_OUTPUT_NOT_FOUND', 'SM_ERR_VALIDATION'],
    },
    {
      method: 'post',
      path: '/stream/outputs/{id}/start',
      operationId: 'startOutput',
      summary: 'Enable one output',
      description: NOT_MAIN,
      params: OutputParams,
      ok: OutputViewSchema,
      errors: ['SM_ERR_OUTPUT_NOT_FOUND', 'SM_ERR_VALIDATION'],
    },
    {
      method: 'post',
      path: '/stream/outputs/{id}/stop',
      operationId: 'stopOutput',
      summary: 'Disable one output; a stopped recording is a finished, playable file',
      description: NOT_MAIN,
      params: OutputParams,
      ok: OutputViewSchema,
      errors: ['SM_ERR_OUTPUT_NOT_FOUND', 'SM_ERR_VALIDATION'],
    },
    {
      method: 'get',
      path: '/stream/hls/{id}/{file}',
      operationId: 'getHlsFile',
      summary: "An HLS output's live playlist (`index.m3u8`) and segments (`seg-NNNNN.ts`)",
      params: z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), file: z.string().regex(/^(index\.m3u8|seg-\d{5,}\.ts)$/) }),
      ok: { media: { 'application/vnd.apple.mpegurl': 'text', 'video/mp2t': 'binary' } },
      errors: ['SM_ERR_NOT_FOUND', 'SM_ERR_OUTPUT_NOT_FOUND'],
    },
  ],
};
