import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, useNACK, usePLI, type RTCRtpSender } from 'werift';
import { AppError } from '../../shared/errors.js';

/** One access unit ready to send: its RTP payloads (shared by every viewer), 90 kHz timestamp, and whether it is a keyframe. */
export interface RtpFrame {
  payloads: Buffer[];
  ts90k: number;
  key: boolean;
  /** Payload bytes in all. */
  bytes: number;
  /** performance.now() when the encode's access unit came in. */
  madeAt: number;
}

/** Where viewers' ICE candidates point and which UDP ports they use (WEBRTC_ICE_HOSTS, WEBRTC_UDP_PORTS). */
export interface WhepIceSettings {
  /** Addresses announced as host candidates besides those of the interfaces (a public address behind NAT). */
  hostAddresses: string[];
  /** UDP ports the peer connections bind in, inclusive; null: any. */
  portRange: [number, number] | null;
}

/**
 * RTP packets a viewer may have in flight (handed to its transport, not yet sent) before frames
 * are dropped for it: about 3 frames of 720p at 2.5 Mbit/s. A viewer whose sends pile up never
 * holds up the others; it skips to the next keyframe.
 */
const MAX_PENDING_PACKETS = 256;
/** A viewer that has not connected this long after its answer is closed, ms. */
const CONNECT_TIMEOUT_MS = 15_000;
/** A viewer whose connection stays `disconnected` this long is closed, ms. */
const DISCONNECTED_CLOSE_MS = 5000;
/** 90 kHz ticks of one frame at 30 fps: the step after a discontinuity (a new encode). */
const REBASE_STEP = 3000;

/** The one video codec offered: H.264, packetization-mode 1, with NACK and PLI (what Chromium and Firefox receive). */
function h264Codec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    rtcpFeedback: [useNACK(), usePLI()],
    parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  });
}

/**
 * One WHEP viewer: a werift peer connection that only sends the H.264 video of its output. RTP
 * sequence numbers and timestamps are its own (continuous across a new encode); payloads are
 * shared with every other viewer. It starts on a keyframe: the cached group of pictures since the
 * last one, sent at once with timestamps a tick apart (the player decodes them and shows the
 * last, so it starts on the current picture with no added delay), else the next keyframe.
 * Sending never waits: a viewer with {@link MAX_PENDING_PACKETS} unsent packets skips frames
 * to the next keyframe.
 */
export class WhepViewer {
  readonly id = randomUUID();
  readonly #pc: RTCPeerConnection;
  readonly #log: Logger;
  #sender: RTCRtpSender | null = null;
  #seq = randomBytes(2).readUInt16BE(0);
  /** Added to each frame's timestamp (mod 2^32); null until the first frame sent. */
  #tsOffset: number | null = null;
  #lastTs = 0;
  #rebase = false;
  #waitKey = true;
  #pending = 0;
  #closed = false;
  #connected = false;
  #timer: NodeJS.Timeout | null = null;
  /** Payload bytes and frames sent, frames skipped. */
  sentBytes = 0;
  sentFrames = 0;
  droppedFrames = 0;
  /** ms from a frame's arrival from the encode to its sending to this viewer: sum and count (a mean over any span). */
  sendDelayMsSum = 0;
  /** Called once connected (the channel sends the cached pictures), and once closed. */
  onConnected: (() => void) | null = null;
  onClosed: ((reason: string) => void) | null = null;

  private constructor(pc: RTCPeerConnection, log: Logger) {
    this.#pc = pc;
    this.#log = log;
  }

