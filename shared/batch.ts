import { z } from 'zod';
import { LIMITS } from './limits.js';
import { LayerIdSchema } from './scene.js';
import { MediaActionSchema } from './media.js';

/**
 * `POST /stream/batch`: layer operations applied together on one frame boundary, all or nothing
 * (like obs-websocket's request batches and CasparCG's MIXER COMMIT). Bodies are those of the
 * single routes: `create` is `POST /layers`, `patch` is `PATCH /layers/:id` (JSON Merge Patch),
 * `replace` is `PUT /layers/:id`, `visibility` is `PATCH /layers/:id/visibility`, `media` is
 * `POST /layers/:id/media` (a video layer's play, pause, restart or seek).
 */
export const BatchOpSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('create'), layer: z.unknown() }),
  z.strictObject({ op: z.literal('patch'), id: LayerIdSchema, patch: z.unknown() }),
  z.strictObject({ op: z.literal('replace'), id: LayerIdSchema, layer: z.unknown() }),
  z.strictObject({ op: z.literal('visibility'), id: LayerIdSchema, visible: z.boolean().optional(), transition: z.unknown().optional() }),
  z.strictObject({ op: z.literal('delete'), id: LayerIdSchema }),
  z.strictObject({
    op: z.literal('media'),
    id: LayerIdSchema,
    action: MediaActionSchema.shape.action,
    positionMs: MediaActionSchema.shape.positionMs,
  }),
]);
export type BatchOp = z.infer<typeof BatchOpSchema>;

/** At most 100 operations per batch. */
export const BatchSchema = z.strictObject({ ops: z.array(BatchOpSchema).min(1).max(LIMITS.batchOps) });
