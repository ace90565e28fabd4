import { z } from 'zod';
import { BusSchema } from './studio.js';
import { OutputStatusSchema } from './output-status.js';
import { DataSetSchema } from './data-binding.js';
import { LayerViewSchema } from './layer-view.js';
import { MediaStatusSchema } from './media.js';
import { AudioLevelsPayloadSchema } from './audio.js';
import { AnimationEndedPayloadSchema } from './animation.js';
import { ChatMessageSchema } from './chat.js';
import { StreamConfigSchema } from './stream-config.js';
import { StreamStateSchema } from './stream-state.js';
import { SceneListSchema } from './responses.js';

/**
 * WebSocket messages (the API contract's types). Server-to-client messages are built
 * from these schemas' types; client messages are parsed with `ClientMessageSchema`.
 */

/**
 * Channels: `state` (stream state, layer changes, media updates, metrics), `layers` (layer changes, media updates),
 * `preview` (frames), `chat` (messages posted to `POST /stream/chat`), `audio` (the program audio's meters, `audioLevels`).
 */
export const WsChannelSchema = z.enum(['state', 'preview', 'layers', 'chat', 'audio']);
export type WsChannel = z.infer<typeof WsChannelSchema>;

/**
 * The design documents' names for two message types, accepted as channel names: a socket that
 * subscribes with one (`?target=frame`, `{"type":"subscribe","channels":["streamState"]}`) joins
 * its channel and from then on gets those messages under that name: `frame` and `previewFrame`
 * are `preview` messages (channel `preview`), `streamState` is `stateUpdate` (channel `state`).
 * The payload is the same; a socket that never uses an alias sees only the canonical names.
 */
export const WS_ALIASES = {
  frame: { channel: 'preview', type: 'preview' },
  previewFrame: { channel: 'preview', type: 'preview' },
  streamState: { channel: 'state', type: 'stateUpdate' },
} as const satisfies Record<string, { channel: WsChannel; type: string }>;
export const WsAliasSchema = z.enum(['frame', 'previewFrame', 'streamState']);
export type WsAlias = z.infer<typeof WsAliasSchema>;
/** A channel, or an alias that stands for one (see {@link WS_ALIASES}). */
export const WsChannelOrAliasSchema = z.union([WsChannelSchema, WsAliasSchema]);

/** Preview quality levels; each has a width in pixels (config `PREVIEW_WIDTHS`). */
export const PreviewQualitySchema = z.enum(['low', 'medium', 'high']);
export type PreviewQuality = z.infer<typeof PreviewQualitySchema>;
export const PREVIEW_QUALITIES = PreviewQualitySchema.options;

export const WelcomeMessageSchema = z.strictObject({
  type: z.literal('welcome'),
  message: z.string(),
  timestamp: z.number(),
});

/**
 * Stream state (the contract's payload `{stream}`). The first one after connecting, and the one a
 * congested client gets when it drains, also carries the whole state: `version`, `config`, `layers`,
 * and, once studio mode is in use (its preview scene held a layer since the server started),
 * `preview`: the preview scene's layers (what `previewLayerUpdate` messages change).
 */
export const StateUpdateMessageSchema = z.strictObject({
  type: z.literal('stateUpdate'),
  payload: z.strictObject({
    stream: StreamStateSchema,
    version: z.number().int().optional(),
    config: StreamConfigSchema.optional(),
    layers: z.array(LayerViewSchema).optional(),
    preview: z.array(LayerViewSchema).optional(),
  }),
});

/** A layer changed (`layer`; a video layer with its `media`) or was removed (`removed: true`). */
export const LayerUpdateMessageSchema = z.strictObject({
  type: z.literal('layerUpdate'),
  payload: z.strictObject({
    id: z.string(),
    layer: LayerViewSchema.optional(),
    removed: z.boolean().optional(),
    version: z.number().int(),
  }),
});

/**
 * Studio mode: a layer of the off-air preview scene changed (`layer`, video layers cued) or was
 * removed (`removed: true`); a whole new preview (a take, a scene loaded into it) sends one per
 * layer. Program layers keep `layerUpdate`, so a client that knows nothing of studio mode is
 * never misled.
 */
export const PreviewLayerUpdateMessageSchema = z.strictObject({
  type: z.literal('previewLayerUpdate'),
  payload: LayerUpdateMessageSchema.shape.payload,
});

/** A layer was shown or hidden (sent besides its `layerUpdate`). */
export const LayerVisibilityMessageSchema = z.strictObject({
  type: z.literal('layerVisibility'),
  payload: z.strictObject({ id: z.string(), visible: z.boolean(), version: z.number().int() }),
});

