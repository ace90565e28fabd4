import { z } from 'zod';
import { ActivateSceneSchema } from '../shared/scenes.js';
import { TakeAnswerSchema, TakeSchema } from '../shared/studio.js';
import { ChatMessageSchema, ChatPostSchema } from '../shared/chat.js';
import { DataPatchSchema } from '../shared/data-binding.js';
import { LayerPatchSchema } from '../shared/layer-patch.js';
import { OutputCreateSchema, OutputViewSchema } from '../shared/outputs.js';
import {
  ChatListSchema,
  DataAnswerSchema,
  LayerListSchema,
  OutputListSchema,
  SceneActivatedSchema,
  SceneListSchema,
  StatusResponseSchema,
} from '../shared/responses.js';
import { LayerViewSchema } from '../shared/layer-view.js';
import { StreamConfigSchema } from '../shared/stream-config.js';
import { StreamStateSchema } from '../shared/stream-state.js';

/**
 * The API calls the client makes: method, path template, and the shared zod schemas of the
 * request body and of the answer, which give the client its types (`z.input` of the body,
 * `z.output` of the answer). Each is named as the OpenAPI document names the operation
 * (`operationId`), and test/cli-client.test.ts checks every one against the document: the same
 * method and path, generated from the same schemas. A call marked `planned` is one a later part
 * of issue 33 adds to the server (deleting a chat message); the test fails
 * once the document has it, so the mark comes off then.
 */
export interface CallSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template, `{name}` for a path parameter. */
  path: string;
  /** The JSON request body's schema, if the call sends one. */
  body?: z.ZodType;
  /** The JSON answer's schema; null: no body (204). */
  response: z.ZodType | null;
  /** Not served yet: what will add it. */
  planned?: string;
}

/** A JSON document (the OpenAPI document). */
const JsonDocument = z.record(z.string(), z.unknown());

export const CALLS = {
  getStatus: { method: 'GET', path: '/stream/status', response: StatusResponseSchema },
  start: { method: 'POST', path: '/stream/start', response: StreamStateSchema },
  stop: { method: 'POST', path: '/stream/stop', response: StreamStateSchema },
  pause: { method: 'POST', path: '/stream/pause', response: StreamStateSchema },
  resume: { method: 'POST', path: '/stream/resume', response: StreamStateSchema },
  reset: { method: 'POST', path: '/stream/reset', response: StreamStateSchema },
  getConfig: { method: 'GET', path: '/stream/config', response: StreamConfigSchema },
  listLayers: { method: 'GET', path: '/stream/layers', response: LayerListSchema },
  getLayer: { method: 'GET', path: '/stream/layers/{id}', response: LayerViewSchema },
  patchLayer: { method: 'PATCH', path: '/stream/layers/{id}', body: LayerPatchSchema, response: LayerViewSchema },
  getData: { method: 'GET', path: '/stream/data', response: DataAnswerSchema },
  patchData: { method: 'PATCH', path: '/stream/data', body: DataPatchSchema, response: DataAnswerSchema },
  listScenes: { method: 'GET', path: '/stream/scenes', response: SceneListSchema },
  activateScene: { method: 'POST', path: '/stream/scenes/{name}/activate', body: ActivateSceneSchema, response: SceneActivatedSchema },
  take: { method: 'POST', path: '/stream/take', body: TakeSchema, response: TakeAnswerSchema },
  listOutputs: { method: 'GET', path: '/stream/outputs', response: OutputListSchema },
  createOutput: { method: 'POST', path: '/stream/outputs', body: OutputCreateSchema, response: OutputViewSchema },
  deleteOutput: { method: 'DELETE', path: '/stream/outputs/{id}', response: null },
  startOutput: { method: 'POST', path: '/stream/outputs/{id}/start', response: OutputViewSchema },
  stopOutput: { method: 'POST', path: '/stream/outputs/{id}/stop', response: OutputViewSchema },
  listChat: { method: 'GET', path: '/stream/chat', response: ChatListSchema },
  postChat: { method: 'POST', path: '/stream/chat', body: ChatPostSchema, response: ChatMessageSchema },
  deleteChat: { method: 'DELETE', path: '/stream/chat/{id}', response: null },
  getOpenApi: { method: 'GET', path: '/openapi.json', response: JsonDocument },
} as const satisfies Record<string, CallSpec>;

export type Calls = typeof CALLS;
export type CallName = keyof Calls;

/** The `{name}` parameters of a path template, as a union of names. */
type ParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | ParamNames<Rest> : never;

/** What a call takes: its path parameters (when its path has any) and its body (when it sends one). */
export type CallArgs<K extends CallName> = ([ParamNames<Calls[K]['path']>] extends [never]
  ? { params?: undefined }
  : { params: Record<ParamNames<Calls[K]['path']>, string> }) &
  (Calls[K] extends { body: infer B extends z.ZodType } ? { body: z.input<B> } : { body?: undefined }) & { query?: Record<string, string> };

/** What a call answers: the output type of its answer schema, or undefined (no body). */
export type CallResult<K extends CallName> = Calls[K]['response'] extends infer R extends z.ZodType ? z.output<R> : undefined;
