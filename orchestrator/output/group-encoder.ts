import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from 'pino';
import type { EncoderSettings } from '../../shared/stream-config.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { encodeArgs, type EncodeJob } from './ffmpeg-args.js';
import type { Writable } from 'node:stream';
import { AudioFeed, type ProgramAudioReader } from './audio-feed.js';
import { StderrTail } from './stderr-tail.js';
import { PMT_PID, TsFanout, VIDEO_PID } from './ts-fanout.js';

/** Frames a shared encoder may have queued before new ones are dropped for it (`normal` latency; `low`: 1). */
export const GROUP_MAX_QUEUED_FRAMES = 3;

/**
 * The ffmpeg arguments of a shared encode: the job's encode ({@link encodeArgs}), MPEG-TS on
 * stdout with fixed PIDs, written packet by packet. `latency: low` adds, for the readers of the
 * TS (the muxers' ffmpeg and the WebRTC outputs' demuxer): an explicit PES length on video
 * packets (`-omit_video_pes_length 0`), so a reader knows a frame is whole at its last byte
 * instead of at the next frame's first, and one PES per audio frame (`-pes_payload_size 0`), so
 * audio is not held back to fill 2930-byte PES packets and the muxers' interleaving waits for nothing.
 */
export function groupEncoderArgs(job: Omit<EncodeJob, 'output'>): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    ...encodeArgs(job),
    '-f',
    'mpegts',
    '-mpegts_pmt_start_pid',
    String(PMT_PID),
    '-mpegts_start_pid',
    String(VIDEO_PID),
    '-muxdelay',
    '0',
    '-flush_packets',
    '1',
    ...(job.encoder.latency === 'low' ? ['-omit_video_pes_length', '0', '-pes_payload_size', '0'] : []),
    'pipe:1',
  ];
}

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
  /** The program audio's pipe, with `audio: silent` and a program audio. */
  readonly #audio: AudioFeed | null;
  /** Frames refused because the queue was full. */
  dropped = 0;
  /** Frame size in pixels and rate of the raw frames this encode takes: a canvas change needs a new encode. */
  readonly frameFormat: string;
  /** Frames it may hold unread before new ones are dropped for it: 3, or 1 at `low` latency. */
  readonly maxQueued: number;

  constructor(
    ffmpegPath: string,
    job: Omit<EncodeJob, 'output'>,
    private readonly pool: FramePool,
    log: Logger,
    audio?: ProgramAudioReader,
  ) {
    this.frameFormat = frameFormat(job);
    this.maxQueued = job.encoder.latency === 'low' ? 1 : GROUP_MAX_QUEUED_FRAMES;
    const program = audio !== undefined && job.encoder.audio === 'silent';
    const args = groupEncoderArgs({ ...job, programAudio: program });
    log.info({ args }, 'starting shared encoder');
    this.#proc = spawn(ffmpegPath, args, {
      stdio: ['pipe', 'pipe', 'pipe', program ? 'pipe' : 'ignore'],
    }) as unknown as ChildProcessWithoutNullStreams;
    this.#audio = program ? new AudioFeed(audio, job.targetFPS, this.#proc.stdio[3] as Writable) : null;
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
    if (this.#queued >= this.maxQueued) {
      this.dropped++;
      return false;
    }
    this.pool.retain(frame);
    this.#queued++;
    this.#proc.stdin.write(frame.yuv, () => {
      this.#queued--;
      this.pool.release(frame);
    });
    this.#audio?.write(frame);
    return true;
  }

  /** Ends the encode (its muxers get the rest of the stream), SIGKILL after `timeoutMs`. */
  async end(timeoutMs = 5000): Promise<void> {
    if (!this.#ending && !this.#done) {
      this.#ending = true;
      this.#proc.stdin.end();
      this.#audio?.end();
      const t = setTimeout(() => this.#proc.kill('SIGKILL'), timeoutMs);
      await this.exited.finally(() => clearTimeout(t));
    }
    await this.exited;
  }

  kill(): void {
    this.#proc.kill('SIGKILL');
  }
}

/** The raw frames' size and rate, `WxH@fps`: what an encode's stdin must carry. */
function frameFormat(job: Pick<EncodeJob, 'width' | 'height' | 'targetFPS'>): string {
  return `${job.width}x${job.height}@${job.targetFPS}`;
}

/**
 * The encoder settings two outputs must share to share an encode, as a string: preset, bitrate,
 * GOP, audio and, at `low` latency, `-low` (a `normal` key reads as it did before the setting).
 */
export function encodeGroupKey(enc: EncoderSettings): string {
  return `${enc.preset}-${enc.bitrateKbps}k-gop${enc.keyframeIntervalSeconds}s-${enc.audio}${enc.latency === 'low' ? '-low' : ''}`;
}

/**
 * The shared encodes, one per set of encoder settings in use ({@link encodeGroupKey}). A shared
 * encode that dies is forgotten and `onDied` is told, so its muxers go through their reconnects
 * (the next start of one makes a new encode).
 */
export class EncodeGroups {
  readonly #groups = new Map<string, GroupEncoder>();

  constructor(
    private readonly ffmpegPath: string,
    private readonly pool: () => FramePool,
    private readonly log: Logger,
    private readonly onDied: (key: string) => void,
    private readonly audio?: ProgramAudioReader,
  ) {}

  /** True while at least one shared encode runs. */
  get running(): boolean {
    for (const g of this.#groups.values()) if (g.running) return true;
    return false;
  }

  get size(): number {
    return this.#groups.size;
  }

  pids(): number[] {
    return [...this.#groups.values()].flatMap((g) => (g.pid ? [g.pid] : []));
  }

  /** The running encode for `job`'s settings, started now when there is none. */
  get(job: Omit<EncodeJob, 'output'>): GroupEncoder {
    const key = encodeGroupKey(job.encoder);
    let g = this.#groups.get(key);
    if (g?.running && g.frameFormat === frameFormat(job)) return g;
    // One left from frames of another size or rate (the canvas changed): its muxers would get garbage.
    if (g) void g.end();
    g = new GroupEncoder(this.ffmpegPath, job, this.pool(), this.log.child({ component: 'shared-encoder', group: key }), this.audio);
    this.#groups.set(key, g);
    const mine = g;
    void g.exited.then((reason) => {
      if (this.#groups.get(key) !== mine || reason === null) return;
      this.log.warn({ group: key, reason }, 'shared encoder exited');
      this.#groups.delete(key);
      this.onDied(key);
    });
    return g;
  }

  /** Ends the encodes whose key is not in `wanted`. */
  keep(wanted: ReadonlySet<string>): void {
    for (const [key, g] of this.#groups) {
      if (wanted.has(key)) continue;
      this.#groups.delete(key);
      void g.end();
    }
  }

  /** Offers one frame to every shared encode (each drops it when its queue is full). */
  write(frame: Frame): void {
    for (const g of this.#groups.values()) g.write(frame);
  }

  /** Ends every encode (their muxers get the rest of the stream). */
  async endAll(): Promise<void> {
    const all = [...this.#groups.values()];
    this.#groups.clear();
    await Promise.all(all.map((g) => g.end()));
  }
}
