import { z } from 'zod';
import { LayerSchema } from './scene.js';
import { StreamStateSchema } from './stream-state.js';

/**
 * WebSocket messages (the seeds' types). Server to client messages are built from these schemas'
 * types; client messages are parsed with `ClientMessageSchema`. The WebSocket issue adds more.
 */

/** Channels a socket picks with `?target=`. */
export const WsTargetSchema = z.enum(['state', 'preview', 'layers']);
export type WsTarget = z.infer<typeof WsTargetSchema>;

export const PreviewQualitySchema = z.enum(['low', 'medium', 'high']);

export const WelcomeMessageSchema = z.strictObject({
  type: z.literal('welcome'),
  message: z.string(),
  timestamp: z.number(),
});

export const StateUpdateMessageSchema = z.strictObject({
  type: z.literal('stateUpdate'),
  payload: z.strictObject({ stream: StreamStateSchema }),
});

export const LayerUpdateMessageSchema = z.strictObject({
  type: z.literal('layerUpdate'),
  payload: z.strictObject({
    id: z.string(),
    /** The layer after the change; absent when it was removed. */
    layer: LayerSchema.optional(),
    removed: z.boolean().optional(),
    version: z.number().int(),
  }),
});

/** A preview frame: base64 JPEG; `timestamp` in ms since the Unix epoch. */
export const PreviewMessageSchema = z.strictObject({
  type: z.literal('preview'),
  payload: z.strictObject({ data: z.string(), timestamp: z.number(), quality: PreviewQualitySchema }),
});

export const ErrorMessageSchema = z.strictObject({
  type: z.literal('error'),
  payload: z.strictObject({ code: z.string(), message: z.string() }),
});

export const PongMessageSchema = z.strictObject({ type: z.literal('pong'), timestamp: z.number() });

export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;
export type StateUpdateMessage = z.infer<typeof StateUpdateMessageSchema>;
export type LayerUpdateMessage = z.infer<typeof LayerUpdateMessageSchema>;
export type PreviewMessage = z.infer<typeof PreviewMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type PongMessage = z.infer<typeof PongMessageSchema>;
export type ServerMessage = WelcomeMessage | StateUpdateMessage | LayerUpdateMessage | PreviewMessage | ErrorMessage | PongMessage;

/** What a client may send. */
export const ClientMessageSchema = z.discriminatedUnion('type', [z.strictObject({ type: z.literal('ping') })]);
