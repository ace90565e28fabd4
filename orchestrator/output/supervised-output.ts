import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';

/** Restart policy: the delay before restart n (1-based) is first x factor^(n-1), capped, +-20 % jitter. */
export interface RestartPolicy {
  /** Delay before the first restart, ms (2 s, as OBS's reconnect default). */
  firstDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Restarts in a row before giving up; the count resets once a restarted process makes progress. */
  maxRetries: number;
  /** A process whose progress has not risen for this long is killed and restarted, ms. */
  stallMs: number;
}

/**
 * An output's state: `connecting` (ffmpeg started, no progress yet), `live` (its progress rises),
 * `reconnecting` (it died or stalled; a restart is scheduled or has not made progress yet),
 * `failed` (given up after max retries, or not allowed to write where it should), `stopped`.
 */
export type OutputState = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'stopped';

/** A change of an output's state, as sent on the WebSocket (`outputUpdate`) and logged. */
export interface OutputEvent {
  state: OutputState;
  /** `reconnecting`: going down and retrying; `reconnected`: frames flow again; `failed`: given up. */
  event: 'connecting' | 'live' | 'reconnecting' | 'reconnected' | 'failed' | 'stopped';
  /** Restart attempt in the current run of failures (0 when healthy). */
  attempt: number;
  /** Delay before the next attempt, ms (`reconnecting` only). */
  delayMs?: number;
  /** Why it went down (`reconnecting`, `failed`). */
  reason?: string;
}

