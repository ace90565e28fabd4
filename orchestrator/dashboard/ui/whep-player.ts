/**
 * A WHEP player (draft-ietf-wish-whep) for the dashboard: the browser's own RTCPeerConnection
 * receives one video track from a `webrtc` output. POST the offer (all ICE candidates in it, the
 * server does no trickle ICE), set the answer, play the track; DELETE the session to stop. A
 * start that fails at any step, or a connection that fails later on its own, leaves nothing
 * playing (`playing` false), so the next Play starts afresh.
 */

/** What a connection did after `start` returned: connected (media flows), or failed (and was closed). */
export type WhepEvent = 'connected' | 'failed';

/** How long to wait for ICE gathering before sending the offer with the candidates found so far, ms. */
const GATHER_MS = 1000;

export class WhepPlayer {
  #pc: RTCPeerConnection | null = null;
  #session: string | null = null;
  #token: string | null = null;

  /** @param changed told when the connection connects, or fails on its own (the player has then stopped) */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly changed: (event: WhepEvent) => void = () => undefined,
  ) {}

  /** True from `start` until `stop`, a failed start, or a failed connection. */
  get playing(): boolean {
    return this.#pc !== null;
  }

  /** True while the connection is up (ICE and DTLS connected). */
  get connected(): boolean {
    return this.#pc?.connectionState === 'connected';
  }

  /**
   * Connects to `url` (`/stream/whep/<id>`) and plays its video.
   * @param token sent as `Authorization: Bearer` (any role from viewer), or null
   * @throws Error with the server's code and message when the offer is refused
   */
  async start(url: string, token: string | null): Promise<void> {
    await this.stop();
    const pc = new RTCPeerConnection();
    this.#pc = pc;
    this.#token = token;
    pc.onconnectionstatechange = () => {
      if (this.#pc !== pc) return;
      if (pc.connectionState === 'connected') this.changed('connected');
      else if (pc.connectionState === 'failed') {
        void this.stop();
        this.changed('failed');
      }
    };
    try {
      await this.#negotiate(pc, url, token);
    } catch (err) {
      // A refused offer, a network error, a bad answer: nothing stays half open.
      if (this.#pc === pc) await this.stop();
      throw err;
    }
  }

  async #negotiate(pc: RTCPeerConnection, url: string, token: string | null): Promise<void> {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      this.video.srcObject = new MediaStream([e.track]);
      void this.video.play().catch(() => undefined);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = window.setTimeout(resolve, GATHER_MS);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          window.clearTimeout(timer);
          resolve();
        }
      });
    });
    const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    const res = await fetch(url, { method: 'POST', headers, body: pc.localDescription?.sdp ?? '' });
    if (res.status !== 201) {
      let reason = `${res.status}`;
      try {
        const body = (await res.json()) as { error?: { code?: string; message?: string } };
        reason = `${body.error?.message ?? res.statusText} (${res.status} ${body.error?.code ?? ''})`;
      } catch {
        // not JSON
      }
      throw new Error(`WebRTC refused: ${reason}`);
    }
    this.#session = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  }

  /** Ends the session (DELETE) and the connection. */
  async stop(): Promise<void> {
    const pc = this.#pc;
    const session = this.#session;
    this.#pc = null;
    this.#session = null;
    this.video.srcObject = null;
    pc?.close();
    if (session) {
      const headers: Record<string, string> = this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
      await fetch(session, { method: 'DELETE', headers }).catch(() => undefined);
    }
  }
}
