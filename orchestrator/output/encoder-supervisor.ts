import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { Encoder } from './encoder.js';
import type { EncodeJob } from './ffmpeg-args.js';
import { isNetworkOutput } from './output-path.js';
import type { EncoderProgress } from './progress.js';

/** Restart policy: the delay before restart n (1-based) is first x factor^(n-1), capped, +-20 % jitter. */
export interface RestartPolicy {
  /** Delay before the first restart, ms (2 s, as OBS's reconnect default). */
  firstDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Restarts in a row before giving up; the count resets once a restarted encoder makes progress. */
  maxRetries: number;
  /** An encoder whose frame count has not risen for this long is killed and restarted, ms. */
  stallMs: number;
}

export interface SupervisorOptions {
  ffmpegPath: string;
  /** The job of the next start (called at each start: a file output gets a fresh name). */
  job: () => EncodeJob;
  pool: () => FramePool;
  policy: RestartPolicy;
  log: Logger;
  metrics?: Metrics;
  /** Called once when the encoder is given up on (max retries); the pipeline stops with this error. */
  onFailed: (message: string) => void;
  /** Called with its output each time an encoder exits (a stop, a crash, a restart): recordings are checked then. */
  onExit?: (output: string) => void;
}

/**
 * An output's state: `connecting` (ffmpeg started, no frame encoded yet), `live` (its frame count
 * rises), `reconnecting` (it died or stalled; a restart is scheduled or has not made progress
 * yet), `failed` (given up after max retries), `stopped`.
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

/** How often the stall watchdog looks, ms. */
const WATCHDOG_MS = 1000;

