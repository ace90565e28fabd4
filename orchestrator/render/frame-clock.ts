/** The frame interval at `targetFPS` frames per second, ms: the one place it is computed. */
export function frameIntervalMs(targetFPS: number): number {
  return 1000 / targetFPS;
}

/** Called once per frame interval with the frame number and how many intervals were skipped. */
export type TickHandler = (frameIndex: number, skipped: number) => void;

/**
 * A frame clock at the stream's `targetFPS` with drift correction: tick `n` is due at
 * `t0 + n x interval` ({@link frameIntervalMs}), and each timer is set for the next due time, so timer lateness never
 * accumulates. When the event loop was blocked past one or more due times, the missed ticks are
 * not replayed: the next tick reports how many were skipped.
 */
export class FrameClock {
  /** Frame interval, ms. */
  readonly intervalMs: number;
  readonly #onTick: TickHandler;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #t0 = 0;
  #next = 0;

  /**
   * @param targetFPS frames per second (the stream config's `targetFPS`)
   * @param now monotonic ms clock (default `performance.now`)
   */
  constructor(targetFPS: number, onTick: TickHandler, now: () => number = () => performance.now()) {
    this.intervalMs = frameIntervalMs(targetFPS);
    this.#onTick = onTick;
    this.#now = now;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** Starts ticking; the first tick (frame 0) is now. */
  start(): void {
    if (this.#timer) return;
    this.#t0 = this.#now();
    this.#next = 0;
    this.#timer = setTimeout(() => this.#fire(), 0);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #fire(): void {
    const now = this.#now();
    const interval = this.intervalMs;
    // The latest tick whose due time has passed; a timer firing a little early still counts.
    const due = Math.max(this.#next, Math.floor((now - this.#t0 + 1) / interval));
    const skipped = due - this.#next;
    this.#next = due + 1;
    this.#onTick(due, skipped);
    if (!this.#timer) return;
    const wait = this.#t0 + this.#next * interval - this.#now();
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, wait));
  }
}
