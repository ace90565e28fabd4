/**
 * What the WebSocket clients hear: each event of the running parts as the message the protocol
 * (shared/ws-messages.ts) defines, on the channels that carry it.
 */
import type { AnimationEndedPayload } from '../../shared/animation.js';
import type { ChatMessage } from '../../shared/chat.js';
import type { SceneList } from '../../shared/responses.js';
import type { StreamState } from '../../shared/stream-state.js';
import type { MetricsUpdateMessage } from '../../shared/ws-messages.js';
import { ProcessLoad } from '../metrics/process-load.js';
import type { StreamPipeline } from '../pipeline.js';
import type { StateManager } from '../state/state-manager.js';
import type { WsHub } from './ws-hub.js';
import { viewLayer } from '../media/media-view.js';
import { broadcastMedia } from './media-broadcasts.js';
import { cuedMedia } from '../media/cued-media.js';

/** Anything that emits `ended` when an animation or a scene crossfade is over. */
interface EndsAnimations {
  on(event: 'ended', listener: (payload: AnimationEndedPayload) => void): unknown;
}

/** The parts whose events are broadcast. */
export interface BroadcastSources {
  state: StateManager;
  pipeline: StreamPipeline;
  /** The animator and the scene switcher. */
  animations: readonly EndsAnimations[];
  chat: {
    on(event: 'message', listener: (payload: ChatMessage) => void): unknown;
    on(event: 'removed', listener: (payload: { id: string }) => void): unknown;
  };
  /** Share of the render workers' time busy, 0..1, for `metricsUpdate`. */
  poolUtilization: () => number;
  /** The scene library's list (saved scenes and templates), for `scenesUpdate`. */
  scenes: { list(): SceneList };
}

/**
 * Subscribes `ws` to the parts' events: stream state (and, while live, `metricsUpdate`), layer
 * changes (`layerUpdate`, video layers with their `media`, and `layerVisibility` when only
 * visibility flipped; studio mode's preview scene: `previewLayerUpdate`), the video sources (`mediaUpdate`, `mediaEnded`: media-broadcasts.ts), data,
 * the scene library (`scenesUpdate`), chat, layer faults, output changes and the end of animations.
 */
export function broadcastChanges(ws: WsHub, { state, pipeline, animations, chat, poolUtilization, scenes }: BroadcastSources): void {
  const load = new ProcessLoad();
  pipeline.on('state', (stream) => {
    ws.broadcast(['state'], { type: 'stateUpdate', payload: { stream, version: state.version } });
    if (stream.isLive)
      ws.broadcast(['state'], { type: 'metricsUpdate', payload: metricsPayload(stream, ws, pipeline, poolUtilization, load) });
  });
  for (const a of animations) a.on('ended', (payload) => ws.broadcast(['state', 'layers'], { type: 'animationEnded', payload }));
  chat.on('message', (payload) => ws.broadcast(['chat'], { type: 'chat', payload }));
  chat.on('removed', (payload) => ws.broadcast(['chat'], { type: 'chatRemoved', payload }));
  pipeline.audio.on('levels', (payload) => ws.broadcast(['audio'], { type: 'audioLevels', payload }));
  pipeline.on('layerFault', (fault) => ws.broadcast(['state', 'layers'], { type: 'layerError', payload: fault }));
  pipeline.on('output', (payload) => ws.broadcast(['state'], { type: 'outputUpdate', payload }));
  const media = pipeline.media;
  const sources = broadcastMedia(ws, media, (id) => {
    const content = state.scene.entries().find((e) => e.layer.id === id)?.layer.content;
    return content?.type === 'video' ? content.rate : 1;
  });
  state.scene.on('change', (e) => {
    if (e.type === 'layerRemoved' || e.type === 'sceneReplaced') sources.retain(state.scene.entries().map((x) => x.layer.id));
    const payloads =
      e.type === 'sceneReplaced'
        ? e.layers.map((layer) => ({ id: layer.id, layer: viewLayer(layer, media), version: e.version }))
        : [
            e.type === 'layerRemoved'
              ? { id: e.layer.id, removed: true, version: e.version }
              : { id: e.layer.id, layer: viewLayer(e.layer, media), version: e.version },
          ];
    for (const payload of payloads) ws.broadcast(['state', 'layers'], { type: 'layerUpdate', payload });
    if (e.type === 'layerUpdated' && e.layer.visible !== e.previous.visible) {
      ws.broadcast(['state', 'layers'], {
        type: 'layerVisibility',
        payload: { id: e.layer.id, visible: e.layer.visible, version: e.version },
      });
    }
  });
  const cued = cuedMedia(state.preview);
  /** The preview's layer ids as last broadcast: a whole new preview (a take) also says which went. */
  let previewIds = new Set(state.preview.list().map((l) => l.id));
  state.preview.on('change', (e) => {
    const version = e.version;
    const kept = new Set(e.type === 'sceneReplaced' ? e.layers.map((l) => l.id) : []);
    const payloads =
      e.type === 'sceneReplaced'
        ? [
            ...[...previewIds].filter((id) => !kept.has(id)).map((id) => ({ id, removed: true, version })),
            ...e.layers.map((layer) => ({ id: layer.id, layer: viewLayer(layer, cued), version })),
          ]
        : e.type === 'layerRemoved'
          ? [{ id: e.layer.id, removed: true, version }]
          : [{ id: e.layer.id, layer: viewLayer(e.layer, cued), version }];
    previewIds = new Set(state.preview.list().map((l) => l.id));
    for (const payload of payloads) ws.broadcast(['state', 'layers'], { type: 'previewLayerUpdate', payload });
  });
  state.on('change', (e) => {
    if (e.type === 'data') ws.broadcast(['state', 'layers'], { type: 'dataUpdate', payload: { data: e.data, version: e.version } });
    else if (e.type === 'scenes') ws.broadcast(['state'], { type: 'scenesUpdate', payload: { ...scenes.list(), version: e.version } });
  });
}

function metricsPayload(
  stream: StreamState,
  ws: WsHub,
  pipeline: StreamPipeline,
  poolUtilization: () => number,
  load: ProcessLoad,
): MetricsUpdateMessage['payload'] {
  const encoder = pipeline.encoderLoad();
  const proc = load.sample();
  return {
    fps: stream.fps,
    targetFPS: stream.targetFPS,
    droppedFrames: stream.droppedFrames,
    averageRenderTime: stream.averageRenderTime,
    poolUtilization: poolUtilization(),
    viewers: ws.count('preview'),
    bitrateBps: pipeline.outputs()[0]?.bitrateBps ?? null,
    encoderLatency: Math.round(encoder.latencyMs * 100) / 100,
    bufferHealth: Math.round(encoder.bufferHealth * 1000) / 1000,
    cpuUsage: proc.cpuPercent,
    memoryUsage: proc.rssBytes,
    timestamp: Date.now(),
  };
}
