import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { checkOffer, checkOfferType } from './sdp-offer.js';
import { WhepChannel } from './whep-channel.js';
import type { WhepIceSettings, WhepViewer } from './whep-viewer.js';

export interface WhepServiceOptions {
  /** WEBRTC_MAX_VIEWERS: viewers of all webrtc outputs together. */
  maxViewers: number;
  ice: WhepIceSettings;
  log: Logger;
  metrics?: Metrics;
}

/**
 * The WHEP sessions (draft-ietf-wish-whep) of every `webrtc` output: one {@link WhepChannel}
 * per output, its viewers, and the cap on viewers. A session is opened by an SDP offer and ends
 * with `close` (the client's DELETE), its connection failing, or its output being removed.
 */
export class WhepService {
  readonly #o: WhepServiceOptions;
  readonly #channels = new Map<string, WhepChannel>();
  /** Sessions being negotiated: they count against the cap. */
  #opening = 0;

  constructor(options: WhepServiceOptions) {
    this.#o = options;
  }

  /** Viewers of all outputs (answered, not closed). */
  get viewers(): number {
    let n = 0;
    for (const c of this.#channels.values()) n += c.viewers.size;
    return n;
  }

  /** The channel of a webrtc output, made on first use. */
  channel(outputId: string): WhepChannel {
    let c = this.#channels.get(outputId);
    if (!c) {
      const labels = { output: outputId };
      const m = this.#o.metrics;
      c = new WhepChannel(outputId, {
        sent: (bytes) => m?.webrtcSentBytes.inc(labels, bytes),
        dropped: () => m?.webrtcDroppedFrames.inc(labels),
      });
      this.#channels.set(outputId, c);
      m?.webrtcViewers.set(labels, 0);
    }
    return c;
  }

  /** The output is gone: its viewers are closed and its channel forgotten. */
  drop(outputId: string): void {
    const c = this.#channels.get(outputId);
    if (!c) return;
    this.#channels.delete(outputId);
    c.closeAll('output removed');
    this.#o.metrics?.webrtcViewers.remove({ output: outputId });
  }

  /** Closes every viewer (shutdown). */
  closeAll(): void {
    for (const c of this.#channels.values()) c.closeAll('server stopping');
  }

  /**
   * Answers an SDP offer for `outputId`'s channel: a new viewer, fed from the next frame. The cap
   * and the media type are checked before `readOffer` reads the body.
   * @returns the session id and the SDP answer
   * @throws AppError SM_ERR_WHEP_FULL when WEBRTC_MAX_VIEWERS watch already; SM_ERR_WHEP_NOT_SDP,
   *   SM_ERR_WHEP_CODEC for an offer that cannot be answered ({@link checkOffer})
   */
  async open(
    outputId: string,
    contentType: string | undefined,
    readOffer: () => Promise<string>,
  ): Promise<{ sessionId: string; answer: string }> {
    const max = this.#o.maxViewers;
    if (this.viewers + this.#opening >= max) {
      throw new AppError('SM_ERR_WHEP_FULL', `${max} WebRTC viewers are watching already (WEBRTC_MAX_VIEWERS); retry later`, { max });
    }
    checkOfferType(contentType);
    this.#opening++;
    let made: { viewer: WhepViewer; answer: string };
    try {
      const offer = await readOffer();
      checkOffer(contentType, offer);
      // Loaded on the first session: the WebRTC stack (werift) costs about a second of start-up
      // CPU that a server without WHEP viewers never needs.
      const { WhepViewer: Viewer } = await import('./whep-viewer.js');
      made = await Viewer.answer(offer, this.#o.ice, this.#o.log);
    } finally {
      this.#opening--;
    }
    const { viewer, answer } = made;
    const channel = this.#channels.get(outputId);
    if (!channel) {
      viewer.close('output removed');
      throw new AppError('SM_ERR_OUTPUT_NOT_FOUND', `No output has id "${outputId}"`);
    }
    const labels = { output: outputId };
    channel.add(viewer);
    this.#o.metrics?.webrtcViewers.set(labels, channel.viewers.size);
    viewer.onClosed = () => {
      channel.remove(viewer.id);
      if (this.#channels.get(outputId) === channel) this.#o.metrics?.webrtcViewers.set(labels, channel.viewers.size);
    };
    this.#o.log.info({ output: outputId, viewer: viewer.id, viewers: this.viewers }, 'WHEP viewer answered');
    return { sessionId: viewer.id, answer };
  }

  /**
   * Ends a session (the WHEP client's DELETE).
   * @throws AppError SM_ERR_WHEP_NO_SESSION
   */
  close(outputId: string, sessionId: string): void {
    const viewer = this.#channels.get(outputId)?.viewers.get(sessionId);
    if (!viewer) throw new AppError('SM_ERR_WHEP_NO_SESSION');
    viewer.close('closed by the client');
  }
}