/**
 * Once a second while live. Times in ms; `poolUtilization` 0..1; `bitrateBps`: the main output's
 * bitrate in bits per second as ffmpeg reports it (null before its first report). The design
 * documents' `StreamMetrics` fields, measured over the last second:
 * - `encoderLatency`: ms from a frame's hand-off to the main output's encoder (right after it is
 *   composited) until ffmpeg has read all of it from its stdin pipe, mean over the frames of the
 *   last second (0 when none was written);
 * - `bufferHealth`: the free share of the main encoder's frame queue at its fullest in the last
 *   second, 0..1: 1 = empty (ffmpeg keeps up), 0 = full (the next frame is dropped,
 *   `encoder_backpressure`) or no encoder runs (it is restarting);
 * - `cpuUsage`: this process's CPU time (main thread and render workers; not ffmpeg) over the
 *   wall time, percent of one core (200 = two cores busy);
 * - `memoryUsage`: this process's resident set size (RSS), bytes.
 */
export const MetricsUpdateMessageSchema = z.strictObject({
  type: z.literal('metricsUpdate'),
  payload: z.strictObject({
    fps: z.number(),
    targetFPS: z.number(),
    droppedFrames: z.number().int(),
    averageRenderTime: z.number(),
    poolUtilization: z.number(),
    viewers: z.number().int(),
    bitrateBps: z.number().nonnegative().nullable(),
    encoderLatency: z.number().nonnegative(),
    bufferHealth: z.number().min(0).max(1),
    cpuUsage: z.number().nonnegative(),
    memoryUsage: z.number().int().nonnegative(),
    timestamp: z.number(),
  }),
});

/** A preview frame: base64 JPEG; `timestamp` in ms since the Unix epoch. */
export const PreviewMessageSchema = z.strictObject({
  type: z.literal('preview'),
  payload: z.strictObject({
    data: z.string(),
    timestamp: z.number(),
    quality: PreviewQualitySchema,
    frame: z.number().int().optional(),
    /** Studio mode: `preview` on frames of the off-air preview scene (`?bus=preview`); absent on the program's. */
    bus: z.literal('preview').optional(),
  }),
});

/**
 * Why a layer's render failed: it threw (`error`), ran past `RENDER_TIMEOUT_MS` and its worker was
 * replaced (`timeout`), took longer than its render budget (`overrun`: its pixels were late), or
 * asked for more memory than a layer may have (`memory`).
 */
export const LayerFailureReasonSchema = z.enum(['error', 'timeout', 'overrun', 'memory']);
export type LayerFailureReason = z.infer<typeof LayerFailureReasonSchema>;

/**
 * A layer failed to render (`message` and `reason` say why; sent once per run of failures, while
 * the layer shows its last good pixels) or renders again (`message` and `reason` null,
 * `failures` how many there were).
 */
export const LayerErrorMessageSchema = z.strictObject({
  type: z.literal('layerError'),
  payload: z.strictObject({
    id: z.string(),
    message: z.string().nullable(),
    failures: z.number().int().positive(),
    reason: LayerFailureReasonSchema.nullable(),
  }),
});

/**
 * An output changed state: `event` is `reconnecting` (it went down; `attempt`, `delayMs` until the
 * next try, `reason`), `reconnected` (frames flow again), `failed` (given up), or `connecting`,
 * `live`, `stopped`.
 */
export const OutputUpdateMessageSchema = z.strictObject({
  type: z.literal('outputUpdate'),
  payload: OutputStatusSchema.extend({
    event: z.enum(['connecting', 'live', 'reconnecting', 'reconnected', 'failed', 'stopped']),
    attempt: z.number().int().nonnegative(),
    delayMs: z.number().int().nonnegative().optional(),
    reason: z.string().optional(),
  }),
});

/** The live data for text placeholders changed (`PATCH /stream/data`): the whole data set. */
export const DataUpdateMessageSchema = z.strictObject({
  type: z.literal('dataUpdate'),
  payload: z.strictObject({ data: DataSetSchema, version: z.number().int() }),
});

/**
 * The scene library changed: a scene saved, deleted or activated (from any client), a take (which
 * clears `active`), or an asset deletion that pruned saved scenes. The whole list as
 * `GET /stream/scenes` answers it, and the state version of the change.
 */
export const ScenesUpdateMessageSchema = z.strictObject({
  type: z.literal('scenesUpdate'),
  payload: SceneListSchema.extend({ version: z.number().int() }),
});

/** A tween, show/hide transition, host animation or scene crossfade finished (or was cut short: `cancelled`). */
export const AnimationEndedMessageSchema = z.strictObject({
  type: z.literal('animationEnded'),
  payload: AnimationEndedPayloadSchema,
});

/** A chat message was posted (channel `chat`). */
export const ChatWsMessageSchema = z.strictObject({
  type: z.literal('chat'),
  payload: ChatMessageSchema,
});

/**
 * A chat message was deleted (`DELETE /stream/chat/:id`, moderation; channel `chat`): clients drop
 * it from what they show, as Twitch's CLEARMSG asks.
 */
export const ChatRemovedMessageSchema = z.strictObject({
  type: z.literal('chatRemoved'),
  payload: z.strictObject({ id: z.string() }),
});

/**
 * A video layer's source changed state (`media.state`: loading, playing, paused, ended, stalled,
 * reconnecting, error), size, duration or error, or jumped (a seek or restart). Not sent for the
 * position moving on while it plays: `positionMs` is where it was at the change (channels `state`, `layers`).
 */
