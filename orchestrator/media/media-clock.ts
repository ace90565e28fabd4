/**
 * A file's media clock on scene time: while playing, the position advances with scene time x
 * rate; paused, it stands. Changes re-anchor it at the scene time they happen, so the position
 * never jumps except on a seek. Positions are unwrapped (a looping file's position keeps growing;
 * {@link wrapPosition} folds it into the file).
 */
export class MediaClock {
  #anchorT: number;
  #anchorP: number;
  #playing: boolean;
  #rate: number;

  /**
   * @param t scene time now, ms
   * @param positionMs media position at `t`, ms
   * @param rate playback speed (media ms per scene ms)
   */
  constructor(t: number, positionMs: number, playing: boolean, rate: number) {
    this.#anchorT = t;
    this.#anchorP = positionMs;
    this.#playing = playing;
    this.#rate = rate;
  }

  get playing(): boolean {
    return this.#playing;
  }

  get rate(): number {
    return this.#rate;
  }

  /** The media position at scene time `t`, ms (times before the anchor read as the anchor). */
  position(t: number): number {
    return this.#playing ? this.#anchorP + Math.max(0, t - this.#anchorT) * this.#rate : this.#anchorP;
  }

  /** Plays or pauses from scene time `t` on. */
  setPlaying(t: number, playing: boolean): void {
    if (playing === this.#playing) return;
    this.#anchorP = this.position(t);
    this.#anchorT = t;
    this.#playing = playing;
  }

  /** Changes the speed from scene time `t` on. */
  setRate(t: number, rate: number): void {
    this.#anchorP = this.position(t);
    this.#anchorT = t;
    this.#rate = rate;
  }

  /** Jumps to `positionMs` at scene time `t`. */
  seek(t: number, positionMs: number): void {
    this.#anchorT = t;
    this.#anchorP = positionMs;
  }
}

/**
 * An unwrapped position as a place in the file, ms: folded into `[0, durationMs)` when looping,
 * held at `durationMs` after the end otherwise; unchanged when the duration is unknown.
 */
export function wrapPosition(positionMs: number, durationMs: number | null, loop: boolean): number {
  if (durationMs === null || durationMs <= 0) return positionMs;
  return loop ? positionMs % durationMs : Math.min(positionMs, durationMs);
}
