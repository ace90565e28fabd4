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

/**
 * The most time sending may take in one turn of the event loop, ms: sending a frame to a viewer
 * costs its SRTP (tens of microseconds per packet in werift); 20 viewers of a 720p keyframe take
 * tens of ms, which must not hold up the frame clock's timer. Past this the rest waits for the
 * next turn (`setImmediate`), after the timers and I/O that came meanwhile.
 */
const SEND_SLICE_MS = 2;
/**
 * A frame that waited this long for its turn is not sent (the viewer skips to the next keyframe):
 * on a machine too busy to send to every viewer in time, viewers lose frames instead of falling
 * behind the program, ms.
 */
const MAX_SEND_WAIT_MS = 250;

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
 * encode; the sending is sliced so that it never holds up the frame clock either. The pictures
 * since the last keyframe are kept for viewers that join.
 */
export class WhepChannel {
  readonly viewers = new Map<string, WhepViewer>();
  /** Frames still to hand to viewers, in order, and whether a drain is scheduled. */
  #jobs: { viewer: WhepViewer; frame: RtpFrame }[] = [];
  #draining = false;
  #gop: RtpFrame[] = [];
  #gopBytes = 0;
  /** Payload bytes sent to viewers in all (cached pictures included). */
  sentBytes = 0;
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
      this.sentBytes += bytes;
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

  /**
   * One access unit of the encode: packetized once, cached, and queued for every viewer (sent in
   * slices of {@link SEND_SLICE_MS}, in order). Returns its payload bytes (one viewer's worth).
   */
  push(au: AccessUnit): number {
    const payloads = rtpPayloads(au.data);
    if (!payloads.length) return 0;
    this.lastFrameAt = performance.now();
    const frame: RtpFrame = {
      payloads,
      ts90k: au.pts90k,
      key: au.key,
      bytes: payloads.reduce((n, p) => n + p.length, 0),
      madeAt: this.lastFrameAt,
    };
    this.frames++;
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
    for (const viewer of this.viewers.values()) if (viewer.connected) this.#jobs.push({ viewer, frame });
    if (!this.#draining && this.#jobs.length) {
      this.#draining = true;
      setImmediate(() => this.#drain());
    }
    return frame.bytes;
  }

  /** Sends queued frames for up to {@link SEND_SLICE_MS}, then yields to the event loop. */
  #drain(): void {
    const until = performance.now() + SEND_SLICE_MS;
    let sent = 0;
    let i = 0;
    for (; i < this.#jobs.length && (i === 0 || performance.now() < until); i++) {
      const { viewer, frame } = this.#jobs[i]!;
      const dropped = viewer.droppedFrames;
      if (performance.now() - frame.madeAt > MAX_SEND_WAIT_MS && !frame.key) viewer.skip();
      else sent += viewer.send(frame);
      if (viewer.droppedFrames > dropped) this.counters?.dropped();
    }
    this.#jobs = i === this.#jobs.length ? [] : this.#jobs.slice(i);
    this.sentBytes += sent;
    if (sent > 0) this.counters?.sent(sent);
    if (this.#jobs.length) setImmediate(() => this.#drain());
    else this.#draining = false;
  }

  /** Closes every viewer (the output was removed). */
  closeAll(reason: string): void {
    for (const v of [...this.viewers.values()]) v.close(reason);
    this.viewers.clear();
    this.#jobs = [];
  }
}
