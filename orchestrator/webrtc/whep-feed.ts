import { TsVideoDemuxer } from './ts-video.js';
import type { WhepChannel } from './whep-channel.js';

/** How a feed ended: `exited` after `end`, `failed` when it was killed (a stall, a dead encode). */
export interface WhepFeedExit {
  state: 'exited' | 'failed';
  message?: string;
}

/**
 * One start of a `webrtc` output: it reads the MPEG-TS of the output's shared encode (as a sink
 * of the encode's fan-out, like a muxer's stdin) and hands each H.264 access unit to the
 * output's {@link WhepChannel}. It runs in the server's process (no ffmpeg), and is supervised
 * like an output's muxer: `flowing` once frames come, stalled when they stop.
 */
export class WhepFeed {
  readonly pid: number | undefined = undefined;
  readonly exited: Promise<WhepFeedExit>;
  /** performance.now() of the start or of the last access unit. */
  lastProgressAt = performance.now();
  readonly #demux: TsVideoDemuxer;
  #resolve!: (exit: WhepFeedExit) => void;
  #done = false;
  #frames = 0;
  #videoBytes = 0;
  #firstAt = 0;
  readonly #channel: WhepChannel;
  /** The channel's bytes sent when this start began. */
  readonly #bytesAtStart: number;

  /** @param videoPid the PID of the H.264 stream in the TS */
  constructor(channel: WhepChannel, videoPid: number) {
    channel.reset();
    this.#channel = channel;
    this.#bytesAtStart = channel.sentBytes;
    this.#demux = new TsVideoDemuxer(videoPid, (au) => {
      this.lastProgressAt = performance.now();
      if (this.#frames++ === 0) this.#firstAt = this.lastProgressAt;
      this.#videoBytes += au.data.length;
      channel.push(au);
    });
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
  }

  get running(): boolean {
    return !this.#done;
  }

  /** Frames have come from the encode. */
  get flowing(): boolean {
    return this.#frames > 0;
  }

  /** RTP payload bytes sent to all its viewers during this start (the output's `bytes`). */
  get bytes(): number {
    return this.#channel.sentBytes - this.#bytesAtStart;
  }

  /** Bits per second of the H.264 stream it relays (one viewer's worth), or null before a second of it. */
  get bitrateBps(): number | null {
    const s = (this.lastProgressAt - this.#firstAt) / 1000;
    return this.#frames > 1 && s >= 1 ? (this.#videoBytes * 8) / s : null;
  }

  stallLimitMs(stallMs: number): number {
    return stallMs;
  }

  /** The encode's TS bytes (from its fan-out: the stream starts at a keyframe). */
  write(bytes: Buffer): void {
    if (!this.#done) this.#demux.push(bytes);
  }

  kill(): void {
    this.#finish({ state: 'failed', message: 'killed' });
  }

  end(): Promise<WhepFeedExit> {
    this.#finish({ state: 'exited' });
    return this.exited;
  }

  #finish(exit: WhepFeedExit): void {
    if (this.#done) return;
    this.#done = true;
    this.#demux.reset();
    this.#resolve(exit);
  }
}
