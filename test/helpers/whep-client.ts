/**
 * WHEP clients without a browser, for the WebRTC tests: a werift peer connection that offers to
 * receive H.264 video, POSTs the offer, and counts the frames it receives (RTP packets with the
 * marker bit) with their arrival times and RTP timestamps. Run as a script, it hosts N viewers
 * and prints one JSON line of stats per second (the tests run viewers in child processes, so a
 * viewer can be paused with SIGSTOP while the others keep reading):
 * `node dist/test/helpers/whep-client.js <whep url> <viewers> [token]`.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, useNACK, usePLI, useVP8 } from 'werift';

/** A received frame: when its last packet arrived (ms, performance.timeOrigin-based) and its RTP timestamp. */
export interface ReceivedFrame {
  at: number;
  ts: number;
}

/** A connected (or connecting) viewer. */
export interface WhepClient {
  /** The POST's status, `Location` and body (the answer, or the error JSON). */
  status: number;
  location: string | null;
  body: string;
  frames: ReceivedFrame[];
  /** Resolves true once connected, false if the connection fails or takes over 15 s (a loaded CI machine). */
  connected(): Promise<boolean>;
  close(): Promise<void>;
}

const h264 = (): RTCRtpCodecParameters =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    rtcpFeedback: [useNACK(), usePLI()],
    parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  });

/** A receive-only peer connection with its offer set and ICE gathered. `vp8Only`: offers no H.264. */
export async function offerer(vp8Only = false): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({ iceServers: [], codecs: { video: vp8Only ? [useVP8()] : [h264()], audio: [] } });
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }
  return { pc, sdp: pc.localDescription!.sdp };
}

/** An SDP offer as a browser would send (a werift one), for bad-input tests; its peer connection is closed. */
export async function sampleOffer(vp8Only = false): Promise<string> {
  const { pc, sdp } = await offerer(vp8Only);
  await pc.close();
  return sdp;
}

/** Opens a WHEP session at `url` and counts the frames that come. */
export async function connectWhep(url: string, token?: string): Promise<WhepClient> {
  const { pc, sdp } = await offerer();
  const frames: ReceivedFrame[] = [];
  pc.getTransceivers()[0]!.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      if (rtp.header.marker) frames.push({ at: performance.timeOrigin + performance.now(), ts: rtp.header.timestamp });
    });
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: sdp,
  });
  const body = await res.text();
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return {
    connected: () =>
      pc.connectionState === 'connected'
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 15_000);
            pc.connectionStateChange.subscribe((st) => {
              if (st === 'connected' || st === 'failed' || st === 'closed') {
                clearTimeout(timer);
                resolve(st === 'connected');
              }
            });
          }),
    status: res.status,
    location: res.headers.get('location'),
    body,
    frames,
    close: () => pc.close(),
  };
}

// As a script: host viewers and print their stats each second.
if (process.argv[1]?.endsWith('whep-client.js')) {
  const [url, count, token] = process.argv.slice(2);
  // One after the other, each connected before the next: 20 ICE checks at once on a busy
  // machine time out.
  const clients: WhepClient[] = [];
  const connected: boolean[] = [];
  for (let i = 0; i < Number(count); i++) {
    let c = await connectWhep(url!, token);
    let up = c.status === 201 && (await c.connected());
    // A connection that failed (ICE or DTLS timing out on a machine loaded far past its cores) is
    // tried once more, as a player would: its session is ended first (DELETE, as WHEP says).
    if (c.status === 201 && !up) {
      c.close();
      if (c.location)
        await fetch(new URL(c.location, url), { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
      process.stderr.write(`viewer ${i}: not connected in time, trying once more\n`);
      c = await connectWhep(url!, token);
      up = c.status === 201 && (await c.connected());
    }
    clients.push(c);
    connected.push(up);
  }
  process.stdout.write(
    JSON.stringify({ statuses: clients.map((c) => c.status), connected, locations: clients.map((c) => c.location) }) + '\n',
  );
  let seen = clients.map(() => 0);
  setInterval(() => {
    const frames = clients.map((c, i) => c.frames.slice(seen[i]!));
    seen = clients.map((c) => c.frames.length);
    process.stdout.write(JSON.stringify({ t: performance.timeOrigin + performance.now(), frames }) + '\n');
  }, 1000);
}
