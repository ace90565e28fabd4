import type { ProgramAudioReader } from './audio-feed.js';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import type { OutputStatus } from '../../shared/output-status.js';
import type { StreamConfig } from '../../shared/stream-config.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { Encoder, redactOutput } from './encoder.js';
import { isNetworkOutput, type OutputPolicy } from './output-path.js';
import { SupervisedOutput, type OutputEvent, type RestartPolicy } from './supervised-output.js';

/** The main output's id in `/stream/status` and `/stream/outputs`. */
export const MAIN_OUTPUT_ID = 'main';
/**
 * Copies of the first frame handed to ffmpeg before the clock starts, and how long a start waits
 * for it to read them, ms ({@link MainOutput.prime}): the first is read before ffmpeg opens its
 * encoder and output, the second after.
 */
const PRIME_FRAMES = 2;
const PRIME_TIMEOUT_MS = 1000;

/** True when a change from `prev` to `next` needs a new main encoder: its canvas, rate, encoder settings or URL. */
export function mainOutputChanged(prev: StreamConfig, next: StreamConfig): boolean {
  return (
    prev.width !== next.width ||
    prev.height !== next.height ||
    prev.targetFPS !== next.targetFPS ||
    JSON.stringify(prev.encoder) !== JSON.stringify(next.encoder) ||
    prev.output.url !== next.output.url
  );
}

export interface MainOutputOptions {
  ffmpegPath: string;
  /** The stream configuration now: canvas, rate, encoder settings and `output.url`. */
  stream: () => StreamConfig;
  paths: OutputPolicy;
  pool: () => FramePool;
  policy: RestartPolicy;
  log: Logger;
  metrics?: Metrics;
  /** Called with a recording each time its encoder exits (unreadable ones are removed). */
  onFileExit: (path: string) => void;
  onChange: (event: OutputStatus & OutputEvent) => void;
  /** Given up on after the policy's max retries: the stream stops with this error. */
  onFailed: (message: string) => void;
  /** The program audio the encoder's track carries (with `audio: silent`); absent: a silent track. */
  audio?: ProgramAudioReader | undefined;
}

/**
 * The stream's own output (`config.output.url`, or a recording under RECORDINGS_DIR): one ffmpeg
 * that encodes the raw frames and writes the destination itself, supervised like every other
 * output. It sets the stream's pace: its unread frames are the producer's backpressure, and an
 * encoder given up on stops the stream. Its restarts and last error count per live session.
 */
export class MainOutput {
  readonly #o: MainOutputOptions;
  readonly #sup: SupervisedOutput<Encoder>;
  /** Where the latest encoder wrote (kept after it exits), or null before the first start. */
  #lastOutput: string | null = null;

  constructor(options: MainOutputOptions) {
    this.#o = options;
    this.#sup = new SupervisedOutput<Encoder>({
      id: MAIN_OUTPUT_ID,
      policy: options.policy,
      log: options.log,
      // A recording that cannot be claimed now is tried again with the backoff like a crash.
      retryRefused: true,
      stopEarly: true,
      spawn: () => this.#spawn(),
      onChange: (event) => options.onChange({ ...this.status(), ...event }),
      onRestart: () => options.metrics?.encoderRestarts.inc(),
      onFailed: (restarts, reason) => options.onFailed(`Encoder failed ${restarts} restarts in a row: ${reason}`),
    });
  }

  /** The running encoder, or null while down. */
  get encoder(): Encoder | null {
    return this.#sup.process;
  }

  /** Supervises it (the hub's watchdog calls this). */
  watch(): void {
    this.#sup.watch();
  }

  /**
   * Starts the first encoder of a live session; a failure here is reported, not retried.
   * @throws AppError SM_ERR_ENCODER when ffmpeg cannot start; what the output's path throws
   *   (SM_ERR_OUTPUT_URL, a full disk) when the recording cannot be claimed
   */
  async start(): Promise<void> {
    this.#sup.resetCounters();
    await this.#sup.begin(async (encoder) => {
      try {
        await encoder.started;
      } catch (err) {
        throw new AppError('SM_ERR_ENCODER', `ffmpeg could not start (${this.#o.ffmpegPath}): ${(err as Error).message}`);
      }
    });
  }

  /** Ends the encoder cleanly (it writes its trailer); the status goes back to a stopped session. */
  async stop(): Promise<void> {
    await this.#sup.stop();
    this.#sup.resetCounters();
  }

  /**
   * Before the frame clock starts: writes `frame` twice and waits, at most 1 s, until ffmpeg has
   * read them. ffmpeg reads its first frame, then opens the encoder and the
   * output (libx264's start-up takes a while on a busy machine) before it reads on; the clock's
   * first frames would otherwise find it not reading and be dropped.
   * @returns the frames written (0 when the encoder is not running)
   */
  async prime(frame: Frame): Promise<number> {
    const encoder = this.encoder;
    if (!encoder) return 0;
    let written = 0;
    for (let i = 0; i < PRIME_FRAMES; i++) if (encoder.write(frame)) written++;
    const until = performance.now() + PRIME_TIMEOUT_MS;
    while (encoder.queued > 0 && encoder.running && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    return written;
  }

  /**
   * Its status: `url` is where the running encoder writes (a recording's absolute path), else
   * the config's; `file` the recording being (or last) written, null for a network output.
   */
  status(): OutputStatus {
    const e = this.encoder;
    const url = e ? e.output : this.#o.stream().output.url;
    const p = e?.progress ?? null;
    return {
      id: MAIN_OUTPUT_ID,
      url: url === null ? null : redactOutput(url),
      state: this.#sup.state,
      restarts: this.#sup.restarts,
      lastError: this.#sup.lastError,
      bytes: p?.totalSizeBytes ?? 0,
      bitrateBps: p && Number.isFinite(p.bitrateBps) ? p.bitrateBps : null,
      file: this.#lastOutput !== null && !isNetworkOutput(this.#lastOutput) ? this.#lastOutput : null,
    };
  }

  /**
   * An encoder for the config now; a file output claims a fresh file.
   * @throws AppError SM_ERR_OUTPUT_URL, Error from the file system or for an output with no container
   */
  #spawn(): Encoder {
    const s = this.#o.stream();
    const output = this.#o.paths.resolveOutput(s.output.url);
    const encoder = new Encoder(
      this.#o.ffmpegPath,
      { width: s.width, height: s.height, targetFPS: s.targetFPS, encoder: s.encoder, output },
      this.#o.pool(),
      this.#o.log,
      this.#o.metrics,
      this.#o.audio,
    );
    this.#lastOutput = output;
    void encoder.exited.then(() => {
      if (!isNetworkOutput(output)) this.#o.onFileExit(output);
    });
    return encoder;
  }
}
