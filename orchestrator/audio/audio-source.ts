import type { Logger } from 'pino';
import type { MixSource } from '../../media/audio-protocol.js';
import type { AudioContent } from '../../shared/audio.js';
import type { MediaStatus, VideoContent } from '../../shared/media.js';
import { redactUrl, scrubSecrets, secretsOf } from '../../shared/outputs.js';
import { MediaClock } from '../media/media-clock.js';
import type { SourceInput } from '../media/source-path.js';

/** The content of a layer with sound. */
export type SoundLayer = VideoContent | AudioContent;

/** A file position that differs from this one's by more than this is a jump (a seek), ms. */
const JUMP_MS = 150;
/** A picture's position within this of the sound's is left alone (positions are reported in whole ms), ms. */
const NUDGE_MS = 1.5;

/** What a source does to the mixer. */
export interface AudioSourceHooks {
  /** Starts a decoder run (replacing the last one); returns its id. */
  open(o: { input: string; live: boolean; startMs: number; loop: boolean }): number;
  close(): void;
  /** How long to wait before the n-th reopening of a live feed (n from 0), ms. */
  retryMs(n: number): number;
  /** Whether a file has an audio stream, and its length, ms (null: unreadable). */
  probe(input: string): Promise<{ audio: boolean; durationMs: number | null } | null>;
  /** Scene time now, ms. */
  now(): number;
  log: Logger;
}

/**
 * The sound of one layer, on the main thread: its media clock on scene time (files: the position
 * advances with scene time while playing; the same clock as its picture: a video layer's seek,
 * restart or play and pause move it too) and its decoder runs in the mixer thread (a seek is a new
 * run). A live feed whose decoder ends is opened again, a second later, then up to 5 s apart.
 */
export class AudioSource {
  #content: SoundLayer;
  readonly #clock: MediaClock;
  #run = 0;
  /** Media position of the current run's frame 0 (unwrapped), ms. */
  #p0 = 0;
  #durationMs: number | null = null;
  #retries = 0;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  /** A video file's sound: unknown until probed (no decoder is started for a file without one). */
  #hasAudio: boolean | null;

