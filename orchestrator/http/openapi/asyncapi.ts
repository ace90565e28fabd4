import { OpenApiGeneratorV31, zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { BusSchema } from '../../../shared/studio.js';
import * as ws from '../../../shared/ws-messages.js';
import { nameComponents } from './components.js';

/**
 * The AsyncAPI 3.0 document of the WebSocket protocol (shared/ws-messages.ts): the socket's
 * channels, every message each carries, the client's messages, and the design documents'
 * aliases. The message schemas are the zod schemas the server builds its messages from, converted
 * by the same generator as the OpenAPI document (so the layer, config and state components are
 * the same, `#/components/schemas/<Name>`). Like the OpenAPI document it holds no configuration value.
 */

/** One message of the protocol: its name (the `type` on the wire) and schema. */
interface MessageDoc {
  name: string;
  schema: z.ZodType;
  summary: string;
}

/** What the server sends, by type. */
const SERVER: MessageDoc[] = [
  { name: 'welcome', schema: ws.WelcomeMessageSchema, summary: 'First message on every socket' },
  {
    name: 'stateUpdate',
    schema: ws.StateUpdateMessageSchema,
    summary: 'Stream state: on connect (whole state: version, config, layers) and on every transition, once a second while live',
  },
  {
    name: 'metricsUpdate',
    schema: ws.MetricsUpdateMessageSchema,
    summary: 'Once a second while live: fps, drops, render time, encoder and process load',
  },
  { name: 'layerUpdate', schema: ws.LayerUpdateMessageSchema, summary: 'A layer changed (`layer`) or was removed (`removed: true`)' },
  {
    name: 'previewLayerUpdate',
    schema: ws.PreviewLayerUpdateMessageSchema,
    summary: "Studio mode: a layer of the off-air preview scene changed or was removed (the program's layers keep layerUpdate)",
  },
  { name: 'layerVisibility', schema: ws.LayerVisibilityMessageSchema, summary: 'A layer was shown or hidden (besides its layerUpdate)' },
  { name: 'layerError', schema: ws.LayerErrorMessageSchema, summary: 'A layer failed to render, or renders again' },
  { name: 'outputUpdate', schema: ws.OutputUpdateMessageSchema, summary: 'An output changed state' },
  { name: 'dataUpdate', schema: ws.DataUpdateMessageSchema, summary: 'The live data changed (PATCH /stream/data)' },
  {
    name: 'scenesUpdate',
    schema: ws.ScenesUpdateMessageSchema,
    summary: 'The scene library changed (a scene saved, deleted or activated; a take): the whole list and `active`',
  },
  { name: 'animationEnded', schema: ws.AnimationEndedMessageSchema, summary: 'A tween, transition, host animation or crossfade finished' },
  {
    name: 'mediaUpdate',
    schema: ws.MediaUpdateMessageSchema,
    summary: "A video layer's source changed state, size, duration, fps or error, or its position jumped",
  },
  { name: 'mediaEnded', schema: ws.MediaEndedMessageSchema, summary: "A video layer's file reached its end and does not loop" },
  {
    name: 'audioLevels',
    schema: ws.AudioLevelsMessageSchema,
    summary: "The program audio's meters: peak and RMS, dBFS, of the master bus and each source",
  },
  { name: 'preview', schema: ws.PreviewMessageSchema, summary: 'A preview frame: base64 JPEG (format=json)' },
  { name: 'chat', schema: ws.ChatWsMessageSchema, summary: 'A chat message was posted' },
  { name: 'chatRemoved', schema: ws.ChatRemovedMessageSchema, summary: 'A chat message was deleted (moderation)' },
  {
    name: 'subscribed',
    schema: ws.SubscribedMessageSchema,
    summary: "Answer to quality, subscribe, unsubscribe: the socket's settings now",
  },
  { name: 'error', schema: ws.ErrorMessageSchema, summary: 'An invalid or rate-limited client message (the socket stays open)' },
  { name: 'pong', schema: ws.PongMessageSchema, summary: 'Answer to ping' },
];

const CLIENT_SUMMARY: Record<string, string> = {
  ping: 'Answered with pong',
  quality: 'Change the preview quality',
  subscribe: 'Join channels (names or aliases)',
  unsubscribe: 'Leave channels',
};

/** What a client may send (`ClientMessageSchema`'s options), by type. */
const CLIENT: MessageDoc[] = ws.ClientMessageSchema.options.map((schema) => {
  const name = (schema.shape.type as z.ZodLiteral<string>).value;
  return { name, schema, summary: CLIENT_SUMMARY[name] ?? name };
});

/**
 * Which server messages each channel carries (ws/broadcasts.ts); the connect messages and the
 * answers to a client's messages (`welcome`, the first `stateUpdate`, `subscribed`, `error`,
 * `pong`) go to every socket whatever its channels.
 */
export const CHANNEL_MESSAGES: Record<ws.WsChannel, readonly string[]> = {
  state: [
    'stateUpdate',
    'metricsUpdate',
    'layerUpdate',
    'previewLayerUpdate',
    'layerVisibility',
    'layerError',
    'outputUpdate',
    'dataUpdate',
    'scenesUpdate',
    'animationEnded',
    'mediaUpdate',
    'mediaEnded',
  ],
  layers: [
    'layerUpdate',
    'previewLayerUpdate',
    'layerVisibility',
    'layerError',
    'dataUpdate',
    'animationEnded',
    'mediaUpdate',
    'mediaEnded',
  ],
  preview: ['preview'],
  chat: ['chat', 'chatRemoved'],
  audio: ['audioLevels'],
};
/** Messages every socket gets. */
export const EVERY_SOCKET = ['welcome', 'stateUpdate', 'subscribed', 'error', 'pong'] as const;

const CHANNEL_DESCRIPTION: Record<ws.WsChannel, string> = {
  state: 'Stream state, metrics, layer, media, data, scene library, output and animation events (`?target=state`, the default)',
  layers: 'Layer, media, data and animation events only (`?target=layers`)',
  preview:
    'Preview frames (`?target=preview&quality=low|medium|high&format=json|binary`); binary frames are a 16-byte header then the JPEG (docs/websocket.md)',
  chat: 'Chat messages (`?target=chat`)',
  audio: "The program audio's meters, `audioLevels`, about 10 a second while the program mixes (`?target=audio`)",
};

/** A component name for a message: `stateUpdate` -> `WsStateUpdate` (apart from the REST components: `ChatMessage` is one). */
const componentName = (name: string): string => `Ws${name[0]!.toUpperCase()}${name.slice(1)}`;

/** The design documents' names, each the canonical message under another `type`. */
function aliasMessages(): MessageDoc[] {
  return (Object.keys(ws.WS_ALIASES) as ws.WsAlias[]).map((alias) => {
    const { type } = ws.WS_ALIASES[alias];
    const canonical = SERVER.find((m) => m.name === type)!;
    return {
      name: alias,
      schema: (canonical.schema as z.ZodObject).extend({ type: z.literal(alias) }),
      summary: `\`${type}\` under the design documents' name, for a socket that subscribed with \`${alias}\``,
    };
  });
}

type Json = Record<string, unknown>;
let cached: Json | null = null;

/**
 * The AsyncAPI 3.0 document (once per process, then cached).
 * @param version the API version (the OpenAPI document's `info.version`)
 */
export function asyncApiDocument(version: string): Json {
  if (cached) return cached;
  nameComponents();
  const aliases = aliasMessages();
  const all = [...SERVER, ...aliases, ...CLIENT];
  for (const m of all) zodToOpenAPIRegistry.add(m.schema, { _internal: { refId: componentName(m.name) }, description: m.summary });
  const { components } = new OpenApiGeneratorV31(all.map((m) => ({ type: 'schema' as const, schema: m.schema }))).generateComponents();
  const messages: Json = {};
  for (const m of all) {
    messages[m.name] = {
      name: m.name,
      title: m.name,
      summary: m.summary,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${componentName(m.name)}` },
    };
  }
  const ref = (name: string): Json => ({ $ref: `#/components/messages/${name}` });
  const channels: Json = {};
  const operations: Json = {};
  for (const channel of ws.WsChannelSchema.options) {
    const names = [...new Set([...EVERY_SOCKET, ...CHANNEL_MESSAGES[channel]])];
    const channelAliases = aliases.filter((a) => ws.WS_ALIASES[a.name as ws.WsAlias].channel === channel).map((a) => a.name);
    channels[channel] = {
      address: '/stream/ws',
      title: channel,
      description: `${CHANNEL_DESCRIPTION[channel]}. Also on \`/api/stream/ws\` and on any path of \`WS_PORT\`.`,
      messages: Object.fromEntries([...names, ...channelAliases, ...CLIENT.map((m) => m.name)].map((n) => [n, ref(n)])),
      bindings: {
        ws: {
          method: 'GET',
          query: {
            type: 'object',
            properties: {
              target: { type: 'string', enum: [channel, ...channelAliases] },
              quality: { type: 'string', enum: [...ws.PreviewQualitySchema.options], default: 'medium' },
              format: { type: 'string', enum: ['json', 'binary'], default: 'json' },
              bus: {
                type: 'string',
                enum: [...BusSchema.options],
                default: 'program',
                description: "Studio mode: which scene the socket's preview frames show (the program on air, or the off-air preview scene)",
              },
              token: {
                type: 'string',
                description: 'A token, when neither the Authorization header nor the bearer.<token> subprotocol can carry it',
              },
            },
          },
          headers: {
            type: 'object',
            properties: {
              Authorization: { type: 'string', description: '`Bearer <token>` (any role may watch)' },
              'Sec-WebSocket-Protocol': { type: 'string', description: 'Browsers: `bearer.<token>, stream-manager`' },
            },
          },
        },
      },
    };
    const own = (n: string): Json => ({ $ref: `#/channels/${channel}/messages/${n}` });
    operations[`receive_${channel}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${channel}` },
      summary: `What a socket on \`${channel}\` receives`,
      messages: [...names, ...channelAliases].map(own),
    };
    operations[`send_${channel}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      summary: 'What a client may send: ping, quality, subscribe, unsubscribe',
      messages: CLIENT.map((m) => own(m.name)),
    };
  }
  cached = {
    asyncapi: '3.0.0',
    info: {
      title: 'Stream Manager WebSocket',
      version,
      description:
        "Live state, events and previews. Connect to `/stream/ws?target=<channel>`; `subscribe`/`unsubscribe` change the channels later. A message over 64 KiB closes the socket (1009). The design documents' names `frame`/`previewFrame` (for `preview`) and `streamState` (for `stateUpdate`) are accepted as channel names: a socket that subscribes with one gets those messages under that name. The HTTP API is described by `/openapi.json`.",
    },
    defaultContentType: 'application/json',
    servers: {
      api: {
        host: '{host}',
        protocol: 'ws',
        description: 'The HTTP port; the standalone WS_PORT answers at any path.',
        variables: { host: { default: 'localhost:4200', description: 'Host and port of the server' } },
        security: [{ $ref: '#/components/securitySchemes/bearer' }],
      },
    },
    channels,
    operations,
    components: {
      schemas: components?.schemas ?? {},
      messages,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token of AUTH_TOKENS, any role (none needed when AUTH_TOKENS is unset)' },
      },
    },
  };
  return cached;
}
