import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { redactUrl, secretsOf } from '../../shared/outputs.js';
import { StderrTail } from './stderr-tail.js';
import { buildFfmpegArgs, type EncodeJob } from './ffmpeg-args.js';
import { AudioFeed, type ProgramAudioReader } from './audio-feed.js';
import { ProgressParser, type EncoderProgress } from './progress.js';
import type { OutputProcess } from './supervised-output.js';

/** How an encoder process ended, as a tagged union. */
export type EncoderExit =
  { state: 'exited'; code: 0 } | { state: 'failed'; code: number | null; signal: NodeJS.Signals | null; message: string };

/** Lines of ffmpeg's stderr kept for error reports. */
const STDERR_LINES = 20;
/** An encoder counts as flowing while its last rising progress report is younger than this, ms (ffmpeg reports each second). */
const FLOWING_MS = 2000;

/**
 * One ffmpeg process encoding raw frames from stdin. `write` hands it a pooled frame and keeps a
 * reference until ffmpeg has read it; `queued` says how many frames it has not read yet, which
 * the pipeline uses as its backpressure signal (a pipe write of a whole frame always exceeds the
 * stream's highWaterMark, so `write()`'s return value says nothing useful here).
 */
export class Encoder implements OutputProcess {
  readonly args: string[];
  /** Where it writes: a network URL or an absolute file path. */
  readonly output: string;
  readonly exited: Promise<EncoderExit>;
  /** Resolves once the process is running; rejects with the reason when it could not start. */
  readonly started: Promise<void>;
  #proc: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #metrics: Metrics | undefined;
  /** The last `-progress` block ffmpeg reported, if any. */
  progress: EncoderProgress | null = null;
  /** performance.now() of the spawn or of the last progress block whose frame count rose. */
  lastProgressAt = performance.now();
  #queued = 0;
  /** Since the last {@link takeLoad}: ms from hand-off to read, summed, frames read, and the most frames queued at once. */
  #readMs = 0;
  #reads = 0;
  #peakQueued = 0;
  readonly #stderr: StderrTail;
  #ending = false;
  #exit: EncoderExit | null = null;
  /** The program audio's pipe, with `audio: silent` and a program audio. */
  readonly #audio: AudioFeed | null;

