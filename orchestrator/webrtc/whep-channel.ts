import type { AccessUnit } from './ts-video.js';
import { rtpPayloads } from './h264-rtp.js';
import type { RtpFrame, WhepViewer } from './whep-viewer.js';

/**
 * The group of pictures kept for viewers that join: at most this many frames or bytes (10 s at
 * 30 fps; a 2 s GOP at 720p is about 60 frames and 700 KB). Past either, it is dropped until
 * the next keyframe, and viewers joining meanwhile start at that keyframe.
 */
const GOP_MAX_FRAMES = 300;
const GOP_MAX_BYTES = 16 * 1024 * 1024;

/** What a channel reports per frame sent out (metrics). */
export interface ChannelCounters {
  /** Payload bytes sent to `viewers` viewers for one frame. */
  sent(bytes: number): void;
  /** A frame not sent to a viewer whose transport lagged. */
  dropped(): void;
}

/**
 * The viewers of one `webrtc` output and what they are fed: each access unit of the output's
 * shared encode is cut into RTP payloads once ({@link rtpPayloads}) and handed to every viewer,
 * which adds its own headers and sends without waiting, so no viewer holds up another or the
 * encode. The pictures since the last keyframe are kept for viewers that join.
 */
export class WhepChannel {
  readonly viewers = new Map<string, WhepViewer>();
  #gop: RtpFrame[] = [];
  #gopBytes = 0;
  /** Frames pushed, and performance.now() of the last. */
  frames = 0;
  lastFrameAt = 0;

  constructor(
    readonly outputId: string,
    private readonly counters?: ChannelCounters,
  ) {}

  /** Adds a viewer: once connected it gets the cached pictures, then every frame. */
  add(viewer: WhepViewer): void {
    this.viewers.set(viewer.id, viewer);
    viewer.onConnected = () => {
      const bytes = viewer.sendBurst(this.#gop);
      if (bytes > 0) this.counters?.sent(bytes);
    };
  }

  /** Forgets a viewer (it closes itself). */
  remove(id: string): void {
    this.viewers.delete(id);
  }

  /** A new encode starts: the cache is dropped and each viewer's timestamps continue from where they were. */
  reset(): void {
    this.#gop = [];
    this.#gopBytes = 0;
    for (const v of this.viewers.values()) v.rebase();
  }

  /** One access unit of the encode: packetized once, cached, sent to every viewer; returns the payload bytes sent in all. */
  push(au: AccessUnit): number {
    const payloads = rtpPayloads(au.data);
    if (!payloads.length) return 0;
    const frame: RtpFrame = { payloads, ts90k: au.pts90k, key: au.key, bytes: payloads.reduce((n, p) => n + p.length, 0) };
    this.frames++;
    this.lastFrameAt = performance.now();
    if (frame.key) {
      this.#gop = [];
      this.#gopBytes = 0;
    }
    if (frame.key || this.#gop.length > 0) {
      this.#gop.push(frame);
      this.#gopBytes += frame.bytes;
      if (this.#gop.length > GOP_MAX_FRAMES || this.#gopBytes > GOP_MAX_BYTES) {
        this.#gop = [];
        this.#gopBytes = 0;
      }
    }
    let sent = 0;
    for (const v of this.viewers.values()) {
      const dropped = v.droppedFrames;
      sent += v.send(frame);
      if (v.droppedFrames > dropped) this.counters?.dropped();
    }
    if (sent > 0) this.counters?.sent(sent);
    return sent;
  }

  /** Closes every viewer (the output was removed). */
  closeAll(reason: string): void {
    for (const v of [...this.viewers.values()]) v.close(reason);
    this.viewers.clear();
  }
}
