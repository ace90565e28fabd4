import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.js';
import { makeClip } from './helpers/media.js';
import { startServer, type TestServer } from './helpers/server.js';

// Chromium's first start on a fresh machine (CI) builds its caches: 30 s or more beside two other
// test files on 2 cores, before the 40 s of steps; the file's timeout is sized for that.
t.setTimeout(240_000);

/**
 * The admin dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
 * server (auction scene at 640x360, live to a file). The page's canvas is read back to check that it
 * shows what the server renders.
 */

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PROBE = readFileSync(resolve(REPO, 'test/fixtures/page-probe.js'), 'utf8');
/** Screenshots go here (CI keeps the folder as an artifact). */
const ARTIFACTS = resolve(REPO, 'test-artifacts');

/** The auction scene's bid overlay, as fractions of the frame: x 0.55w, y 0.08h, about 40% x 12%. */
const BID_REGION = [0.55, 0.08, 0.4, 0.12] as const;
/** A red box added to the scene, in frame pixels (640x360). */
const BOX = { x: 400, y: 220, width: 160, height: 100 };

async function region(page: Page, r: readonly number[]): Promise<number[]> {
  return page.evaluate(`__probe.region(${r.join(',')})`) as Promise<number[]>;
}

async function frames(page: Page): Promise<number> {
  return page.evaluate('__probe.frames()') as Promise<number>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function liveServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ WIDTH: '640', HEIGHT: '360', DEFAULT_SCENE: 'auction', PREVIEW_WIDTHS: '160,320,640', PREVIEW_FPS: '10', ...env });
}