  constructor(
    readonly id: string,
    content: SoundLayer,
    readonly input: SourceInput,
    now: number,
    private readonly hooks: AudioSourceHooks,
  ) {
    this.#content = content;
    this.#clock = new MediaClock(now, content.startMs, content.playing, 1);
    // A video file is probed first: most have no sound worth an ffmpeg (a feed is opened at once).
    // A video layer's SRT feed is not opened a second time for its sound: an SRT listener takes one
    // caller, and the picture's decoder is that one (its sound is silent for now).
    this.#hasAudio = content.type === 'video' && !input.live ? null : !(content.type === 'video' && input.input.startsWith('srt:'));
    if (this.#hasAudio) this.#open(content.startMs);
    else if (this.#hasAudio === null)
      void hooks.probe(input.input).then(
        (p) => {
          this.#hasAudio = p?.audio ?? false;
          if (p?.durationMs) this.#durationMs = p.durationMs;
          if (this.#hasAudio) this.#open(this.#clock.position(hooks.now()));
        },
        () => (this.#hasAudio = false),
      );
  }

  /** False once a file is known to have no sound (or a feed's picture is an SRT caller's only): no decoder, no place in the mix. */
  get mayHaveSound(): boolean {
    return this.#hasAudio !== false;
  }

  get src(): string {
    return this.#content.src;
  }

  /** Silent while the picture plays at another speed (its sound is not time-stretched). */
  get #rateOk(): boolean {
    return this.#content.type !== 'video' || this.#content.rate === 1;
  }

  #open(p0: number): void {
    if (this.#closed || !this.#hasAudio) return;
    this.#envelope = null;
    const loop = this.#loops();
    const d = this.#durationMs;
    const startMs = loop && d ? p0 % d : p0;
    this.#p0 = p0;
    this.#run = this.hooks.open({ input: this.input.input, live: this.input.live, startMs, loop });
  }

  #loops(): boolean {
    if (this.input.live) return false;
    return this.#content.loop || (this.#content.type === 'video' && this.#content.onEnd === 'loop');
  }

  /** The layer changed (same `src`): play or pause; a new loop setting is a new run from the position now. */
  update(next: SoundLayer, now: number): void {
    const prev = this.#content;
    this.#content = next;
    if (next.playing !== prev.playing) this.#clock.setPlaying(now, next.playing);
    const loopWas = prev.loop || (prev.type === 'video' && prev.onEnd === 'loop');
    if (!this.input.live && loopWas !== this.#loops()) this.#open(this.#clock.position(now));
  }

  /** Starts again from `startMs` (a scene activation); a live feed goes on. */
  restart(now: number): void {
    if (this.input.live) return;
    this.#clock.seek(now, this.#content.startMs);
    this.#open(this.#content.startMs);
  }

  /** Goes to `positionMs` of the file (a media action `seek`); a live feed goes on. */
  seek(now: number, positionMs: number): void {
    if (this.input.live) return;
    this.#clock.seek(now, positionMs);
    this.#open(positionMs);
  }

  /** What the layer's `media` reports for an `audio` layer: playing or paused, its position (wrapped when it loops), its length once known. */
  status(now: number): MediaStatus {
    const d = this.#durationMs;
    const p = Math.max(0, this.#clock.position(now));
    return {
      state: this.#clock.playing ? 'playing' : 'paused',
      positionMs: Math.round(d ? (this.#loops() ? p % d : Math.min(p, d)) : p),
      durationMs: d,
      width: 0,
      height: 0,
      fps: 0,
      lastError: null,
    };
  }

  /**
   * A video layer's picture reported (every media action does, at once): its duration (for
   * looping), and its position. A position far from this clock's (a seek or restart of the
   * picture) is a new run from there; a small difference (the picture's clock was paused or
   * played a few ms after this one: the action is stored first) moves this clock onto the
   * picture's, with no new run.
   */
  followVideo(status: MediaStatus, now: number): void {
    if (this.input.live || this.#closed) return;
    if (status.durationMs) this.#durationMs = status.durationMs;
    const mine = this.#clock.position(now);
    const d = this.#durationMs;
    const wrapped = d && this.#loops() ? mine % d : d ? Math.min(mine, d) : mine;
    const diff = status.positionMs - wrapped;
    if (Math.abs(diff) <= NUDGE_MS) return;
    if (d && !this.#loops() && status.positionMs >= d && mine >= d) return;
    if (Math.abs(diff) <= JUMP_MS) {
      this.#clock.seek(now, mine + diff);
      return;
    }
    this.#clock.seek(now, status.positionMs);
    this.#open(status.positionMs);
  }

  /**
   * The source's sound at scene time `t` (its sync offset `sync` ms applied), before its volume: the
   * RMS (0..1) of the `smoothingMs` before it, from the decoder's 10 ms blocks; 0 when paused, not
   * decoded (yet, or any more) or silent. A live feed: its newest blocks, less its jitter buffer.
   */
  envelope(t: number, sync: number, smoothingMs: number): number {
    const env = this.#envelope;
    if (!env || (!this.input.live && !this.#clock.playing)) return 0;
    const done = Atomics.load(env.done, 0);
    const size = env.rms.length;
    const end = this.input.live ? done - 10 : Math.floor((this.#clock.position(t - sync) - this.#p0) / 10);
    const n = Math.max(1, Math.round(smoothingMs / 10));
    let sum = 0;
    for (let b = end - n + 1; b <= end; b++) if (b >= 0 && b < done && b >= done - size) sum += env.rms[b % size]! ** 2;
    return Math.sqrt(sum / n);
  }

  /** This source's part in a mix from scene time `tMs` on, with its gains and sync offset (ms; positive: later); `frameMs`: the program's frame interval. */
  mixPart(tMs: number, sync: number, left: number[], right: number[], frameMs: number): MixSource {
    // A video's picture is the frame at or before its position (up to a frame interval behind
    // it): its sound is read half a frame interval later, so that the two are within half a frame.
    const lag = this.#content.type === 'video' ? frameMs / 2 : 0;
    return {
      id: this.id,
      run: this.#run,
      positionMs: this.#clock.position(tMs - sync - lag) - this.#p0,
      playing: this.#clock.playing && this.#rateOk,
      delayMs: sync,
      left,
      right,
    };
  }

  /** The current run's ffmpeg pid, once it started. */
  pid: number | undefined;
  /** The current run's envelope (media/audio-decoder.ts: blocks done, then 10 ms RMS blocks). */
  #envelope: { done: Int32Array; rms: Float32Array } | null = null;

  spawned(run: number, pid: number, envelope: SharedArrayBuffer): void {
    if (run !== this.#run) return;
    this.pid = pid;
    this.#envelope = { done: new Int32Array(envelope, 0, 1), rms: new Float32Array(envelope, 8) };
    this.hooks.log.debug({ layerId: this.id, pid }, 'audio decoder started');
  }

  /** A run's ffmpeg ended: a live feed is opened again after a while; a file's end is silence. */
  exited(run: number, code: number | null, stderr: string): void {
    if (run !== this.#run || this.#closed) return;
    this.pid = undefined;
    if (code !== 0 && code !== null)
      this.hooks.log.info(
        { layerId: this.id, code, err: this.#redact(stderr.trim().split('\n').slice(-2).join(' | ')) },
        'audio decoder ended',
      );
    if (!this.input.live) return;
    // A feed without sound (a camera's picture only): not tried again until the layer changes.
    if (/matches no streams/.test(stderr)) {
      this.#hasAudio = false;
      return;
    }
    const wait = this.hooks.retryMs(this.#retries++);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#open(0);
    }, wait);
    this.#retry.unref();
  }

  /** ffmpeg's words with a feed URL's secrets (a stream key, user info, query values) or a file's path on this server replaced. */
  #redact(message: string): string {
    const { input, live } = this.input;
    const named = message.split(input).join(live ? redactUrl(input) : this.#content.src);
    return live ? scrubSecrets(named, secretsOf(input)) : named;
  }

  /** The mixer thread died: its decoder run is gone (its ffmpeg is killed, if it still runs). */
  orphaned(): void {
    if (this.pid !== undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Already ended.
      }
    }
    this.pid = undefined;
    this.#envelope = null;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
  }

  /** A new mixer thread: a new decoder run from the position now (a live feed: from its live edge). */
  reopen(now: number): void {
    if (this.#closed) return;
    this.#open(this.input.live ? 0 : this.#clock.position(now));
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.hooks.close();
  }
}