  /**
   * Spawns ffmpeg for `job`.
   * @param ffmpegPath the ffmpeg binary (a name on PATH or a path)
   * @throws Error when the job's output has no known container
   */
  constructor(
    ffmpegPath: string,
    job: EncodeJob,
    private readonly pool: FramePool,
    log: Logger,
    metrics?: Metrics,
    audio?: ProgramAudioReader,
  ) {
    const program = audio !== undefined && job.encoder.audio === 'silent';
    this.args = buildFfmpegArgs({ ...job, programAudio: program });
    this.output = job.output;
    this.#metrics = metrics;
    // Every argument that is a URL is redacted (the output is passed as ffmpegTarget(output), not verbatim).
    log.info({ cmd: ffmpegPath, args: this.args.map((a) => redactOutput(a)) }, 'starting encoder');
    this.#proc = spawn(ffmpegPath, this.args, { stdio: program ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'] });
    this.#audio = program ? new AudioFeed(audio, job.targetFPS, this.#proc.stdio[3] as Writable) : null;
    metrics?.encoderStarts.inc();
    const progress = new ProgressParser();
    this.#proc.stdout.setEncoding('utf8');
    this.#proc.stdout.on('data', (chunk: string) => {
      for (const p of progress.push(chunk)) {
        if (!this.progress || p.frame > this.progress.frame) this.lastProgressAt = performance.now();
        this.progress = p;
        metrics?.encoderOutputBytes.set(p.totalSizeBytes);
        if (Number.isFinite(p.speed)) metrics?.encoderSpeed.set(p.speed);
        if (Number.isFinite(p.bitrateBps)) metrics?.encoderBitrate.set(p.bitrateBps / 8);
      }
    });
    this.started = new Promise<void>((resolve, reject) => {
      this.#proc.once('spawn', () => resolve());
      this.#proc.once('error', reject);
    });
    this.started.catch(() => undefined);
    this.#proc.stdin.on('error', (err) => {
      // EPIPE when ffmpeg died: reported through `exited`.
      if (!this.#ending) log.warn({ err }, 'encoder stdin error');
    });
    this.#stderr = new StderrTail(this.#proc.stderr, log, STDERR_LINES, secretsOf(job.output));
    this.exited = new Promise<EncoderExit>((resolve) => {
      const done = (exit: EncoderExit): void => {
        if (this.#exit) return;
        this.#exit = exit;
        resolve(exit);
      };
      this.#proc.on('error', (err) =>
        done({ state: 'failed', code: null, signal: null, message: `ffmpeg could not start: ${err.message}` }),
      );
      this.#proc.on('close', (code, signal) => {
        if (code === 0) done({ state: 'exited', code: 0 });
        else done({ state: 'failed', code, signal, message: this.#stderr.last(3).join(' | ') || `ffmpeg exited with ${code ?? signal}` });
      });
    });
  }

  /** The ffmpeg process id (undefined if it never started). */
  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Kills ffmpeg at once (a stalled or wedged encoder); `exited` reports it as failed. */
  kill(): void {
    this.#proc.kill('SIGKILL');
  }

  /** Its frame count rose within the last 2 s. */
  get flowing(): boolean {
    return this.progress !== null && this.progress.frame > 0 && performance.now() - this.lastProgressAt < FLOWING_MS;
  }

  /** A fresh ffmpeg (still connecting to an RTMP server, say) gets twice as long before its first report. */
  stallLimitMs(stallMs: number): number {
    return (this.progress ? 1 : 2) * stallMs;
  }

  /** Frames written but not yet read by ffmpeg. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * How the encoder kept up since the last call: `readMs`, the mean ms from a frame's hand-off
   * (`write`) until ffmpeg had read all of it from stdin (0 when none was read), and
   * `peakQueued`, the most frames queued unread at once. Starts a new window.
   */
  takeLoad(): { readMs: number; peakQueued: number } {
    const load = { readMs: this.#reads > 0 ? this.#readMs / this.#reads : 0, peakQueued: this.#peakQueued };
    this.#readMs = 0;
    this.#reads = 0;
    this.#peakQueued = this.#queued;
    return load;
  }

  /** True until the process has exited or `end` was called. */
  get running(): boolean {
    return this.#exit === null && !this.#ending;
  }

  /** The last lines ffmpeg wrote to stderr. */
  get stderrTail(): string[] {
    return this.#stderr.last();
  }

  /**
   * Queues one frame; the encoder holds a reference until ffmpeg has read it.
   * @returns false (and takes no reference) when the encoder is not running
   */
  write(frame: Frame): boolean {
    if (!this.running || !this.#proc.stdin.writable) return false;
    this.pool.retain(frame);
    this.#queued++;
    this.#peakQueued = Math.max(this.#peakQueued, this.#queued);
    const started = performance.now();
    this.#proc.stdin.write(frame.yuv, () => {
      this.#queued--;
      this.pool.release(frame);
      const ms = performance.now() - started;
      this.#readMs += ms;
      this.#reads++;
      this.#metrics?.frameTime.observe({ stage: 'encode_write' }, ms / 1000);
    });
    this.#metrics?.encoderInputBytes.inc(frame.bytes.length);
    this.#audio?.write(frame);
    return true;
  }

  /**
   * Closes stdin so ffmpeg flushes and writes its trailer, and waits for it to exit; after
   * `timeoutMs` it is sent SIGTERM, then SIGKILL.
   */
  async end(timeoutMs = 10_000): Promise<EncoderExit> {
    if (!this.#ending) {
      this.#ending = true;
      this.#proc.stdin.end();
      this.#audio?.end();
      const term = setTimeout(() => this.#proc.kill('SIGTERM'), timeoutMs);
      const kill = setTimeout(() => this.#proc.kill('SIGKILL'), timeoutMs + 3000);
      void this.exited.finally(() => {
        clearTimeout(term);
        clearTimeout(kill);
      });
    }
    return this.exited;
  }
}

/** An output for logs and answers: its stream key and other secrets become `***` (see `redactUrl`). */
export function redactOutput(output: string): string {
  return redactUrl(output);
}