export const MediaUpdateMessageSchema = z.strictObject({
  type: z.literal('mediaUpdate'),
  payload: z.strictObject({ layerId: z.string(), media: MediaStatusSchema }),
});

/** A video layer's file reached its end and does not loop (once per end; besides the `mediaUpdate` to `ended`). */
export const MediaEndedMessageSchema = z.strictObject({
  type: z.literal('mediaEnded'),
  payload: z.strictObject({ layerId: z.string(), media: MediaStatusSchema }),
});

/** The program audio's meters, about 10 a second while the program mixes (channel `audio`; shared/audio.ts). */
export const AudioLevelsMessageSchema = z.strictObject({
  type: z.literal('audioLevels'),
  payload: AudioLevelsPayloadSchema,
});

export const ErrorMessageSchema = z.strictObject({
  type: z.literal('error'),
  payload: z.strictObject({ code: z.string(), message: z.string() }),
});

export const PongMessageSchema = z.strictObject({ type: z.literal('pong'), timestamp: z.number() });

/**
 * Answer to `quality`, `subscribe` and `unsubscribe`: the socket's settings now; `names`, when it
 * subscribed with an alias, the message types it gets under another name (`{"preview": "frame"}`).
 */
export const SubscribedMessageSchema = z.strictObject({
  type: z.literal('subscribed'),
  payload: z.strictObject({
    channels: z.array(WsChannelSchema),
    quality: PreviewQualitySchema,
    format: z.enum(['json', 'binary']),
    names: z
      .strictObject({ preview: z.enum(['frame', 'previewFrame']).optional(), stateUpdate: z.literal('streamState').optional() })
      .optional(),
  }),
});

export type WelcomeMessage = z.infer<typeof WelcomeMessageSchema>;
export type StateUpdateMessage = z.infer<typeof StateUpdateMessageSchema>;
export type LayerUpdateMessage = z.infer<typeof LayerUpdateMessageSchema>;
export type LayerVisibilityMessage = z.infer<typeof LayerVisibilityMessageSchema>;
export type PreviewLayerUpdateMessage = z.infer<typeof PreviewLayerUpdateMessageSchema>;
export type MetricsUpdateMessage = z.infer<typeof MetricsUpdateMessageSchema>;
export type PreviewMessage = z.infer<typeof PreviewMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type LayerErrorMessage = z.infer<typeof LayerErrorMessageSchema>;
export type OutputUpdateMessage = z.infer<typeof OutputUpdateMessageSchema>;
export type PongMessage = z.infer<typeof PongMessageSchema>;
export type DataUpdateMessage = z.infer<typeof DataUpdateMessageSchema>;
export type ScenesUpdateMessage = z.infer<typeof ScenesUpdateMessageSchema>;
export type SubscribedMessage = z.infer<typeof SubscribedMessageSchema>;
export type AnimationEndedMessage = z.infer<typeof AnimationEndedMessageSchema>;
export type ChatWsMessage = z.infer<typeof ChatWsMessageSchema>;
export type ChatRemovedMessage = z.infer<typeof ChatRemovedMessageSchema>;
export type MediaUpdateMessage = z.infer<typeof MediaUpdateMessageSchema>;
export type MediaEndedMessage = z.infer<typeof MediaEndedMessageSchema>;
export type AudioLevelsMessage = z.infer<typeof AudioLevelsMessageSchema>;
export type ServerMessage =
  | WelcomeMessage
  | StateUpdateMessage
  | LayerUpdateMessage
  | LayerVisibilityMessage
  | PreviewLayerUpdateMessage
  | MetricsUpdateMessage
  | PreviewMessage
  | ErrorMessage
  | LayerErrorMessage
  | OutputUpdateMessage
  | DataUpdateMessage
  | ScenesUpdateMessage
  | AnimationEndedMessage
  | ChatWsMessage
  | ChatRemovedMessage
  | MediaUpdateMessage
  | MediaEndedMessage
  | AudioLevelsMessage
  | PongMessage
  | SubscribedMessage;

/** What a client may send. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('quality'), quality: PreviewQualitySchema }),
  z.strictObject({ type: z.literal('subscribe'), channels: z.array(WsChannelOrAliasSchema).min(1) }),
  z.strictObject({ type: z.literal('unsubscribe'), channels: z.array(WsChannelOrAliasSchema).min(1) }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/**
 * Query of the upgrade URL: `?target=state|preview|layers|chat|audio&quality=low|medium|high&format=json|binary&bus=program|preview`;
 * `target` may also be an alias (`frame`, `previewFrame`, `streamState`; see {@link WS_ALIASES}).
 * `bus` (studio mode): which scene the socket's preview frames show, the program on air (default)
 * or the off-air preview scene.
 */
export const WsQuerySchema = z.object({
  target: WsChannelOrAliasSchema.default('state'),
  quality: PreviewQualitySchema.default('medium'),
  format: z.enum(['json', 'binary']).default('json'),
  bus: BusSchema.default('program'),
});