t.test('dashboard in Chromium', async (t) => {
  const s = await liveServer();
  t.teardown(() => s.close());
  const box = await s.call('POST', '/stream/layers', {
    id: 'box',
    name: 'Red box',
    zIndex: 15,
    transform: BOX,
    content: { type: 'color', color: '#ff0000' },
  });
  t.equal(box.status, 201);
  t.equal((await s.call('POST', '/stream/start')).status, 200);

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(PROBE);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // The refused upgrades of the reconnect test are logged by Chromium itself; they are expected.
    if (m.type() === 'error' && !/WebSocket connection .* 503/.test(m.text())) pageErrors.push(m.text());
  });

  await t.test('the page loads, connects and lists the layers in z-order', async (t) => {
    const res = await page.goto(s.base + '/');
    t.equal(res?.status(), 200);
    await page.waitForSelector('#link[data-state="connected"]', { timeout: 10_000 });
    await page.waitForSelector('li.layer[data-id="overlay"]', { timeout: 5000 });
    const ids = await page.$$eval('#layers > li', (lis) => lis.map((li) => li.getAttribute('data-id')));
    t.same(ids, ['overlay', 'box', 'host', 'background'], 'front first');
    t.equal(await page.textContent('#stream-state'), 'live');
  });

  await t.test('the preview image changes over time', async (t) => {
    await until('two preview frames', async () => (await frames(page)) >= 2, 5000);
    const whole = [0, 0, 1, 1];
    const a = await region(page, whole);
    t.ok(a.length > 0 && a.some((v, i) => i % 4 !== 3 && v > 40), 'the canvas shows a picture, not black');
    const ms = await until(
      'a different preview picture',
      async () => {
        const b = await region(page, whole);
        return (page.evaluate(`__probe.diff(${JSON.stringify(a)}, ${JSON.stringify(b)})`) as Promise<number>).then((d) => d > 0.05);
      },
      3000,
    );
    t.comment(`preview changed after ${ms} ms`);
    const fps = await page.textContent('[data-stat="fps"]');
    t.match(fps, /^\d+\.\d \/ 30$/, `fps shown: ${fps}`);
  });

  await t.test("the visibility toggle hides the layer in the server's snapshot", async (t) => {
    const cx = BOX.x + BOX.width / 2;
    const cy = BOX.y + BOX.height / 2;
    const before = (await s.snapshot()).at(cx, cy);
    t.ok(before[0] > 200 && before[1] < 40, `red box shown: ${before}`);
    await page.click('li.layer[data-id="box"] input.visible');
    const ms = await until('the box to leave the snapshot', async () => (await s.snapshot()).at(cx, cy)[0] < 150, 3000);
    t.comment(`snapshot without the box ${ms} ms after the click`);
    t.equal((await s.call('GET', '/stream/layers/box')).body.visible, false);
    t.equal(await page.isChecked('li.layer[data-id="box"] input.visible'), false);
    t.ok(await page.$('li.layer.hidden[data-id="box"]'), 'the item shows it is hidden');
  });

  await t.test('editing the bid text shows in the preview within 1 s', async (t) => {
    const before = await region(page, BID_REGION);
    await page.fill('li.layer[data-id="overlay"] input.text-content', 'Current Bid: 27.25 ETH');
    const t0 = Date.now();
    await page.press('li.layer[data-id="overlay"] input.text-content', 'Enter');
    // Polled with page.evaluate (CDP), not waitForFunction: the page's CSP rightly forbids the eval
    // that waitForFunction's string predicates need.
    await until(
      'the new bid in the preview',
      async () => ((await page.evaluate(`__probe.diff(${JSON.stringify(before)}, __probe.region(${BID_REGION.join(',')}))`)) as number) > 4,
      1500,
    );
    const ms = Date.now() - t0;
    t.ok(ms <= 1000, `the preview shows the new bid ${ms} ms after Enter`);
    t.equal((await s.call('GET', '/stream/layers/overlay')).body.content.content, 'Current Bid: 27.25 ETH');
  });

  await t.test('move down, opacity, upload an image with progress and put it on a layer', async (t) => {
    await page.click('li.layer[data-id="overlay"] button.down');
    await until(
      'the overlay below the box',
      async () => {
        const ids = await page.$$eval('#layers > li', (lis) => lis.map((li) => li.getAttribute('data-id')));
        return ids[0] === 'box' && ids[1] === 'overlay';
      },
      3000,
    );
    const z = async (id: string): Promise<number> => (await s.call('GET', `/stream/layers/${id}`)).body.zIndex;
    t.same([await z('box'), await z('overlay')], [20, 15], 'the two layers swapped z-index');

    await page.locator('li.layer[data-id="host"] input.opacity').evaluate((el: any) => {
      el.value = '0.5';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until('opacity 0.5 on the server', async () => (await s.call('GET', '/stream/layers/host')).body.opacity === 0.5, 3000);
    t.pass('the opacity slider PATCHes the layer');

    const png = await sharp({ create: { width: 64, height: 36, channels: 4, background: '#00ff00' } })
      .png()
      .toBuffer();
    await page.setInputFiles('#upload-file', { name: 'green.png', mimeType: 'image/png', buffer: png });
    await page.click('#upload-form button[type="submit"]');
    await page.waitForSelector('#message[data-kind="info"]:has-text("Uploaded green.png")', { timeout: 5000 });
    t.equal(await page.isHidden('#upload-progress'), true, 'the progress bar is put away when done');
    const assets = (await s.call('GET', '/stream/assets')).body.assets as { id: string; name: string }[];
    const green = assets.find((a) => a.name === 'green.png');
    t.ok(green, 'the server has the asset');
    t.match(await page.textContent('#assets'), /green\.png · image 64x36/);
    await page.selectOption('li.layer[data-id="background"] select.image-src', green!.id);
    await until(
      'a green background in the snapshot',
      async () => {
        const [r, g, b] = (await s.snapshot()).at(630, 350);
        return r < 30 && g > 220 && b < 30;
      },
      3000,
    );
    t.equal((await s.call('GET', '/stream/layers/background')).body.content.src, green!.id);
  });

  await t.test("a video layer's Play, Pause and Restart drive the server; its state and position show", async (t) => {
    // A 30 s clip served over HTTP (a progressive file, read as a feed): no file under assets/ needed.
    const dir = mkdtempSync(join(tmpdir(), 'sm-dash-video-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await makeClip(join(dir, 'clip.mp4'), ['teal', 'purple'], { width: 160, height: 90, fps: 10, secondsEach: 15 });
    const clip = readFileSync(join(dir, 'clip.mp4'));
    const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': clip.length }).end(clip));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => http.close(() => r())));
    const src = `http://127.0.0.1:${(http.address() as AddressInfo).port}/clip.mp4`;
    const created = await s.call('POST', '/stream/layers', {
      id: 'clip',
      zIndex: 30,
      transform: { x: 16, y: 200, width: 160, height: 90 },
      content: { type: 'video', src },
    });
    t.equal(created.status, 201);
    t.teardown(() => s.call('DELETE', '/stream/layers/clip'));
    const item = 'li.layer[data-id="clip"]';
    const server = async (): Promise<{ playing: boolean; state: string; positionMs: number }> => {
      const l = (await s.call('GET', '/stream/layers/clip')).body;
      return { playing: l.content.playing, state: l.media.state, positionMs: l.media.positionMs };
    };
    await page.waitForSelector(`${item} .media[data-state="playing"]`, { timeout: 10_000 });
    t.match(await page.textContent(`${item} .media-state`), /^playing · \d+:\d\d\.\d · 160x90$/, 'state and position shown');
    const p1 = await page.textContent(`${item} .media-state`);
    await page.waitForTimeout(700);
    const p2 = await page.textContent(`${item} .media-state`);
    t.not(p2, p1, `the position moves on while it plays (${p1} -> ${p2})`);

    await page.click(`${item} button.media-pause`);
    await until(
      'the server to say paused',
      async () => {
        const m = await server();
        return !m.playing && m.state === 'paused';
      },
      5000,
    );
    t.pass('Pause: content.playing false and the source paused on the server');
    await page.waitForSelector(`${item} .media[data-state="paused"]`, { timeout: 3000 });
    // (A live feed's position is the time since it connected, so a poll may move it; the page does not.)
    await page.waitForTimeout(600);
    t.match(await page.textContent(`${item} .media-state`), /^paused · /, 'it stays paused, the position not moved on by the page');

    await page.click(`${item} button.media-play`);
    await until(
      'the server to say playing',
      async () => {
        const m = await server();
        return m.playing && m.state === 'playing';
      },
      5000,
    );
    t.pass('Play: content.playing true and the source playing on the server');
    await page.waitForSelector(`${item} .media[data-state="playing"]`, { timeout: 3000 });

    await page.waitForTimeout(1000);
    const before = (await server()).positionMs;
    await page.click(`${item} button.media-restart`);
    await until('the feed to start again', async () => (await server()).positionMs < before - 500, 8000);
    t.pass(`Restart: the feed started again (position was ${before} ms)`);
  });

  await t.test('killing the WebSocket server side: the page says reconnecting, polls, and recovers', async (t) => {
    // Refuse upgrades for 3 s (as a restarting server would), and drop every socket at once.
    const listeners = s.app.http.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
    s.app.http.removeAllListeners('upgrade');
    s.app.http.on('upgrade', (_req: IncomingMessage, socket: Duplex) =>
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n'),
    );
    t.ok(s.app.ws.terminateAll() >= 1, "the page's socket was dropped");
    await page.waitForSelector('#link[data-state="reconnecting"]', { timeout: 3000 });
    t.match(await page.textContent('#link'), /reconnecting/);
    const framesAtDrop = Number(await page.textContent('[data-stat="frames"]'));
    await until('a polled status', async () => Number(await page.textContent('[data-stat="frames"]')) > framesAtDrop, 3000);
    t.pass('the stats kept moving through GET /stream/status while the socket was down');
    const drawn = await frames(page);
    await new Promise((r) => setTimeout(r, 3000));
    s.app.http.removeAllListeners('upgrade');
    for (const l of listeners) s.app.http.on('upgrade', l);
    const ms = await until('the page to reconnect', async () => (await page.getAttribute('#link', 'data-state')) === 'connected', 12_000);
    t.comment(`reconnected ${ms} ms after upgrades were accepted again`);
    await until('new preview frames', async () => (await frames(page)) > drawn + 2, 5000);
    t.pass('preview frames flow again');
  });

  await t.test('studio mode: the preview scene beside the program, Cut by key C and Take with a duration', async (t) => {
    await page.check('#studio-mode');
    t.equal(await page.isVisible('#studio-panel'), true, 'the panel shows once studio mode is on');
    const blue = await s.call('POST', '/stream/preview/layers', {
      id: 'studio-blue',
      transform: { x: 0, y: 0, width: 640, height: 360 },
      content: { type: 'color', color: '#0000ff' },
    });
    t.equal(blue.status, 201);
    const centre = `(() => { const c = document.getElementById('studio-preview'); return Array.from(c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data); })()`;
    await until(
      'the preview scene on the studio canvas',
      async () => {
        const [r, g, b] = (await page.evaluate(centre)) as number[];
        return r! < 40 && g! < 40 && b! > 200;
      },
      5000,
    );
    t.pass("the studio canvas shows the preview scene (bus=preview), not the program's");
    const program = async (): Promise<string[]> =>
      ((await s.call('GET', '/stream/layers')).body.layers as { id: string }[]).map((l) => l.id);
    t.notOk((await program()).includes('studio-blue'), 'the program does not have it');
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('c');
    await until('the cut on the server', async () => (await program()).join() === 'studio-blue', 3000);
    t.pass('key C: the preview is the program');
    const preview = ((await s.call('GET', '/stream/preview/layers')).body.layers as { id: string }[]).map((l) => l.id);
    t.ok(preview.includes('overlay') && preview.includes('box'), 'and the old program the preview');
    await page.waitForSelector('li.layer[data-id="studio-blue"]', { timeout: 3000 });
    await page.fill('#take-duration', '300');
    await page.click('#take');
    await until('the take back on the server', async () => (await program()).includes('overlay'), 3000);
    await page.waitForSelector('#message[data-kind="info"]:has-text("crossfade 300 ms")', { timeout: 3000 });
    t.pass('Take with 300 ms: a crossfade back to the auction scene');
    await page.waitForTimeout(400);
  });

  await t.test('screenshots at 1280 px and at phone width', async (t) => {
    const shown = await page.textContent('[data-stat="bitrate"]');
    const measured = (await s.call('GET', '/stream/status')).body.outputs[0].bitrateBps as number;
    t.match(shown, /^(\d+ kbit\/s|\d+\.\d\d Mbit\/s)$/, `encoder bitrate shown: ${shown} (/stream/status: ${measured} bit/s)`);
    t.ok(measured > 0, 'the output reports its bitrate');
    mkdirSync(ARTIFACTS, { recursive: true });
    const wide = resolve(ARTIFACTS, 'dashboard-1280.png');
    await page.screenshot({ path: wide, fullPage: true });
    t.comment(`screenshot: ${wide}`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    t.ok(overflow <= 390, `no sideways scrolling at 390 px (content ${overflow} px wide)`);
    const box = await page.locator('#preview').boundingBox();
    t.ok(box && box.width >= 300 && box.width <= 390, `the preview fills the phone's width (${box?.width} px)`);
    const narrow = resolve(ARTIFACTS, 'dashboard-390.png');
    await page.screenshot({ path: narrow, fullPage: true });
    t.comment(`screenshot: ${narrow}`);
  });

  await t.test('with the stream stopped the preview still flows (on demand) and the page shows it', async (t) => {
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
    await until('the page to say stopped', async () => (await page.textContent('#stream-state')) !== 'live', 5000);
    const n = await frames(page);
    const ms = await until('preview frames while stopped', async () => (await frames(page)) >= n + 2, 5000);
    t.comment(`two new preview frames ${ms} ms after the stop settled`);
    const a = await region(page, [0, 0, 1, 1]);
    t.ok(
      a.some((v, i) => i % 4 !== 3 && v > 40),
      'the canvas shows the scene, not black',
    );
  });

  t.same(pageErrors, [], 'no script errors in the page');
});

t.test('dashboard with tokens: asks for one, explains 401 and 429; a viewer or operator gets the controls of its role only', async (t) => {
  const s = await liveServer({
    AUTH_TOKENS: 'admin:admin-secret-0123456789,operator:operator-secret-0123456789,viewer:viewer-secret-0123456789',
    RATE_LIMIT_MAX: '25',
    RATE_LIMIT_WINDOW_MS: '60000',
  });
  t.teardown(() => s.close());
  const admin = { Authorization: 'Bearer admin-secret-0123456789' };
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

  const res = await page.goto(s.base + '/');
  t.equal(res?.status(), 200, 'the page itself needs no token');
  await page.waitForSelector('#token-form:not([hidden])', { timeout: 5000 });
  t.match(await page.textContent('#message'), /token.*401/, '401 explained');

  await page.fill('#token', 'viewer-secret-0123456789');
  await page.click('#token-form button');
  await page.waitForSelector('#link[data-state="connected"]', { timeout: 10_000 });
  await page.waitForSelector('li.layer[data-id="overlay"]', { timeout: 5000 });
  t.equal(await page.evaluate('localStorage.getItem("stream-manager.token")'), 'viewer-secret-0123456789', 'kept in localStorage');

  // A viewer (GET /stream/whoami) sees the page read-only: every control that changes something is
  // disabled and its title names the role it needs; watching and the page's own settings are not.
  await page.waitForSelector('#role:has-text("viewer")', { timeout: 5000 });
  const state = (selectors: string[]): Promise<string[]> =>
    page.evaluate(
      `${JSON.stringify(selectors)}.flatMap((sel) => [...document.querySelectorAll(sel)].map((e) => (sel + ': ' + (e.disabled ? 'off ' + e.title : 'on')).trim()))`,
    ) as Promise<string[]>;
  const operatorOnly = [
    'button[data-action="start"]',
    'button[data-action="stop"]',
    'li.layer[data-id="overlay"] input.visible',
    'li.layer[data-id="overlay"] button.delete',
    '#take',
    '#stage-layer',
    '#upload-form button',
    '#scene-save',
    '#chat-post',
    '#add-layer',
  ];
  const adminOnly = ['#output-add', '#output-url', '#config-apply', '#audio-master .audio-mute'];
  const mine = ['#quality', '#token', '#studio-mode'];
  const viewerSees = await state([...operatorOnly, ...adminOnly, ...mine]);
  t.same(
    viewerSees,
    [
      ...operatorOnly.map((sel) => `${sel}: off Needs an operator token (this token is a viewer's)`),
      ...adminOnly.map((sel) => `${sel}: off Needs an admin token (this token is a viewer's)`),
      ...mine.map((sel) => `${sel}: on`),
    ],
    'viewer: read-only',
  );
  await page.click('li.layer[data-id="overlay"] input.visible', { force: true, timeout: 1000 });
  t.equal(
    (await s.call('GET', '/stream/layers/overlay', undefined, admin)).body.visible,
    true,
    'a click on a disabled control changes nothing',
  );

  // An operator drives the show, but adding an output or changing the config stays an admin's.
  await page.fill('#token', 'operator-secret-0123456789');
  await page.click('#token-form button');
  await page.waitForSelector('#role:has-text("operator")', { timeout: 5000 });
  await until('the controls to follow the role', async () => (await state(['#add-layer']))[0] === '#add-layer: on', 3000);
  t.same(
    await state([...operatorOnly.filter((sel) => !sel.includes('data-action')), ...adminOnly]),
    [
      ...operatorOnly.filter((sel) => !sel.includes('data-action')).map((sel) => `${sel}: on`),
      ...adminOnly.map((sel) => `${sel}: off Needs an admin token (this token is an operator's)`),
    ],
    'operator: all but the admin controls',
  );
  // Start and Stop also follow the stream's state.
  const live = (await s.call('GET', '/stream/status', undefined, admin)).body.isLive as boolean;
  t.same(await state(['button[data-action="start"]', 'button[data-action="stop"]']), [
    `button[data-action="start"]: ${live ? 'off' : 'on'}`,
    `button[data-action="stop"]: ${live ? 'on' : 'off'}`,
  ]);

  await page.reload();
  await page.waitForSelector('#link[data-state="connected"]', { timeout: 10_000 });
  t.equal(await page.inputValue('#token'), 'operator-secret-0123456789', 'the token survives a reload');
  await page.fill('#token', 'admin-secret-0123456789');
  await page.click('#token-form button');
  await page.waitForSelector('#link[data-state="connected"]', { timeout: 10_000 });
  await page.waitForSelector('li.layer[data-id="overlay"]', { timeout: 5000 });
  await page.click('li.layer[data-id="overlay"] input.visible');
  await until(
    "the admin's toggle to land",
    async () => (await s.call('GET', '/stream/layers/overlay', undefined, admin)).body.visible === false,
    3000,
  );
  t.pass('an admin token may change the scene');

  // 25 requests a minute per token: keep clicking until the server says 429.
  let clicks = 0;
  while (!/429/.test((await page.textContent('#message')) ?? '') && clicks < 40) {
    await page.click('li.layer[data-id="overlay"] input.visible');
    clicks++;
    await page.waitForTimeout(30);
  }
  t.match(await page.textContent('#message'), /Too many requests: try again in \d+ s \(429\)/, `429 explained after ${clicks} clicks`);
});
