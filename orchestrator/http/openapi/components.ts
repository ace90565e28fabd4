import { zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { AnimationBodySchema, AnimationEndedPayloadSchema, TweenSchema, VisibilityTransitionSchema } from '../../../shared/animation.js';
import { BatchSchema } from '../../../shared/batch.js';
import { ChatMessageSchema, ChatPostSchema } from '../../../shared/chat.js';
import { DataKeySchema, DataPatchSchema, DataSetSchema, DataValueSchema } from '../../../shared/data-binding.js';
import { LayerPatchSchema } from '../../../shared/layer-patch.js';
import { LIMITS } from '../../../shared/limits.js';
import { LayerViewSchema } from '../../../shared/layer-view.js';
import { MediaActionSchema, MediaStatusSchema, VideoContentSchema } from '../../../shared/media.js';
import { OutputStatusSchema } from '../../../shared/output-status.js';
import { OutputCreateSchema, OutputPatchSchema, OutputViewSchema } from '../../../shared/outputs.js';
import * as responses from '../../../shared/responses.js';
import {
  CharacterContentSchema,
  ChatContentSchema,
  ColorContentSchema,
  ImageContentSchema,
  LayerContentSchema,
  LayerCreateSchema,
  LayerSchema,
  TextContentSchema,
  TextStyleSchema,
  TransformSchema,
  VisibilityBodySchema,
} from '../../../shared/scene.js';
import { ActivateSceneSchema, ScenePutSchema } from '../../../shared/scenes.js';
import { SceneDocumentSchema } from '../../../shared/state-doc.js';
import { AssetMetaSchema } from '../../../shared/state-doc.js';
import { CanvasSchema, EncoderSettingsSchema, StreamConfigPatchSchema, StreamConfigSchema } from '../../../shared/stream-config.js';
import { StreamStateSchema } from '../../../shared/stream-state.js';

/**
 * The shared zod schemas that the documents name as components (`#/components/schemas/<Name>`),
 * each with a one-line description. A schema named here is written once and referred to
 * everywhere it occurs; one not named is written inline where it occurs. Naming marks the schema
 * objects themselves (zod-to-openapi's registry, keyed by instance): nothing is cloned, and the
 * schemas the server validates with are the ones described.
 */
const NAMED: [z.ZodType, string, string][] = [
  [LayerSchema, 'Layer', 'A layer as stored'],
  [LayerViewSchema, 'LayerView', "A layer as answered: a video layer also carries `media`, its source's status (read-only)"],
  [LayerCreateSchema, 'LayerCreate', 'A layer to add or to replace one with: `id` may be left to the server'],
  [LayerPatchSchema, 'LayerPatch', 'A JSON Merge Patch of a layer (every field optional, `null` removes it) and an optional tween'],
  [TransformSchema, 'Transform', 'Where and how big a layer is, frame pixels; `rotation` in degrees clockwise about the centre'],
  [LayerContentSchema, 'LayerContent', 'What a layer shows, by `type`'],
  [ColorContentSchema, 'ColorContent', 'A flat colour box'],
  [ImageContentSchema, 'ImageContent', 'A picture: an uploaded asset id or a path under assets/'],
  [TextContentSchema, 'TextContent', 'Text (`\\n` breaks lines; `{key}` placeholders filled from the live data)'],
  [TextStyleSchema, 'TextStyle', 'Text style; sizes in pixels'],
  [CharacterContentSchema, 'CharacterContent', 'The animated host'],
  [ChatContentSchema, 'ChatContent', 'A chat overlay: the newest messages, fading out after their TTL'],
  [VideoContentSchema, 'VideoContent', 'A moving picture: a file or a live feed'],
  [MediaStatusSchema, 'MediaStatus', "A video layer's source as the server reports it"],
  [MediaActionSchema, 'MediaAction', 'Play, pause, restart or seek (to `positionMs`) a video layer'],
  [VisibilityBodySchema, 'VisibilityBody', 'Show or hide; no `visible` toggles'],
  [VisibilityTransitionSchema, 'VisibilityTransition', 'How a layer appears or disappears'],
  [TweenSchema, 'Tween', 'A change of transform and opacity gliding over `durationMs` after `delayMs` (ms)'],
  [AnimationBodySchema, 'AnimationBody', 'A character animation to play'],
  [AnimationEndedPayloadSchema, 'AnimationEnded', 'An animation finished or was cut short'],
  [BatchSchema, 'Batch', 'Layer operations applied together, all or nothing'],
  [StreamStateSchema, 'StreamState', "The contract's stream state"],
  [StreamConfigSchema, 'StreamConfig', 'The stream configuration'],
  [StreamConfigPatchSchema, 'StreamConfigPatch', 'A change of the configuration: any subset'],
  [EncoderSettingsSchema, 'EncoderSettings', 'Encoder settings (bitrate in kbit/s, GOP in seconds)'],
  [CanvasSchema, 'Canvas', 'The canvas every frame is composited on'],
  [SceneDocumentSchema, 'SceneDocument', 'The canvas and the layers as one versioned document'],
  [OutputStatusSchema, 'OutputStatus', "One output's live status"],
  [OutputViewSchema, 'Output', 'An output: its settings and live status (URL redacted)'],
  [OutputCreateSchema, 'OutputCreate', 'An output to add'],
  [OutputPatchSchema, 'OutputPatch', 'Fields of an output to change'],
  [AssetMetaSchema, 'Asset', "An uploaded asset's metadata (`bytes`: file size; `createdAt`: ms since the epoch)"],
  [ChatPostSchema, 'ChatPost', 'A chat message to post'],
  [ChatMessageSchema, 'ChatMessage', 'A posted message: `at` in ms since the epoch, `sceneMs` on the scene clock'],
  [ActivateSceneSchema, 'ActivateScene', 'How a scene comes in'],
  [ScenePutSchema, 'ScenePut', 'A scene to save'],
  [responses.ErrorBodySchema, 'Error', 'Every error answer'],
  [responses.StatusResponseSchema, 'Status', "The stream state and every output's status"],
  [responses.SceneViewSchema, 'Scene', 'One named scene'],
  [responses.SceneDocumentViewSchema, 'SceneDocumentView', 'The scene document as answered: video layers with their `media`'],
  [responses.HealthSchema, 'Health', 'Liveness'],
  [responses.ReadinessSchema, 'Readiness', 'Readiness'],
  [responses.DataAnswerSchema, 'DataAnswer', 'The live data and its version'],
];

/** JSON Schema of a zod schema by zod's own converter, without its `$schema` line. */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
}

let named = false;

/**
 * Names the components (once per process). The data set and its patch are objects keyed by user
 * names (shared/own-record.ts, a custom zod type the generator cannot read): they are described
 * here as JSON objects from their key and value schemas.
 */
export function nameComponents(): void {
  if (named) return;
  named = true;
  for (const [schema, refId, description] of NAMED) zodToOpenAPIRegistry.add(schema, { _internal: { refId }, description });
  const propertyNames = jsonSchemaOf(DataKeySchema);
  zodToOpenAPIRegistry.add(DataSetSchema, {
    _internal: { refId: 'DataSet' },
    description: `Live data for text placeholders: key -> number, string (at most ${LIMITS.dataStringChars} characters) or boolean`,
    type: 'object',
    propertyNames,
    maxProperties: LIMITS.dataKeys,
    additionalProperties: jsonSchemaOf(DataValueSchema),
  });
  zodToOpenAPIRegistry.add(DataPatchSchema, {
    _internal: { refId: 'DataPatch' },
    description: 'A JSON Merge Patch of the live data: a value sets a key, `null` removes it',
    type: 'object',
    propertyNames,
    additionalProperties: jsonSchemaOf(DataValueSchema.nullable()),
  });
}
