import type { MediaState } from '../../shared/media.js';
import { SupervisedOutput, type OutputState, type RestartPolicy } from '../output/supervised-output.js';
import type { Logger } from 'pino';
import type { DecoderRun } from './decoder-run.js';

/** A live decoder run without its first picture after this long is killed and retried, ms. */
export const LIVE_CONNECT_MS = 20_000;
/** Live feeds are retried at most this far apart, ms (the restart policy's own cap may be longer). */
export const LIVE_MAX_RETRY_DELAY_MS = 5000;
/** A playing file whose picture lags its clock for this long reads `stalled`, ms. */
export const STALL_AFTER_MS = 1000;

/** What a source's state is made of. */
export interface StateFacts {
  /** A file that cannot be decoded. */
  error: boolean;
  /** A non-looping file past its end. */
  ended: boolean;
  playing: boolean;
  /** A live feed's supervision state; null for files. */
  feed: OutputState | null;
  /** A picture was shown, or is decoded in the current run. */
  pictured: boolean;
  /** ms a playing file's wanted picture has not been decoded, or null. */
  laggingMs: number | null;
}

/** A source's state (shared/media.ts `MediaState`) from what is known of it. */
export function sourceState(f: StateFacts): MediaState {
  if (f.error) return 'error';
  if (f.ended) return 'ended';
  if (f.feed !== null) {
    if (f.feed === 'reconnecting') return 'reconnecting';
    if (f.feed === 'failed') return 'error';
    if (f.feed === 'live') return f.playing ? 'playing' : 'paused';
    // Connecting (the first run, or one after a restart asked for) or stopped for a restart.
    return f.pictured ? 'reconnecting' : 'loading';
  }
  if (!f.pictured) return 'loading';
  if (f.laggingMs !== null && f.laggingMs > STALL_AFTER_MS) return 'stalled';
  return f.playing ? 'playing' : 'paused';
}

/**
 * The supervisor of a live feed's decoder runs: the outputs' own (output/supervised-output.ts)
 * with their restart policy, retried forever, at most {@link LIVE_MAX_RETRY_DELAY_MS} apart; a
 * run without its first picture after {@link LIVE_CONNECT_MS} is killed and retried (a run's own
 * stall limit applies once pictures flowed).
 */
export function feedSupervisor(
  layerId: string,
  policy: RestartPolicy,
  log: Logger,
  spawn: () => DecoderRun,
  onChange: () => void,
): SupervisedOutput<DecoderRun> {
  return new SupervisedOutput<DecoderRun>({
    id: `video:${layerId}`,
    policy: {
      ...policy,
      maxRetries: Number.POSITIVE_INFINITY,
      maxDelayMs: Math.min(policy.maxDelayMs, LIVE_MAX_RETRY_DELAY_MS),
      stallMs: LIVE_CONNECT_MS,
    },
    log,
    spawn,
    onChange,
  });
}
