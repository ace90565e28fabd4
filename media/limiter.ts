import { AUDIO_CHANNELS, AUDIO_RATE_HZ } from '../shared/audio.js';

/** The limiter's ceiling: -1 dBFS (room for the AAC encoder's overshoot). */
export const LIMITER_CEILING = 10 ** (-1 / 20);
/** Release time constant, s: the gain recovers by 63 % in this time once the peaks are gone. */
const RELEASE_S = 0.1;
const RELEASE_COEF = 1 - Math.exp(-1 / (RELEASE_S * AUDIO_RATE_HZ));

/**
 * A stereo-linked peak limiter on the master bus: instant attack (a frame whose louder channel
 * would pass {@link LIMITER_CEILING} is scaled down to it, the same frame), exponential release
 * ({@link RELEASE_S}). No sample it outputs is above the ceiling, so the sum never clips.
 * (A brick-wall limiter without look-ahead: simple and sample-exact; its instant attack distorts
 * a little on very loud sums, which a look-ahead limiter would smooth.)
 */
export class Limiter {
  /** The gain now, 0..1. */
  gain = 1;

  /** Limits interleaved stereo `block` in place. */
  process(block: Float32Array): void {
    let g = this.gain;
    for (let i = 0; i < block.length; i += AUDIO_CHANNELS) {
      const peak = Math.max(Math.abs(block[i]!), Math.abs(block[i + 1]!));
      g += (1 - g) * RELEASE_COEF;
      if (peak * g > LIMITER_CEILING) g = LIMITER_CEILING / peak;
      block[i] = block[i]! * g;
      block[i + 1] = block[i + 1]! * g;
    }
    this.gain = g;
  }
}
