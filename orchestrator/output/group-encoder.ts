import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from 'pino';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { encodeArgs, type EncodeJob } from './ffmpeg-args.js';
import { StderrTail } from './stderr-tail.js';
import { PMT_PID, TsFanout, VIDEO_PID } from './ts-fanout.js';

/** Frames a shared encoder may have queued before new ones are dropped for it. */
export const GROUP_MAX_QUEUED_FRAMES = 3;

/**
 * One encode shared by the outputs with the same encoder settings: raw I420 frames in, H.264 (+
 * AAC) as MPEG-TS on stdout, fanned out to the outputs' muxers. PIDs are fixed (PMT 0x1000, video
 * 0x100 mapped first) so the fan-out can find keyframes without parsing the PMT.
 */
export class GroupEncoder {
  readonly fanout = new TsFanout();
  readonly exited: Promise<string | null>;
  readonly #proc: ChildProcessWithoutNullStreams;
  #queued = 0;
  #ending = false;
  #done = false;
  readonly #stderr: StderrTail;
  /** Frames refused because the queue was full. */
  dropped = 0;

  constructor(ffmpegPath: string, job: Omit<EncodeJob, 'output'>, private readonly pool: FramePool, log: Logger) {
    const args = [
      '-hide_banner', '-loglevel', 'warning', '-nostats',
      ...encodeArgs(job),
      '-f', 'mpegts',
      '-mpegts_pmt_start_pid', String(PMT_PID),
      '-mpegts_start_pid', String(VIDEO_PID),
      '-muxdelay', '0',
      '-flush_packets', '1',
      'pipe:1',
    ];
    log.info({ args }, 'starting shared encoder');
    this.#proc = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stdout.on('data', (chunk: Buffer) => this.fanout.push(chunk));
    this.#proc.stdin.on('error', () => undefined);
    this.#stderr = new StderrTail(this.#proc.stderr, log, 5, [], 'ffmpeg shared encoder');
    this.exited = new Promise((resolve) => {
      this.#proc.on('error', (err) => {
        this.#done = true;
        resolve(`ffmpeg could not start: ${err.message}`);
      });
      this.#proc.on('close', (code, signal) => {
        this.#done = true;
        resolve(this.#ending && code === 0 ? null : this.#stderr.last().join(' | ') || `shared encoder exited with ${code ?? signal}`);
      });
    });
  }

  get running(): boolean {
    return !this.#done && !this.#ending;
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Queues one frame (holding a pool reference until ffmpeg read it); false when it was dropped. */
  write(frame: Frame): boolean {
    if (!this.running || !this.#proc.stdin.writable) return false;
    if (this.#queued >= GROUP_MAX_QUEUED_FRAMES) {
      this.dropped++;
      return false;
    }
    this.pool.retain(frame);
    this.#queued++;
    this.#proc.stdin.write(frame.yuv, () => {
      this.#queued--;
      this.pool.release(frame);
    });
    return true;
  }

  /** Ends the encode (its muxers get the rest of the stream), SIGKILL after `timeoutMs`. */
  async end(timeoutMs = 5000): Promise<void> {
    if (!this.#ending && !this.#done) {
      this.#ending = true;
      this.#proc.stdin.end();
      const t = setTimeout(() => this.#proc.kill('SIGKILL'), timeoutMs);
      await this.exited.finally(() => clearTimeout(t));
    }
    await this.exited;
  }

  kill(): void {
    this.#proc.kill('SIGKILL');
  }
}
