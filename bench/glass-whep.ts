/**
 * A WHEP player for the glass bench and the WebRTC tests: Debian's Chromium (playwright-core)
 * opens a page on the server's own origin (served by playwright, so it runs no script of the
 * dashboard) that POSTs an SDP offer to the WHEP URL, plays the answer's video in a `<video>`,
 * and at each video frame (`requestVideoFrameCallback`) draws it into an 8x8 canvas and reads
 * the centre pixel. Each frame's colour is reported with the time it was read
 * (`performance.timeOrigin + performance.now()`, the same clock as `wallMs`).
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.js';
import { ColorWaits, type ColorReader } from './glass.js';

/** The player page: plain DOM, no library; `window.whep` reports its state for the tests. */
function playerPage(whepUrl: string, token: string | null): string {
  return `<!doctype html><html><body>
<video id="v" autoplay muted playsinline width="320" height="180"></video>
<canvas id="c" width="8" height="8"></canvas>
<script>
const whep = (window.whep = { connectedAt: 0, firstFrameAt: 0, frames: 0, status: 0, error: null, location: null });
const v = document.getElementById('v');
const ctx = document.getElementById('c').getContext('2d', { willReadFrequently: true });
function onFrame() {
  ctx.drawImage(v, 0, 0, 8, 8);
  const p = ctx.getImageData(4, 4, 1, 1).data;
  const at = performance.timeOrigin + performance.now();
  whep.frames++;
  if (!whep.firstFrameAt) whep.firstFrameAt = at;
  window.glassSeen(p[0], p[1], p[2], at);
  v.requestVideoFrameCallback(onFrame);
}
(async () => {
  try {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => { v.srcObject = new MediaStream([e.track]); v.requestVideoFrameCallback(onFrame); };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
      setTimeout(r, 1000);
    });
    whep.connectedAt = performance.timeOrigin + performance.now();
    const headers = { 'Content-Type': 'application/sdp' };
    ${token ? `headers.Authorization = 'Bearer ' + ${JSON.stringify(token)};` : ''}
    const res = await fetch(${JSON.stringify(whepUrl)}, { method: 'POST', headers, body: pc.localDescription.sdp });
    whep.status = res.status;
    whep.location = res.headers.get('Location');
    if (res.status !== 201) { whep.error = await res.text(); return; }
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (e) { whep.error = String(e); }
})();
</script></body></html>`;
}

/** What the page reports (`window.whep`). */
export interface WhepPageState {
  /** wallMs when the offer was sent, and when the first video frame was drawn (0: not yet). */
  connectedAt: number;
  firstFrameAt: number;
  frames: number;
  /** The WHEP POST's status and `Location`, and any error. */
  status: number;
  location: string | null;
  error: string | null;
}

/** A WHEP player in Chromium; `page` and `state()` for tests. */
export interface WhepPlayer extends ColorReader {
  page: Page;
  state(): Promise<WhepPageState>;
}

/**
 * Opens a player of `whepUrl` (`http://127.0.0.1:<port>/stream/whep/<id>`) in a new page of
 * `browser` (a fresh Chromium when none is given; closed by `stop`).
 * @param token a viewer token sent as `Authorization: Bearer`, or null (auth off)
 */
export async function whepColorReader(whepUrl: string, token: string | null, browser?: Browser): Promise<WhepPlayer> {
  const own = browser ? null : await launchChromium();
  const b = browser ?? own!;
  const page = await b.newPage();
  const waits = new ColorWaits();
  await page.exposeFunction('glassSeen', (r: number, g: number, bl: number, at: number) => waits.seen([r, g, bl], at));
  const origin = new URL(whepUrl).origin;
  const pageUrl = `${origin}/__glass-player.html`;
  await page.route(pageUrl, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: playerPage(whepUrl, token) }));
  await page.goto(pageUrl);
  return {
    page,
    get latest() {
      return waits.latest;
    },
    get frames() {
      return waits.frames;
    },
    waitFor: (rgb, since, timeoutMs) => waits.waitFor(rgb, since, timeoutMs),
    state: () => page.evaluate('window.whep') as Promise<WhepPageState>,
    async stop() {
      await page.close().catch(() => undefined);
      await own?.close();
    },
  };
}