/** Delay before restart `attempt` (1-based), ms, with +-20 % jitter so many servers do not retry in step. */
export function restartDelay(policy: RestartPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(policy.firstDelayMs * policy.factor ** (attempt - 1), policy.maxDelayMs);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The ffmpeg an output keeps running: the main output's encoder or an extra output's muxer. */
export interface OutputProcess {
  readonly pid: number | undefined;
  /** True until it exited or was asked to end. */
  readonly running: boolean;
  /** Its output flows: its progress reports rise. */
  readonly flowing: boolean;
  /** `performance.now()` of the spawn or of its last rising progress report. */
  readonly lastProgressAt: number;
  /** ms without progress after which it counts as stalled, for the policy's `stallMs`. */
  stallLimitMs(stallMs: number): number;
  /** Settles when it exits: `exited` after an `end`, `failed` with ffmpeg's last words otherwise. */
  readonly exited: Promise<{ state: 'exited' | 'failed'; message?: string }>;
  kill(): void;
  /** Ends it cleanly (a file gets its trailer) and waits for the exit. */
  end(): Promise<{ state: 'exited' | 'failed' }>;
}

export interface SupervisedOutputOptions<P extends OutputProcess> {
  /** The output's id, for logs. */
  id: string;
  policy: RestartPolicy;
  log: Logger;
  /**
   * Starts the process for the next run (a file output claims a fresh file each time).
   * @throws AppError when it may not write where it should (the output fails unless
   *   `retryRefused`); any other Error (a full disk): retried like a process that died
   */
  spawn(): P;
  /** Every change of state. */
  onChange(event: OutputEvent): void;
  /** Whether a process that died should be started again now (default: while supervised). */
  wanted?(): boolean;
  /**
   * How `stop()` reports (the main output's way, kept from before the outputs were one kind):
   * `stopped` is announced before the process has finished its trailer, and a given-up output
   * keeps `failed` as its last event (its state reads `stopped` from then on, as the stream's own
   * error says why). Default: `stopped` after the process ended, from any state.
   */
  stopEarly?: boolean;
  /** Retry a refused start (AppError from `spawn`) like any other failure instead of failing at once. */
  retryRefused?: boolean;
  /** Each restart after a failure (not the first start). */
  onRestart?(): void;
  /** Given up on after `restarts` failed restarts in a row (after the `failed` event). */
  onFailed?(restarts: number, reason: string): void;
}

/**
 * Keeps one output's ffmpeg running while supervised: when it exits unexpectedly it is started
 * again after the policy's backoff delay; when its progress stops rising for its stall limit (a
 * wedged process, a dead network peer) {@link watch} kills it, which restarts it. After
 * `maxRetries` restarts in a row without progress the output fails and stays down until it is
 * stopped and started again. One of these per output, the main one and the extra ones alike.
 */
export class SupervisedOutput<P extends OutputProcess> {
  readonly #o: SupervisedOutputOptions<P>;
  #state: OutputState = 'stopped';
  #proc: P | null = null;
  #retry: NodeJS.Timeout | null = null;
  #active = false;
  /** Restart attempt in the current run of failures. */
  #attempt = 0;
  /** Why the watchdog killed the running process (a stall), until its exit is handled. */
  #stalled: string | null = null;
  /** Restarts so far. */
  restarts = 0;
  /** Why the output last went down, or null. */
  lastError: string | null = null;

  constructor(options: SupervisedOutputOptions<P>) {
    this.#o = options;
  }

  get state(): OutputState {
    return this.#state;
  }

  /** The running (or exiting) process, or null while down. */
  get process(): P | null {
    return this.#proc;
  }

  /**
   * Begins supervising with a process started now, once `ready` resolves for it (state
   * `connecting`). What `spawn` or `ready` throws is thrown here, and then nothing is supervised.
   */
  async begin(ready: (proc: P) => Promise<void>): Promise<P> {
    const proc = this.#o.spawn();
    await ready(proc);
    this.#active = true;
    this.#adopt(proc);
    this.#set('connecting', 'connecting');
    return proc;
  }

  /** Begins supervising: starts a process unless one runs, a restart is scheduled, or the output failed. */
  run(): void {
    this.#active = true;
    if (this.#proc || this.#retry || this.#state === 'failed') return;
    this.#start();
  }

  /** Zeroes the restart count and the last error (a new live session of an output that lives per session). */
  resetCounters(): void {
    this.restarts = 0;
    this.lastError = null;
  }

  /** Stops supervising, cancels a scheduled restart and ends the process cleanly (a file gets its trailer). */
  async stop(): Promise<void> {
    this.#active = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const proc = this.#proc;
    this.#proc = null;
    this.#attempt = 0;
    if (this.#o.stopEarly && this.#state === 'failed') this.#state = 'stopped';
    else if (this.#o.stopEarly && this.#state !== 'stopped') this.#set('stopped', 'stopped');
    if (proc) {
      const exit = await proc.end();
      if (exit.state === 'failed') this.#o.log.warn({ output: this.#o.id, exit }, 'output ended with an error');
    }
    if (!this.#o.stopEarly && this.#state !== 'stopped') this.#set('stopped', 'stopped');
  }

  /** `live` once progress flows; killed (and so restarted) when it stops for the stall limit. Called by a watchdog. */
  watch(now = performance.now()): void {
    const proc = this.#proc;
    if (!proc?.running) return;
    if (proc.flowing && (this.#state === 'connecting' || this.#state === 'reconnecting')) {
      const again = this.#state === 'reconnecting';
      // A restarted process whose progress rises again is healthy: the next failure starts the backoff over.
      this.#attempt = 0;
      this.#set('live', again ? 'reconnected' : 'live');
    } else if (now - proc.lastProgressAt > proc.stallLimitMs(this.#o.policy.stallMs)) {
      this.#o.log.error(
        { output: this.#o.id, idleMs: Math.round(now - proc.lastProgressAt), pid: proc.pid },
        'output stalled; killing its ffmpeg',
      );
      this.#stalled = `stalled: no progress for ${Math.round(now - proc.lastProgressAt)} ms`;
      proc.kill();
    }
  }

  #set(state: OutputState, event: OutputEvent['event'], extra: Pick<OutputEvent, 'delayMs' | 'reason'> = {}): void {
    this.#state = state;
    this.#o.log.info({ output: this.#o.id, state, event, attempt: this.#attempt, ...extra }, 'output state');
    this.#o.onChange({ state, event, attempt: this.#attempt, ...extra });
  }

  #start(): void {
    let proc: P;
    try {
      proc = this.#o.spawn();
    } catch (err) {
      // Not allowed (a symlink now leads out of its folder): nothing is spawned and the output
      // fails, saying why. Not creatable (a full disk, a folder gone): retried, never spawned blind.
      this.lastError = `cannot write the output: ${(err as Error).message}`;
      this.#o.log.error({ output: this.#o.id, reason: this.lastError }, 'output not started');
      if (err instanceof AppError && !this.#o.retryRefused) this.#set('failed', 'failed', { reason: this.lastError });
      else this.#retryLater();
      return;
    }
    this.#adopt(proc);
    if (this.#attempt === 0) this.#set('connecting', 'connecting');
  }

  #adopt(proc: P): void {
    this.#proc = proc;
    this.#stalled = null;
    void proc.exited.then((exit) => {
      if (this.#proc !== proc) return;
      this.#proc = null;
      if (!this.#active || (this.#o.wanted && !this.#o.wanted())) return;
      // A process the watchdog killed says only "killed": the stall is the reason.
      this.lastError = this.#stalled ?? exit.message ?? 'ffmpeg exited while live';
      this.#stalled = null;
      this.#o.log.error({ output: this.#o.id, exit }, 'output ffmpeg died while live');
      this.#retryLater();
    });
  }

  /** Schedules the next start (`lastError` says why it went down), or gives up. */
  #retryLater(): void {
    this.#attempt++;
    const reason = this.lastError ?? undefined;
    if (this.#attempt > this.#o.policy.maxRetries) {
      this.#set('failed', 'failed', { reason });
      this.#o.onFailed?.(this.#attempt - 1, this.lastError ?? '');
      return;
    }
    const delayMs = restartDelay(this.#o.policy, this.#attempt);
    this.#set('reconnecting', 'reconnecting', { delayMs, reason });
    this.#retry = setTimeout(() => {
      this.#retry = null;
      // Stopped meanwhile, or no longer wanted (the stream is stopping: the hub ends the shared encodes first).
      if (!this.#active || (this.#o.wanted && !this.#o.wanted())) return;
      this.restarts++;
      this.#o.onRestart?.();
      this.#start();
    }, delayMs);
  }
}
