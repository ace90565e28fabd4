import { AUDIO_CHANNELS, AUDIO_RATE_HZ } from '../shared/audio.js';

/**
 * The program tape: the mixed program audio, shared by the mixer thread (the one writer,
 * media/audio-mixer.ts) and the main thread's encoders (readers). A ring of interleaved stereo
 * float frames on a SharedArrayBuffer, indexed by program sample: frame n (both channels) is at
 * scene time n / 48 ms, in slot n % capacity. `H_MIXED` says every frame below it is mixed (the
 * writer stores it with Atomics after the samples); a reader takes frame n only when
 * `mixed - capacity <= n < mixed`, and silence otherwise, so a late mixer never delays a reader.
 */

/** Frames the tape holds: 2 s. */
export const TAPE_FRAMES = 2 * AUDIO_RATE_HZ;
/** Header word: frames mixed so far (every frame below it is on the tape), a BigInt64. */
const H_MIXED = 0;

/** Both views of a tape. */
export interface AudioTape {
  samples: Float32Array;
  header: BigInt64Array;
}

/** The tape's buffers, as posted between threads. */
export interface TapeBuffers {
  samples: SharedArrayBuffer;
  header: SharedArrayBuffer;
}

/** Allocates a tape (about 768 KB), nothing mixed yet. */
export function allocateTape(): TapeBuffers {
  return {
    samples: new SharedArrayBuffer(TAPE_FRAMES * AUDIO_CHANNELS * 4),
    header: new SharedArrayBuffer(8 * 2),
  };
}

export function tapeOf(b: TapeBuffers): AudioTape {
  return { samples: new Float32Array(b.samples), header: new BigInt64Array(b.header) };
}

/** Frames mixed so far. */
export function mixedUpTo(t: AudioTape): number {
  return Number(Atomics.load(t.header, H_MIXED));
}

/**
 * Writes `block` (interleaved stereo, frames `from` .. `from + block.length / 2`) and publishes
 * it. A block that starts past the last mixed frame leaves a gap: the gap is cleared to silence
 * first (at most a tape's length of it), so no reader finds an older lap's samples there.
 */
export function writeTape(t: AudioTape, from: number, block: Float32Array): void {
  const mixed = mixedUpTo(t);
  const n = block.length / AUDIO_CHANNELS;
  if (from > mixed) fill(t, Math.max(mixed, from - TAPE_FRAMES), from, null);
  fill(t, from, from + n, block);
  Atomics.store(t.header, H_MIXED, BigInt(Math.max(mixed, from + n)));
}

function fill(t: AudioTape, from: number, to: number, block: Float32Array | null): void {
  for (let f = from; f < to;) {
    const slot = f % TAPE_FRAMES;
    const run = Math.min(to - f, TAPE_FRAMES - slot);
    if (block) t.samples.set(block.subarray((f - from) * AUDIO_CHANNELS, (f - from + run) * AUDIO_CHANNELS), slot * AUDIO_CHANNELS);
    else t.samples.fill(0, slot * AUDIO_CHANNELS, (slot + run) * AUDIO_CHANNELS);
    f += run;
  }
}

/**
 * Copies frames `from` .. `from + frames` into `out` (interleaved stereo; at least `frames` x 2
 * floats), silence for every frame not on the tape (not mixed yet, or overwritten). Never waits.
 * @returns frames that were on the tape
 */
export function readTape(t: AudioTape, from: number, frames: number, out: Float32Array): number {
  const mixed = mixedUpTo(t);
  const lo = Math.max(from, mixed - TAPE_FRAMES);
  const hi = Math.min(from + frames, mixed);
  out.fill(0, 0, frames * AUDIO_CHANNELS);
  for (let f = lo; f < hi;) {
    const slot = f % TAPE_FRAMES;
    const run = Math.min(hi - f, TAPE_FRAMES - slot);
    out.set(t.samples.subarray(slot * AUDIO_CHANNELS, (slot + run) * AUDIO_CHANNELS), (f - from) * AUDIO_CHANNELS);
    f += run;
  }
  return Math.max(0, hi - lo);
}
