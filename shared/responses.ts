import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.js';
import { AssetMetaSchema, SceneDocumentSchema } from './state-doc.js';
import { MediaStatusSchema } from './media.js';
import { ChatMessageSchema } from './chat.js';
import { DataSetSchema } from './data-binding.js';
import { OutputStatusSchema } from './output-status.js';
import { OutputViewSchema } from './outputs.js';
import { LayerViewSchema } from './layer-view.js';
import { LayerSchema } from './scene.js';
import { StreamStateSchema } from './stream-state.js';

/**
 * The shapes of the HTTP answers that are not a document of their own (a layer, the config, an
 * output...): lists, results and health. The server builds these answers; the OpenAPI document
 * (`GET /openapi.json`) and the typed client (`cli/`) read their types from here, so the three
 * cannot drift apart (test/openapi.test.ts checks real answers against the document).
 */

/** Every registered error code, for the `code` of the error envelope. */
export const ErrorCodeSchema = z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]);

/** Every error answer: `{ error: { code, message, details? } }` (shared/errors.ts `AppError.toJSON`). */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    code: ErrorCodeSchema,
    message: z.string(),
    /** `SM_ERR_VALIDATION`: the failing fields `[{ path, message }]`; 405: `{ allow }`; others as documented. */
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * `GET /stream/status`: the contract's `StreamState` and every output's status: `main` first (its
 * status), then the extra outputs (their status with their settings, as in `GET /stream/outputs`).
 */
export const StatusResponseSchema = StreamStateSchema.extend({ outputs: z.array(z.union([OutputStatusSchema, OutputViewSchema])) });
export type StatusResponse = z.infer<typeof StatusResponseSchema>;

/** `GET /stream/layers`: the layers in z-order, bottom first (video layers with their `media`). */
export const LayerListSchema = z.strictObject({ layers: z.array(LayerViewSchema) });
export type LayerList = z.infer<typeof LayerListSchema>;

/** `POST /stream/batch`: the state version after the batch and what each operation returned, in order. */
export const BatchResultSchema = z.strictObject({
  version: z.number().int(),
  results: z.array(z.union([LayerViewSchema, z.strictObject({ id: z.string(), deleted: z.literal(true) })])),
});
export type BatchResult = z.infer<typeof BatchResultSchema>;

/** `GET|PATCH /stream/data`: the live data set and its version. */
export const DataAnswerSchema = z.strictObject({ data: DataSetSchema, version: z.number().int() });
export type DataAnswer = z.infer<typeof DataAnswerSchema>;

/** `GET /stream/chat`: the last 50 messages, oldest first. */
export const ChatListSchema = z.strictObject({ messages: z.array(ChatMessageSchema) });
export type ChatList = z.infer<typeof ChatListSchema>;

/** `GET /stream/scenes`: the scene last activated and every scene (`layers`: how many; `template`: read-only, from `assets/scenes/`). */
export const SceneListSchema = z.strictObject({
  active: z.string().nullable(),
  scenes: z.array(z.strictObject({ name: z.string(), layers: z.number().int().nonnegative(), template: z.boolean() })),
});
export type SceneList = z.infer<typeof SceneListSchema>;

/** `GET|PUT /stream/scenes/:name`: one scene with its layers (a template laid out for the current canvas). */
export const SceneViewSchema = z.strictObject({ name: z.string(), layers: z.array(LayerSchema), template: z.boolean() });
export type SceneView = z.infer<typeof SceneViewSchema>;

/** `POST /stream/scenes/:name/activate`: the scene now live, the state version, how it came in, and the live layers (video layers with their `media`). */
export const SceneActivatedSchema = z.strictObject({
  active: z.string(),
  version: z.number().int(),
  transition: z.enum(['cut', 'crossfade']),
  layers: z.array(LayerViewSchema),
});

/** `GET|PUT /stream/scene`'s answer: the scene document, its video layers with their `media`. */
export const SceneDocumentViewSchema = SceneDocumentSchema.extend({ layers: z.array(LayerViewSchema) });
export type SceneDocumentView = z.infer<typeof SceneDocumentViewSchema>;

/** `POST /stream/layers/:id/media`: the video layer with its source's status after the action. */
export const MediaLayerSchema = LayerViewSchema.extend({ media: MediaStatusSchema });
export type SceneActivated = z.infer<typeof SceneActivatedSchema>;

/** `GET /stream/assets`: every uploaded asset's metadata. */
export const AssetListSchema = z.strictObject({ assets: z.array(AssetMetaSchema) });
export type AssetList = z.infer<typeof AssetListSchema>;

/** `DELETE /stream/assets/:id`: what went with it (`?force=true`): live layers hidden, layers taken out of saved scenes. */
export const AssetDeletedSchema = z.strictObject({
  deleted: z.string(),
  hiddenLayers: z.array(z.string()),
  removedFromScenes: z.array(z.strictObject({ name: z.string(), layers: z.array(z.string()) })),
  /** Studio mode's preview scene layers hidden; present only when there were any. */
  hiddenPreviewLayers: z.array(z.string()).optional(),
});
export type AssetDeleted = z.infer<typeof AssetDeletedSchema>;

/** `GET /stream/outputs`: `main` (the config's output) first, then the extra outputs. */
export const OutputListSchema = z.strictObject({ outputs: z.array(OutputViewSchema) });
export type OutputList = z.infer<typeof OutputListSchema>;

/** What the last load of the state store set aside as invalid. */
const LoadProblemSchema = z.strictObject({ where: z.string(), path: z.string(), message: z.string(), setAsideTo: z.string().optional() });

/**
 * `GET /health` (liveness): `down` (503) only when live and the frame clock stalled; `degraded`
 * while the store is, the stream stopped in error or an output gave up. `uptime` in seconds,
 * `clock.msSinceTick` in ms (null when not live).
 */
export const HealthSchema = z.strictObject({
  status: z.enum(['ok', 'degraded', 'down']),
  uptime: z.number().nonnegative(),
  isLive: z.boolean(),
  clock: z.strictObject({ alive: z.boolean(), msSinceTick: z.number().int().nullable() }),
  store: z.strictObject({
    kind: z.enum(['memory', 'file', 'redis']),
    status: z.enum(['ok', 'degraded']),
    connected: z.boolean(),
    dirty: z.boolean(),
    loadProblems: z.strictObject({ count: z.number().int().nonnegative(), items: z.array(LoadProblemSchema) }),
  }),
  stream: z.strictObject({ isLive: z.boolean(), stoppedInError: z.boolean() }),
  failedOutputs: z.array(z.string()),
});
export type Health = z.infer<typeof HealthSchema>;

/** `GET /health/ready` (readiness): each check, and the names of those failing (503 when any). */
export const ReadinessSchema = z.strictObject({
  status: z.enum(['ready', 'unready']),
  failing: z.array(z.enum(['ffmpeg', 'pool', 'store', 'stream'])),
  checks: z.strictObject({ ffmpeg: z.boolean(), pool: z.boolean(), store: z.boolean(), stream: z.boolean() }),
});
export type Readiness = z.infer<typeof ReadinessSchema>;

/**
 * `GET /stream/whoami`: the caller's own role (from its bearer token; with auth off everyone is
 * the local admin), the token's name, and whether auth is on. A client (the dashboard) reads it to
 * offer only what the role may do; the server still checks every request.
 */
export const WhoAmISchema = z.strictObject({
  role: z.enum(['viewer', 'operator', 'admin']),
  name: z.string(),
  auth: z.boolean(),
});
export type WhoAmI = z.infer<typeof WhoAmISchema>;
