import type { MediaStatus } from '../../shared/media.js';
import type { ServerMessage, WsChannel } from '../../shared/ws-messages.js';
import type { MediaControl } from '../media/media-control.js';

/**
 * How far, ms, a source's position may be from where it would be by now (the last one sent, moved
 * on by the time since at the layer's `rate` while playing) before an update that changes nothing
 * else counts as a jump (a seek, a restart, a loop starting over) and is sent.
 */
export const MEDIA_JUMP_MS = 1000;

/** Channels that carry `mediaUpdate` and `mediaEnded` (those of `layerUpdate`). */
const CHANNELS: readonly WsChannel[] = ['state', 'layers'];

/** Where media messages go: the WebSocket hub is one. */
export interface MediaMessageSink {
  broadcast(channels: readonly WsChannel[], message: ServerMessage): void;
}

/** What {@link broadcastMedia} returns: forget removed layers, and stop listening. */
export interface MediaBroadcasts {
  /** Drops what was last sent for every layer not in `layerIds` (the layers that are left). */
  retain(layerIds: Iterable<string>): void;
  close(): void;
}

function sameButPosition(a: MediaStatus, b: MediaStatus): boolean {
  return (
    a.state === b.state &&
    a.durationMs === b.durationMs &&
    a.width === b.width &&
    a.height === b.height &&
    a.fps === b.fps &&
    a.lastError === b.lastError
  );
}

/**
 * Turns the sources' updates into WS messages on the `state` and `layers` channels: `mediaUpdate
 * {layerId, media}` when a source's state, duration, size, fps or error changes or its position
 * jumps (more than {@link MEDIA_JUMP_MS} from where playing would have taken it), never for the
 * position moving on frame by frame, however often `media` reports; `mediaEnded {layerId, media}`
 * once per end of a non-looping file (after a `mediaUpdate` saying `ended`).
 * @param rateOf the playback rate of video layer `layerId` (its `content.rate`; 1 when unknown)
 * @param now a monotonic clock, ms
 */
export function broadcastMedia(
  sink: MediaMessageSink,
  media: Pick<MediaControl, 'onUpdate' | 'onEnded'>,
  rateOf: (layerId: string) => number,
  now: () => number = () => performance.now(),
): MediaBroadcasts {
  const last = new Map<string, { status: MediaStatus; at: number; endedSent: boolean }>();
  const update = (layerId: string, status: MediaStatus): void => {
    const t = now();
    const prev = last.get(layerId);
    if (prev && sameButPosition(prev.status, status)) {
      const moved = prev.status.state === 'playing' ? (t - prev.at) * rateOf(layerId) : 0;
      if (Math.abs(status.positionMs - (prev.status.positionMs + moved)) <= MEDIA_JUMP_MS) return;
    }
    last.set(layerId, { status: { ...status }, at: t, endedSent: status.state === 'ended' && (prev?.endedSent ?? false) });
    sink.broadcast(CHANNELS, { type: 'mediaUpdate', payload: { layerId, media: status } });
  };
  const offUpdate = media.onUpdate(update);
  const offEnded = media.onEnded((layerId, status) => {
    update(layerId, status.state === 'ended' ? status : { ...status, state: 'ended' });
    const entry = last.get(layerId);
    if (!entry || entry.endedSent) return;
    entry.endedSent = true;
    sink.broadcast(CHANNELS, { type: 'mediaEnded', payload: { layerId, media: { ...status, state: 'ended' } } });
  });
  return {
    retain(layerIds) {
      const keep = new Set(layerIds);
      for (const id of last.keys()) if (!keep.has(id)) last.delete(id);
    },
    close() {
      offUpdate();
      offEnded();
      last.clear();
    },
  };
}
