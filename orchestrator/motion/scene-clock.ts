/**
 * Scene time: the one timeline that frames, tweens, transitions, chat TTLs and host animations
 * share, in ms. Live frame n is composited at `startMs + n x frame interval`, where `startMs` is
 * the scene time the stream went live; a change made over HTTP starts its animation at `now()`.
 */
export interface SceneClock {
  /** Scene time now, ms (monotonic). */
  now(): number;
}

/** Scene time from `performance.now()`, counted from when this clock was made. */
export class MonotonicClock implements SceneClock {
  readonly #origin = performance.now();
  now(): number {
    return performance.now() - this.#origin;
  }
}

/**
 * A clock that moves only when told: tests set scene time, make changes and render frames at
 * chosen times (no sleeps), so every frame is deterministic.
 */
export class ManualClock implements SceneClock {
  #now: number;
  constructor(startMs = 0) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  /** Sets scene time, ms. */
  set(ms: number): void {
    this.#now = ms;
  }
  /** Moves scene time on by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