/** Delay before restart `attempt` (1-based), ms, with +-20 % jitter so many servers do not retry in step. */
export function restartDelay(policy: RestartPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(policy.firstDelayMs * policy.factor ** (attempt - 1), policy.maxDelayMs);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Keeps one ffmpeg running while live: when it exits unexpectedly it is started again after a
 * backoff delay; when its frame count stops rising for `stallMs` (a wedged process, a dead
 * network peer) it is killed and restarted. While it is down, `running` is false and the
 * pipeline drops (and counts) frames instead of queueing them, so memory stays bounded.
 */
export class EncoderSupervisor extends EventEmitter<{ output: [OutputEvent] }> {
  readonly #o: SupervisorOptions;
  #state: OutputState = 'stopped';
  #lastError: string | null = null;
  #encoder: Encoder | null = null;
  #attempt = 0;
  #restarts = 0;
  #timer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #stopping = false;

  constructor(options: SupervisorOptions) {
    super();
    this.#o = options;
  }

  /** The output's state now. */
  get state(): OutputState {
    return this.#state;
  }

  /** Why the output last went down, or null. */
  get lastError(): string | null {
    return this.#lastError;
  }

  #set(state: OutputState, event: OutputEvent['event'], extra: Pick<OutputEvent, 'delayMs' | 'reason'> = {}): void {
    this.#state = state;
    this.emit('output', { state, event, attempt: this.#attempt, ...extra });
  }

  /** True while an encoder is up and taking frames. */
  get running(): boolean {
    return this.#encoder?.running ?? false;
  }

  /** Frames the current encoder has not read yet (0 while down). */
  get queued(): number {
    return this.#encoder?.queued ?? 0;
  }

  /** The current ffmpeg's pid, for operators and fault tests. */
  get pid(): number | undefined {
    return this.#encoder?.pid;
  }

  /** Where the current encoder writes. */
  get output(): string | null {
    return this.#encoder ? this.#output : null;
  }

  /**
   * A file output: the file the current encoder writes (a fresh name at each spawn), or the last
   * one after a stop or exit; null for a network output or before the first spawn.
   */
  get file(): string | null {
    return this.#output !== null && !isNetworkOutput(this.#output) ? this.#output : null;
  }

  /** The current ffmpeg's last `-progress` report (bytes, bitrate, speed), or null. */
  get progress(): EncoderProgress | null {
    return this.#encoder?.progress ?? null;
  }

  /** Restarts so far in this live session. */
  get restarts(): number {
    return this.#restarts;
  }

  #output: string | null = null;

  /**
   * Starts the first encoder; a failure here is reported to the caller, not retried.
   * @throws AppError SM_ERR_ENCODER when ffmpeg cannot start
   */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#lastError = null;
    const encoder = this.#spawn();
    try {
      await encoder.started;
      this.#set('connecting', 'connecting');
    } catch (err) {
      this.#encoder = null;
      throw new AppError('SM_ERR_ENCODER', `ffmpeg could not start (${this.#o.ffmpegPath}): ${(err as Error).message}`);
    }
    this.#watchdog = setInterval(() => this.#checkStall(), WATCHDOG_MS);
  }

  /** Hands a frame to the current encoder; false when none is running. */
  write(frame: Frame): boolean {
    return this.#encoder?.write(frame) ?? false;
  }

  /**
   * Before the frame clock starts: writes `frame` `count` times and waits, at most `timeoutMs`,
   * until ffmpeg has read them. ffmpeg reads its first frame, then opens the encoder and the
   * output (libx264's start-up: 50-300 ms on a busy 2-core machine) before it reads on; the
   * clock's first frames would otherwise find it not reading and be dropped.
   * @returns the frames written (0 when the encoder is not running)
   */
  async prime(frame: Frame, count: number, timeoutMs: number): Promise<number> {
    let written = 0;
    for (let i = 0; i < count; i++) if (this.write(frame)) written++;
    const until = performance.now() + timeoutMs;
    while (this.queued > 0 && this.running && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    return written;
  }

  /** Stops supervising and ends the current encoder cleanly (it writes its trailer). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#timer = this.#watchdog = null;
    const encoder = this.#encoder;
    this.#encoder = null;
    if (this.#state !== 'failed' && this.#state !== 'stopped') this.#set('stopped', 'stopped');
    if (encoder) {
      const exit = await encoder.end();
      if (exit.state === 'failed') this.#o.log.warn({ exit }, 'encoder ended with an error');
    }
  }

  /**
   * Starts an encoder for the next job.
   * @throws Error from the job (AppError SM_ERR_OUTPUT_URL: a file output not allowed; a folder
   *   or file that cannot be created) or from the encoder (no container for the output)
   */
  #spawn(): Encoder {
    const job = this.#o.job();
    const encoder = new Encoder(this.#o.ffmpegPath, job, this.#o.pool(), this.#o.log, this.#o.metrics);
    this.#encoder = encoder;
    this.#output = job.output;
    void encoder.exited.then((exit) => {
      this.#o.onExit?.(job.output);
      if (this.#stopping || this.#encoder !== encoder) return;
      this.#encoder = null;
      const message = exit.state === 'failed' ? exit.message : 'ffmpeg exited while live';
      this.#o.log.error({ exit, stderr: encoder.stderrTail }, 'encoder died while live');
      this.#scheduleRestart(message);
    });
    return encoder;
  }

  #scheduleRestart(reason: string): void {
    this.#attempt++;
    this.#lastError = reason;
    if (this.#attempt > this.#o.policy.maxRetries) {
      this.#o.log.error({ attempts: this.#attempt - 1, reason }, 'encoder given up on');
      this.#set('failed', 'failed', { reason });
      void this.stop();
      this.#o.onFailed(`Encoder failed ${this.#attempt - 1} restarts in a row: ${reason}`);
      return;
    }
    const delay = restartDelay(this.#o.policy, this.#attempt);
    this.#o.log.warn({ attempt: this.#attempt, delayMs: delay, reason }, 'restarting encoder');
    this.#set('reconnecting', 'reconnecting', { delayMs: delay, reason });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#stopping) return;
      this.#restarts++;
      this.#o.metrics?.encoderRestarts.inc();
      // A start failure shows up as an exit, which schedules the next attempt.
      try {
        this.#spawn().started.catch(() => undefined);
      } catch (err) {
        // No output to write to (a full disk, a folder gone): try again later, never spawn blind.
        this.#scheduleRestart(`cannot write the output: ${(err as Error).message}`);
      }
    }, delay);
  }

  #checkStall(): void {
    const encoder = this.#encoder;
    if (!encoder?.running) return;
    const idle = performance.now() - encoder.lastProgressAt;
    const flowing = encoder.progress !== null && encoder.progress.frame > 0 && idle < 2 * WATCHDOG_MS;
    if (flowing && this.#state !== 'live') {
      const recovered = this.#state === 'reconnecting';
      // A restarted encoder whose frame count rises again is healthy: the next failure starts the backoff over.
      this.#attempt = 0;
      this.#set('live', recovered ? 'reconnected' : 'live');
      if (recovered) this.#o.log.info('output reconnected');
    }
    // A fresh ffmpeg (still connecting to an RTMP server, say) gets twice as long before its first report.
    if (idle > (encoder.progress ? 1 : 2) * this.#o.policy.stallMs) {
      this.#o.log.error({ idleMs: Math.round(idle), pid: encoder.pid }, 'encoder stalled; killing it');
      encoder.kill();
    }
  }
}
