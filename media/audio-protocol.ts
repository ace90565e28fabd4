import type { AudioLevel } from '../shared/audio.js';
import type { TapeBuffers } from './audio-tape.js';

/**
 * Messages between the main thread (orchestrator/audio/program-audio.ts) and the mixer thread
 * (media/audio-mixer.ts). Sample positions are program frames (48 kHz, one frame = both channels).
 */

/** A source's part in one mix request. */
export interface MixSource {
  id: string;
  /** The decoder run the samples come from (the latest `open` of this id). */
  run: number;
  /** Files: ms of the run's decoded sound at frame `from` (0: the run's first frame; sync offset applied); live: ignored. */
  positionMs: number;
  /** Files: false while paused (the source is silent). */
  playing: boolean;
  /** Live: extra delay of the feed behind its newest samples, ms (its sync offset; may be negative). */
  delayMs: number;
  /** Gains at frames from, from + step, ... (one past `to` at least), left and right (volume x mute x pan). */
  left: number[];
  right: number[];
}

/** Main thread to mixer. */
export type MixerCommand =
  | { type: 'init'; tape: TapeBuffers; ffmpegPath: string }
  /** Starts (or, for an id already open, replaces) a source's decoder run. */
  | { type: 'open'; id: string; run: number; input: string; live: boolean; startMs: number; loop: boolean }
  | { type: 'close'; id: string }
  /**
   * Mixes frames [from, to) onto the tape. `step`: frames between gain points; `master`: the master
   * bus's gain at the same points.
   */
  | { type: 'mix'; from: number; to: number; step: number; sources: MixSource[]; master: number[] }
  | { type: 'shutdown' };

/** Mixer to main thread. */
export type MixerMessage =
  /** Levels of the last window (about 100 ms) ending at frame `at`. */
  | { type: 'levels'; at: number; master: AudioLevel; sources: Record<string, AudioLevel> }
  /** A decoder run's ffmpeg started; `envelope`: its 10 ms RMS blocks (media/audio-decoder.ts), for lip sync. */
  | { type: 'spawned'; id: string; run: number; pid: number; envelope: SharedArrayBuffer }
  /** A decoder run ended: its exit code or signal, the tail of ffmpeg's log. */
  | { type: 'exit'; id: string; run: number; code: number | null; signal: string | null; frames: number; stderr: string }
  /** Every decoder is killed: the thread ends. */
  | { type: 'closed' };