  /**
   * A viewer for an SDP offer already checked by `checkOffer`, and its answer (with all its
   * candidates: the server does no trickle ICE).
   * @throws AppError SM_ERR_WHEP_NOT_SDP when werift cannot take the offer; SM_ERR_WHEP_CODEC
   *   when it has no H.264 video transceiver to send on
   */
  static async answer(offer: string, ice: WhepIceSettings, log: Logger): Promise<{ viewer: WhepViewer; answer: string }> {
    const pc = new RTCPeerConnection({
      iceServers: [],
      codecs: { video: [h264Codec()], audio: [] },
      ...(ice.hostAddresses.length ? { iceAdditionalHostAddresses: ice.hostAddresses } : {}),
      ...(ice.portRange ? { icePortRange: ice.portRange } : {}),
    });
    const viewer = new WhepViewer(pc, log);
    try {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      } catch (err) {
        throw new AppError('SM_ERR_WHEP_NOT_SDP', `The SDP offer could not be read: ${(err as Error).message}`);
      }
      const video = pc.getTransceivers().find((t) => t.kind === 'video' && t.codecs.some((c) => c.mimeType.toLowerCase() === 'video/h264'));
      if (!video) throw new AppError('SM_ERR_WHEP_CODEC');
      for (const t of pc.getTransceivers()) t.setDirection(t === video ? 'sendonly' : 'inactive');
      viewer.#sender = video.sender;
      await pc.setLocalDescription(await pc.createAnswer());
      await viewer.#gathered();
      const answer = pc.localDescription?.sdp;
      if (!answer) throw new AppError('SM_ERR_WHEP_NOT_SDP', 'No answer could be made for this offer');
      viewer.#watch();
      return { viewer, answer };
    } catch (err) {
      viewer.close('negotiation failed');
      throw err instanceof AppError
        ? err
        : new AppError('SM_ERR_WHEP_NOT_SDP', `The SDP offer could not be answered: ${(err as Error).message}`);
    }
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until ICE gathering is complete (host candidates only: quick), at most 2 s. */
  #gathered(): Promise<void> {
    if (this.#pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, 2000);
      const sub = this.#pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
      function done(): void {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      }
    });
  }

  /** Follows the connection: connected (send the cached pictures), closed after failing or staying away. */
  #watch(): void {
    this.#timer = setTimeout(() => this.close('not connected within 15 s'), CONNECT_TIMEOUT_MS);
    this.#pc.connectionStateChange.subscribe((state) => {
      if (this.#closed) return;
      if (state === 'connected') {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        if (!this.#connected) {
          this.#connected = true;
          this.onConnected?.();
        }
      } else if (state === 'failed' || state === 'closed') {
        this.close(`connection ${state}`);
      } else if (state === 'disconnected' && this.#connected) {
        this.#timer ??= setTimeout(() => this.close('disconnected'), DISCONNECTED_CLOSE_MS);
      }
    });
  }

  /** The next frames come from a new encode: their timestamps continue from the last sent, and a keyframe is awaited. */
  rebase(): void {
    this.#rebase = true;
    this.#waitKey = true;
  }

  /**
   * Sends the cached group of pictures (a keyframe and the frames since) at once, timestamps a
   * tick apart ending at the newest's, so the player starts on the current picture.
   * @returns payload bytes sent
   */
  sendBurst(frames: readonly RtpFrame[]): number {
    if (!frames.length || !frames[0]!.key) return 0;
    const last = frames[frames.length - 1]!.ts90k;
    return frames.reduce((bytes, f, i) => bytes + this.send(f, last - (frames.length - 1 - i)), 0);
  }

  /** A frame not sent (it waited too long for its turn): the viewer waits for the next keyframe. */
  skip(): void {
    if (!this.connected || this.#waitKey) return;
    this.#waitKey = true;
    this.droppedFrames++;
  }

  /**
   * Sends one frame, unless it waits for a keyframe or its transport lags
   * ({@link MAX_PENDING_PACKETS}; then it waits for the next keyframe).
   * @param ts90k the frame's timestamp before this viewer's offset (default: the frame's own)
   * @returns payload bytes sent
   */
  send(frame: RtpFrame, ts90k = frame.ts90k): number {
    if (!this.connected || !this.#sender) return 0;
    if (this.#pending > MAX_PENDING_PACKETS) {
      this.#waitKey = true;
      this.droppedFrames++;
      return 0;
    }
    if (this.#waitKey) {
      if (!frame.key) return 0;
      this.#waitKey = false;
    }
    if (this.#tsOffset === null) this.#tsOffset = 0;
    if (this.#rebase) {
      this.#tsOffset = (this.#lastTs + REBASE_STEP - ts90k) % 2 ** 32;
      this.#rebase = false;
    }
    const ts = (((ts90k + this.#tsOffset) % 2 ** 32) + 2 ** 32) % 2 ** 32;
    this.#lastTs = ts;
    const sender = this.#sender;
    const n = frame.payloads.length;
    for (let i = 0; i < n; i++) {
      const header = new RtpHeader({ payloadType: 96, sequenceNumber: this.#seq, timestamp: ts, marker: i === n - 1 });
      this.#seq = (this.#seq + 1) & 0xffff;
      this.#pending++;
      sender.sendRtp(new RtpPacket(header, frame.payloads[i]!)).then(
        () => this.#pending--,
        () => this.#pending--,
      );
    }
    this.sentBytes += frame.bytes;
    this.sentFrames++;
    this.sendDelayMsSum += performance.now() - frame.madeAt;
    return frame.bytes;
  }

  /** Closes the peer connection (idempotent); `onClosed` is told why. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#log.info({ viewer: this.id, reason, sentFrames: this.sentFrames, droppedFrames: this.droppedFrames }, 'WHEP viewer closed');
    this.#pc.close().catch(() => undefined);
    this.onClosed?.(reason);
  }
}
