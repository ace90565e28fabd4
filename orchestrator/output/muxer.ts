import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from 'pino';
import type { EncoderLatency } from '../../shared/stream-config.js';
import { lowLatencyMuxArgs } from './ffmpeg-args.js';
import { ProgressParser, type EncoderProgress } from './progress.js';
import { StderrTail } from './stderr-tail.js';
import type { OutputProcess } from './supervised-output.js';
import type { TsSink } from './ts-fanout.js';

/** Bytes waiting for a muxer's stdin above which it is killed (a destination that stopped reading). */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
const STDERR_LINES = 20;
/**
 * How much of the shared encode ffmpeg reads to learn its streams before copying: 0.5 s / 512 KiB
 * instead of ffmpeg's 5 s default, which would hold every new output back by 5 s. The stream
 * starts at a keyframe with its PAT/PMT, so this is enough to find H.264 and AAC.
 */
const PROBE_US = 500_000;
const PROBE_BYTES = 512 * 1024;

/** How a muxer ended: `exited` cleanly (after `end`), or `failed` with ffmpeg's last words. */
export interface MuxerExit {
  state: 'exited' | 'failed';
  message?: string;
}

/**
 * One ffmpeg that copies the shared encode (MPEG-TS on stdin) into one destination without
 * re-encoding (`-c copy`): an RTMP server, an SRT peer, a file, an HLS playlist. Its `-progress`
 * reports (bytes written, bitrate) tell whether the destination takes data.
 */
export class Muxer implements TsSink, OutputProcess {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<MuxerExit>;
  /** The last `-progress` report, or null. */
  progress: EncoderProgress | null = null;
  /** performance.now() of the spawn or of the last report whose byte or frame count rose. */
  lastProgressAt = performance.now();
  readonly #stderr: StderrTail;
  /** MPEG-TS bytes passed to ffmpeg's stdin so far. */
  #inputBytes = 0;
  #ending = false;
  #done = false;

  /**
   * @param args ffmpeg's arguments after the common input part (muxer options and destination)
   * @param secrets parts of the destination URL that ffmpeg's messages must not carry on (stream keys)
   * @param latency `low`: the input is read without buffering (`-fflags +nobuffer`) and the
   *   output written packet by packet ({@link lowLatencyMuxArgs}); `normal`: as before
   */
  constructor(ffmpegPath: string, args: string[], log: Logger, secrets: readonly string[] = [], latency: EncoderLatency = 'normal') {
    const low = latency === 'low';
    const full = [
      '-hide_banner',
      '-loglevel',
      'warning',
      '-nostats',
      '-progress',
      'pipe:1',
      '-stats_period',
      '1',
      '-fflags',
      low ? '+genpts+discardcorrupt+nobuffer' : '+genpts+discardcorrupt',
      '-analyzeduration',
      String(PROBE_US),
      '-probesize',
      String(PROBE_BYTES),
      '-f',
      'mpegts',
      '-i',
      'pipe:0',
      '-map',
      '0',
      '-c',
      'copy',
      ...lowLatencyMuxArgs(latency),
      ...args,
    ];
    this.#proc = spawn(ffmpegPath, full, { stdio: ['pipe', 'pipe', 'pipe'] });
    const parser = new ProgressParser();
    this.#proc.stdout.setEncoding('utf8');
    this.#proc.stdout.on('data', (chunk: string) => {
      for (const p of parser.push(chunk)) {
        if (p.totalSizeBytes > (this.progress?.totalSizeBytes ?? 0) || p.frame > (this.progress?.frame ?? 0))
          this.lastProgressAt = performance.now();
        this.progress = p;
      }
    });
    this.#stderr = new StderrTail(this.#proc.stderr, log, STDERR_LINES, secrets, 'ffmpeg muxer');
    this.#proc.stdin.on('error', () => undefined); // EPIPE when it died: reported through `exited`
    this.exited = new Promise((resolve) => {
      this.#proc.on('error', (err) => {
        this.#done = true;
        resolve({ state: 'failed', message: `ffmpeg could not start: ${err.message}` });
      });
      this.#proc.on('close', (code, signal) => {
        this.#done = true;
        if (code === 0 && this.#ending) resolve({ state: 'exited' });
        else resolve({ state: 'failed', message: this.#stderr.last(2).join(' | ') || `ffmpeg exited with ${code ?? signal}` });
      });
    });
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** True once ffmpeg has passed on at least one frame (HLS reports frames, not bytes). */
  get flowing(): boolean {
    return (this.progress?.frame ?? 0) > 0 || (this.progress?.totalSizeBytes ?? 0) > 0;
  }

  /**
   * Bytes this output has written: ffmpeg's `total_size`. Where ffmpeg reports none (its HLS
   * muxer says N/A), the MPEG-TS bytes passed to it instead: `-c copy` into TS segments writes
   * about as many.
   */
  get bytes(): number {
    const p = this.progress;
    if (!p) return 0;
    return p.sizeReported ? p.totalSizeBytes : this.#inputBytes;
  }

  /**
   * Bits per second written: ffmpeg's `bitrate`, or where it reports none (HLS) the bytes passed
   * on over the media time written (`out_time_us`); null before a report that allows either.
   */
  get bitrateBps(): number | null {
    const p = this.progress;
    if (!p) return null;
    if (Number.isFinite(p.bitrateBps)) return p.bitrateBps;
    if (!p.sizeReported && p.outTimeUs > 0) return (this.#inputBytes * 8) / (p.outTimeUs / 1e6);
    return null;
  }

  get running(): boolean {
    return !this.#done && !this.#ending;
  }

  /** Killed when no byte or frame was written for the policy's whole stall time. */
  stallLimitMs(stallMs: number): number {
    return stallMs;
  }

  /** Passes TS bytes on; a muxer whose stdin backlog passes 16 MB is killed (it then exits as failed). */
  write(bytes: Buffer): void {
    if (!this.running || !this.#proc.stdin.writable) return;
    if (this.#proc.stdin.writableLength > MAX_BACKLOG_BYTES) {
      this.#stderr.push('destination not reading: backlog over 16 MB');
      this.kill();
      return;
    }
    this.#inputBytes += bytes.length;
    this.#proc.stdin.write(bytes);
  }

  kill(): void {
    this.#proc.kill('SIGKILL');
  }

  /** Closes stdin so ffmpeg writes its trailer (a finalised file), then waits; SIGKILL after `timeoutMs`. */
  async end(timeoutMs = 5000): Promise<MuxerExit> {
    if (!this.#ending && !this.#done) {
      this.#ending = true;
      this.#proc.stdin.end();
      const t = setTimeout(() => this.#proc.kill('SIGKILL'), timeoutMs);
      void this.exited.finally(() => clearTimeout(t));
    }
    return this.exited;
  }
}
