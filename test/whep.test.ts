import fc from 'fast-check';
import t from 'tap';
import { hex, type Rgb } from '../bench/glass.js';
import { whepColorReader } from '../bench/glass-whep.js';
import { launchChromium } from './helpers/browser.js';
import { sampleOffer } from './helpers/whep-client.js';
import { startServer } from './helpers/server.js';

/**
 * WHEP (issue 34): a `webrtc` output served at /stream/whep/:id, fed from the shared H.264
 * encode. Viewers are authorised like WS viewers (any token of the viewer role), counted and
 * capped; an offer that is not SDP or offers no H.264 is a 400 with a registered code, and no
 * body at all makes a 5xx. Debian's Chromium plays it within 2 s of connecting, in colour.
 */

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('WHEP: outputs, auth, bad input, the cap, sessions, metrics, and Chromium (and the dashboard) playing it', async (t) => {
  const s = await startServer({
    AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}`,
    WIDTH: '640',
    HEIGHT: '360',
    WEBRTC_MAX_VIEWERS: '2',
  });
  t.teardown(() => s.close());
  const admin = { authorization: `Bearer ${ADMIN}` };
  const viewer = { authorization: `Bearer ${VIEWER}` };
  const whep = (id: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${s.base}/stream/whep/${id}`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body });

  await t.test('a webrtc output: no url, always low latency, its WHEP path as location', async (t) => {
    const made = await s.call('POST', '/stream/outputs', { id: 'cam', kind: 'webrtc' }, admin);
    t.equal(made.status, 201);
    t.match(made.body, { kind: 'webrtc', location: '/stream/whep/cam', viewers: 0, encodeGroup: /-low$/ });
    t.equal((await s.call('POST', '/stream/outputs', { kind: 'webrtc', url: 'rtmp://x/y/z' }, admin)).status, 400, 'no url');
    const normal = await s.call('POST', '/stream/outputs', { kind: 'webrtc', encoder: { latency: 'normal' } }, admin);
    t.equal(normal.status, 400, 'WebRTC players take no B-frames');
    t.match(normal.body.error.message, /low latency/);
    t.equal((await s.call('POST', '/stream/outputs', { id: 'web', kind: 'hls' }, admin)).status, 201);
    t.equal((await s.call('POST', '/stream/outputs', { id: 'off', kind: 'webrtc', enabled: false }, admin)).status, 201);
  });

  const offer = await sampleOffer();

  await t.test('authorised like WS viewers: no token 401, a viewer token may watch', async (t) => {
    const none = await whep('cam', offer);
    t.equal(none.status, 401);
    t.equal(((await none.json()) as { error: { code: string } }).error.code, 'SM_ERR_UNAUTHORIZED');
    t.match(none.headers.get('www-authenticate'), /^Bearer/);
    t.equal((await whep('cam', offer, { authorization: 'Bearer wrong-token-0123456789abcdef' })).status, 401);
    const ok = await whep('cam', offer, viewer);
    t.equal(ok.status, 201);
    t.equal(ok.headers.get('content-type'), 'application/sdp');
    const location = ok.headers.get('location')!;
    t.match(location, /^\/stream\/whep\/cam\/[0-9a-f-]{36}$/, 'Location: the session resource');
    const answer = await ok.text();
    t.match(answer, /^v=0\r?\n/);
    t.match(answer, /a=rtpmap:\d+ H264\/90000/i, 'H.264 answered');
    t.match(answer, /a=sendonly/);
    t.match(answer, /a=candidate:/, 'candidates in the answer (no trickle ICE)');
    t.equal((await fetch(s.base + location, { method: 'DELETE' })).status, 401, 'DELETE needs the token too');
    t.equal((await fetch(s.base + location, { method: 'PATCH', headers: viewer, body: 'x' })).status, 405, 'no trickle ICE: PATCH is 405');
    t.equal((await fetch(s.base + location, { method: 'DELETE', headers: viewer })).status, 200, 'DELETE ends the session');
    const again = await fetch(s.base + location, { method: 'DELETE', headers: viewer });
    t.equal(again.status, 404);
    t.equal(((await again.json()) as { error: { code: string } }).error.code, 'SM_ERR_WHEP_NO_SESSION');
  });

  await t.test('bad input: 400 with a registered code, nothing opened', async (t) => {
    const code = async (res: Response): Promise<string> => ((await res.json()) as { error: { code: string } }).error.code;
    let res = await whep('cam', offer, { ...viewer, 'content-type': 'text/plain' });
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_NOT_SDP'], 'not application/sdp');
    res = await whep('cam', '{"sdp":"v=0"}', { ...viewer, 'content-type': 'application/json' });
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_NOT_SDP'], 'JSON');
    res = await whep('cam', 'hello, this is not SDP', viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_NOT_SDP'], 'text');
    res = await whep('cam', offer.replace(/a=fingerprint:.*\r?\n/g, ''), viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_NOT_SDP'], 'no DTLS fingerprint');
    res = await whep('cam', await sampleOffer(true), viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_CODEC'], 'VP8 only');
    res = await whep('cam', offer.replace('a=recvonly', 'a=sendonly'), viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_CODEC'], 'a video section that only sends');
    res = await whep('cam', offer.replace(/packetization-mode=1/g, 'packetization-mode=0'), viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_CODEC'], 'packetization-mode 0 only');
    const video = offer.slice(offer.indexOf('m=video'));
    res = await whep('cam', offer + video.repeat(40), viewer);
    t.same([res.status, await code(res)], [400, 'SM_ERR_WHEP_NOT_SDP'], '41 media sections');
    res = await whep('cam', offer + 'a=x'.repeat(30_000), viewer);
    t.same([res.status, await code(res)], [413, 'SM_ERR_BODY_TOO_LARGE'], 'past 64 KB');
    res = await whep('cam', new Uint8Array(5 * 1024 * 1024), viewer);
    t.same([res.status, await code(res)], [413, 'SM_ERR_BODY_TOO_LARGE'], '5 MB: refused before it is read, the answer arrives');
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 32; i++) c.enqueue(new Uint8Array(32 * 1024).fill(0x61));
        c.close();
      },
    });
    res = await fetch(`${s.base}/stream/whep/cam`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...viewer },
      body: streamed,
      duplex: 'half',
    } as RequestInit);
    t.same([res.status, await code(res)], [413, 'SM_ERR_BODY_TOO_LARGE'], '1 MB with no Content-Length: cut at 64 KB');
    res = await whep('nope', offer, viewer);
    t.same([res.status, await code(res)], [404, 'SM_ERR_OUTPUT_NOT_FOUND']);
    res = await whep('web', offer, viewer);
    t.same([res.status, await code(res)], [404, 'SM_ERR_OUTPUT_NOT_FOUND'], 'an hls output is not a WHEP endpoint');
    res = await whep('off', offer, viewer);
    t.same([res.status, await code(res)], [409, 'SM_ERR_WHEP_OUTPUT_STOPPED'], 'a stopped output');
    t.equal((await s.call('GET', '/stream/outputs/cam', undefined, viewer)).body.viewers, 0, 'no viewer was opened');
  });

  await t.test('1000 random bodies: never a 5xx, and no viewer left behind', async (t) => {
    const lines = offer.split(/\r\n/).filter(Boolean);
    const mutated = fc
      .array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom('drop', 'dup', 'garble', 'swap'), fc.string({ maxLength: 30 })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((edits) => {
        const l = [...lines];
        for (const [i, op, junk] of edits) {
          const at = i % l.length;
          if (op === 'drop') l.splice(at, 1);
          else if (op === 'dup') l.splice(at, 0, l[at]!);
          else if (op === 'garble') l[at] = l[at]!.slice(0, 2) + junk;
          else l.splice(at, 1, l[(at + 1) % l.length]!);
        }
        return l.join('\r\n') + '\r\n';
      });
    const body = fc.oneof(
      { weight: 3, arbitrary: fc.string({ maxLength: 300 }) },
      { weight: 2, arbitrary: fc.string({ maxLength: 50 }).map((x) => `v=0\r\n${x}`) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      { weight: 3, arbitrary: mutated },
    );
    const type = fc.constantFrom('application/sdp', 'application/sdp; charset=utf-8', 'text/plain', 'application/json', '');
    let worst = 0;
    const opened: string[] = [];
    await fc.assert(
      fc.asyncProperty(body, type, async (b, ct) => {
        const res = await fetch(`${s.base}/stream/whep/cam`, {
          method: 'POST',
          headers: { ...viewer, ...(ct ? { 'content-type': ct } : {}) },
          body: b,
        });
        await res.arrayBuffer();
        worst = Math.max(worst, res.status);
        if (res.status === 201) {
          opened.push(res.headers.get('location')!);
          await fetch(s.base + res.headers.get('location'), { method: 'DELETE', headers: viewer });
        }
        return res.status < 500;
      }),
      { numRuns: 1000 },
    );
    t.ok(worst < 500, `worst status ${worst}`);
    t.comment(`${opened.length} mutated offers were still answerable (and closed)`);
    t.equal((await s.call('GET', '/stream/outputs/cam', undefined, viewer)).body.viewers, 0, 'every session closed');
  });

  await t.test('viewers are capped by WEBRTC_MAX_VIEWERS: 503 with a registered code, a slot frees on DELETE', async (t) => {
    const a = await whep('cam', offer, viewer);
    const b = await whep('cam', offer, viewer);
    t.same([a.status, b.status], [201, 201]);
    const c = await whep('cam', offer, viewer);
    t.equal(c.status, 503);
    t.equal(((await c.json()) as { error: { code: string } }).error.code, 'SM_ERR_WHEP_FULL');
    const metrics = (await s.call('GET', '/metrics', undefined, admin)).body as string;
    t.match(metrics, /stream_manager_webrtc_viewers\{output="cam"\} 2/, 'the viewers gauge');
    for (const r of [a, b]) t.equal((await fetch(s.base + r.headers.get('location'), { method: 'DELETE', headers: viewer })).status, 200);
    t.equal((await s.call('GET', '/stream/outputs/cam', undefined, viewer)).body.viewers, 0);
  });

  await t.test('Chromium plays it within 2 s of connecting, in the layer’s colour, and follows a change', async (t) => {
    const layer = { id: 'bg', zIndex: 1, transform: { x: 0, y: 0, width: 640, height: 360 }, content: { type: 'color', color: '#ff0000' } };
    t.equal((await s.call('POST', '/stream/layers', layer, admin)).status, 201);
    t.equal((await s.call('POST', '/stream/start', undefined, admin)).status, 200);
    await sleep(1500);
    const player = await whepColorReader(`${s.base}/stream/whep/cam`, VIEWER);
    t.teardown(() => player.stop());
    const red: Rgb = [255, 0, 0];
    await player.waitFor(red, 0, 10_000);
    const st = await player.state();
    t.equal(st.status, 201);
    t.equal(st.error, null);
    const startMs = st.firstFrameAt - st.connectedAt;
    t.ok(startMs > 0 && startMs <= 2000, `first frame drawn ${startMs.toFixed(0)} ms after the offer was sent`);
    const time0 = (await player.page.evaluate('document.getElementById("v").currentTime')) as number;
    await sleep(700);
    const time1 = (await player.page.evaluate('document.getElementById("v").currentTime')) as number;
    t.ok(time1 > time0 + 0.3, `the video plays: currentTime ${time0.toFixed(2)} -> ${time1.toFixed(2)} s`);
    const green: Rgb = [0, 255, 0];
    const t0 = performance.timeOrigin + performance.now();
    const seen = player.waitFor(green, t0, 5000);
    t.equal((await s.call('PATCH', '/stream/layers/bg', { content: { color: hex(green) } }, admin)).status, 200);
    const ms = (await seen) - t0;
    t.ok(ms < 2000, `a change shows in the browser ${ms.toFixed(0)} ms after the PATCH (the bench has the figures)`);
    await s.app.pipeline.hub.whep.refresh();
    const metrics = (await s.call('GET', '/metrics', undefined, admin)).body as string;
    t.match(metrics, /stream_manager_webrtc_viewers\{output="cam"\} 1/);
    const sent = Number(/stream_manager_webrtc_sent_bytes_total\{output="cam"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    // A full-frame colour compresses to almost nothing: a few hundred bytes a keyframe, tens a frame.
    t.ok(sent > 500, `bytes sent counted: ${sent}`);
    await player.stop();

    // The dashboard's own WHEP player (CSP: its scripts from this origin only).
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.addInitScript({ content: `localStorage.setItem('stream-manager.token', ${JSON.stringify(VIEWER)})` });
    const csp: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
    });
    await page.goto(`${s.base}/`);
    await page.waitForSelector('#webrtc:not([hidden])', { timeout: 10_000 });
    await page.selectOption('#webrtc-output', 'cam');
    await page.click('#webrtc-play');
    // Polled with page.evaluate (CDP): the page's CSP rightly forbids the eval waitForFunction needs.
    const videoTime = async (): Promise<number> => (await page.evaluate('document.getElementById("webrtc-video").currentTime')) as number;
    for (let i = 0; i < 100 && (await videoTime()) <= 0.3; i++) await sleep(100);
    t.ok((await videoTime()) > 0.3, 'the dashboard’s video plays');
    const pixel = (await page.evaluate(`(() => {
      const v = document.getElementById('webrtc-video');
      const c = document.createElement('canvas');
      c.width = 8; c.height = 8;
      const ctx = c.getContext('2d');
      ctx.drawImage(v, 0, 0, 8, 8);
      return Array.from(ctx.getImageData(4, 4, 1, 1).data.slice(0, 3));
    })()`)) as number[];
    t.ok(
      Math.abs(pixel[0]! - 0) < 40 && Math.abs(pixel[1]! - 255) < 40 && Math.abs(pixel[2]! - 0) < 40,
      `the dashboard plays it: ${pixel.join(',')}`,
    );
    t.equal(await page.textContent('#webrtc-caption'), 'playing cam');
    t.same(csp, [], 'no Content-Security-Policy violation');
    await page.click('#webrtc-play');
    await page.waitForSelector('#webrtc-play:has-text("Play")', { timeout: 5000 });
    // An offer that never reaches the server (a network error): nothing stays half open, so the
    // next click plays again rather than acting as Stop.
    await page.route('**/stream/whep/cam', (r) => r.abort());
    await page.click('#webrtc-play');
    await page.waitForSelector('#message:has-text("Failed to fetch")', { timeout: 5000 });
    t.equal(await page.textContent('#webrtc-play'), 'Play', 'a failed start: the button says Play');
    await page.unroute('**/stream/whep/cam');
    await page.click('#webrtc-play');
    await page.waitForSelector('#webrtc-caption:has-text("playing cam")', { timeout: 10_000 });
    t.pass('the next click plays it');
    await page.click('#webrtc-play');
    await page.waitForSelector('#webrtc-play:has-text("Play")', { timeout: 5000 });
    await s.call('POST', '/stream/stop', undefined, admin);
  });

  await t.test('removing the output closes its viewers', async (t) => {
    const before = (await s.call('GET', '/stream/outputs/cam', undefined, viewer)).body.viewers as number;
    // An answered session (its client never connects: a werift client interrupted in its DTLS
    // handshake keeps retrying for 30 s, which would hold this test up).
    const res = await whep('cam', offer, viewer);
    t.equal(res.status, 201);
    t.equal((await s.call('GET', '/stream/outputs/cam', undefined, viewer)).body.viewers, before + 1);
    t.equal((await s.call('DELETE', '/stream/outputs/cam', undefined, admin)).status, 204);
    const gone = await fetch(s.base + res.headers.get('location'), { method: 'DELETE', headers: viewer });
    t.equal(gone.status, 404, 'the session is gone');
    const metrics = (await s.call('GET', '/metrics', undefined, admin)).body as string;
    t.notMatch(metrics, /stream_manager_webrtc_viewers\{output="cam"\}/);
  });
});
