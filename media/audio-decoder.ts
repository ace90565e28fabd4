import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { AUDIO_CHANNELS, AUDIO_RATE_HZ } from '../shared/audio.js';
import { audioDecoderArgs, type AudioDecodeSpec } from './audio-args.js';

/** Frames a source's ring holds: 4 s. */
export const SOURCE_FRAMES = 4 * AUDIO_RATE_HZ;
/** A file's decoder is paused when it is this many frames ahead of what the mix read last (3 s). */
const FILE_AHEAD_FRAMES = 3 * AUDIO_RATE_HZ;
/** A live feed plays this far behind its newest samples (its jitter buffer), frames: 100 ms. */
export const LIVE_DELAY_FRAMES = AUDIO_RATE_HZ / 10;
/** Frames of one envelope block (10 ms): a run's envelope is the RMS of each block, for lip sync. */
export const ENVELOPE_FRAMES = AUDIO_RATE_HZ / 100;
/** Envelope blocks a run keeps (as long as its ring). */
export const ENVELOPE_BLOCKS = SOURCE_FRAMES / ENVELOPE_FRAMES;
/** Characters of ffmpeg's log kept for the exit message. */
const STDERR_TAIL = 2000;

/** How a run ended, for the main thread. */
export interface DecoderExit {
  code: number | null;
  signal: string | null;
  frames: number;
  stderr: string;
}

/**
 * One decoder run of one audio source, in the mixer thread: an ffmpeg (media/audio-args.ts) whose
 * raw 48 kHz stereo float output is copied into a ring of {@link SOURCE_FRAMES}, indexed by the
 * run's frame number. A file's ffmpeg is paused (its stdout not read) while it is
 * {@link FILE_AHEAD_FRAMES} ahead of the mix; a live feed is always read and overwrites the
 * oldest frames. Reads never wait: a frame not decoded (yet, any more) reads as silence.
 */
export class AudioDecoder {
  readonly ring = new Float32Array(SOURCE_FRAMES * AUDIO_CHANNELS);
  /**
   * The run's envelope, shared with the main thread (lip sync): word 0 (Int32) the blocks done,
   * then from byte 8 one Float32 RMS (both channels) per {@link ENVELOPE_FRAMES} frames, block b in slot b % ENVELOPE_BLOCKS.
   */
  readonly envelope = new SharedArrayBuffer(8 + ENVELOPE_BLOCKS * 4);
  readonly #envDone = new Int32Array(this.envelope, 0, 1);
  readonly #envRms = new Float32Array(this.envelope, 8, ENVELOPE_BLOCKS);
  #envSum = 0;
  #envFrames = 0;
  /** Frames decoded so far. */
  written = 0;
  /** Highest frame the mix asked for (a file's decoder stays at most {@link FILE_AHEAD_FRAMES} ahead of it). */
  #readHigh = 0;
  /** Live: program frame minus run frame, once anchored; null until there is a jitter buffer's worth. */
  liveOffset: number | null = null;
  /** Live: after running dry, the feed is anchored again only once `written` reaches this. */
  resumeAt = 0;
  readonly #proc: ChildProcessByStdio<null, Readable, Readable>;
  /** Bytes of a frame split across chunks. */
  readonly #partial = new Uint8Array(AUDIO_CHANNELS * 4);
  #partialBytes = 0;
  #tail = '';
  #paused = false;
  #stopped = false;

  constructor(
    ffmpegPath: string,
    readonly spec: AudioDecodeSpec,
    onSpawn: (pid: number, envelope: SharedArrayBuffer) => void,
    onExit: (exit: DecoderExit) => void,
  ) {
    this.#proc = spawn(ffmpegPath, audioDecoderArgs(spec), { stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.#proc.pid !== undefined) onSpawn(this.#proc.pid, this.envelope);
    this.#proc.stdout.on('data', (chunk: Buffer) => this.#take(chunk));
    this.#proc.stderr.setEncoding('utf8');
    this.#proc.stderr.on('data', (t: string) => (this.#tail = (this.#tail + t).slice(-STDERR_TAIL)));
    this.#proc.on('error', (err) => (this.#tail += `ffmpeg could not be started: ${err.message}`));
    this.#proc.on('close', (code, signal) => onExit({ code, signal, frames: this.written, stderr: this.#tail }));
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Copies whole frames of `chunk` into the ring (a frame split across chunks is joined). */
  #take(chunk: Buffer): void {
    const frameBytes = AUDIO_CHANNELS * 4;
    let off = 0;
    if (this.#partialBytes > 0) {
      const need = frameBytes - this.#partialBytes;
      this.#partial.set(chunk.subarray(0, need), this.#partialBytes);
      this.#partialBytes += Math.min(need, chunk.length);
      off = Math.min(need, chunk.length);
      if (this.#partialBytes < frameBytes) return;
      this.#put(new Float32Array(this.#partial.buffer.slice(0), 0, AUDIO_CHANNELS));
      this.#partialBytes = 0;
    }
    const whole = Math.floor((chunk.length - off) / frameBytes);
    if (whole > 0) {
      // A Buffer's byte offset need not be 4-aligned: copied once into an aligned array.
      const bytes = new Uint8Array(whole * frameBytes);
      bytes.set(chunk.subarray(off, off + whole * frameBytes));
      this.#put(new Float32Array(bytes.buffer));
      off += whole * frameBytes;
    }
    if (off < chunk.length) {
      this.#partial.set(chunk.subarray(off));
      this.#partialBytes = chunk.length - off;
    }
    if (!this.spec.live && this.written - this.#readHigh > FILE_AHEAD_FRAMES && !this.#paused) {
      this.#paused = true;
      this.#proc.stdout.pause();
    }
  }

  /** Appends interleaved frames to the ring. */
  #put(samples: Float32Array): void {
    const frames = samples.length / AUDIO_CHANNELS;
    for (let i = 0; i < samples.length; i += AUDIO_CHANNELS) {
      this.#envSum += samples[i]! * samples[i]! + samples[i + 1]! * samples[i + 1]!;
      if (++this.#envFrames < ENVELOPE_FRAMES) continue;
      const done = this.#envDone[0]!;
      this.#envRms[done % ENVELOPE_BLOCKS] = Math.sqrt(this.#envSum / (ENVELOPE_FRAMES * AUDIO_CHANNELS));
      Atomics.store(this.#envDone, 0, done + 1);
      this.#envSum = 0;
      this.#envFrames = 0;
    }
    for (let i = 0; i < frames;) {
      const slot = (this.written + i) % SOURCE_FRAMES;
      const run = Math.min(frames - i, SOURCE_FRAMES - slot);
      this.ring.set(samples.subarray(i * AUDIO_CHANNELS, (i + run) * AUDIO_CHANNELS), slot * AUDIO_CHANNELS);
      i += run;
    }
    this.written += frames;
  }

  /** True when run frame `i` is in the ring. */
  has(i: number): boolean {
    return i >= 0 && i < this.written && i >= this.written - SOURCE_FRAMES;
  }

  /** The slot index (into {@link ring}, in floats) of run frame `i`; check {@link has} first. */
  slot(i: number): number {
    return (i % SOURCE_FRAMES) * AUDIO_CHANNELS;
  }

  /** The mix asked for run frames up to `i`: a paused file decoder goes on once it is no longer far ahead. */
  wanted(i: number): void {
    if (i > this.#readHigh) this.#readHigh = i;
    if (this.#paused && this.written - this.#readHigh <= FILE_AHEAD_FRAMES) {
      this.#paused = false;
      this.#proc.stdout.resume();
    }
  }

  /** Kills the run's ffmpeg (its exit follows). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#proc.kill('SIGKILL');
    this.#proc.stdout.resume();
  }
}
