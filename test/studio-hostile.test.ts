import sharp from 'sharp';
import t from 'tap';
import { decode, startServer, type Pixels } from './helpers/server.js';
import { uploadFile } from './helpers/upload-file.js';
import { connect, type WsClient } from './helpers/ws-client.js';

/**
 * Studio mode (docs/studio-mode.md) attacked as a hostile client and a bad day would: what the
 * preview bus shows and keeps must follow the same rules as the program's.
 */

const W = 320;
const H = 180;
const near = (p: Pixels, rgb: [number, number, number], tol = 40): boolean =>
  p.at(Math.floor(p.width / 4), Math.floor(p.height / 4)).every((v, i) => i === 3 || Math.abs(v - rgb[i]!) <= tol);

/** The next WS preview frame (decoded) that passes `ok`, within `ms`. */
async function frameUntil(c: WsClient, ok: (p: Pixels) => boolean, ms = 5000): Promise<Pixels> {
  const end = performance.now() + ms;
  for (;;) {
    const msg = await c.next('preview', Math.max(1, end - performance.now()));
    const p = await decode(Buffer.from(msg.payload.data, 'base64'));
    if (ok(p)) return p;
  }
}

t.test('an asset deleted with force: a preview layer shown again never brings back its picture on the preview bus', async (t) => {
  const s = await startServer({ WIDTH: String(W), HEIGHT: String(H), FPS: '10', PREVIEW_WIDTHS: '160,320,320' });
  t.teardown(() => s.close());
  const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#00ff00' } })
    .png()
    .toBuffer();
  const up = await uploadFile(s.base, png, 'green.png', 'image/png');
  t.equal(up.status, 201);
  const bg = { id: 'bg', transform: { x: 0, y: 0, width: W, height: H }, content: { type: 'color', color: '#ff0000' } };
  t.equal((await s.call('POST', '/stream/preview/layers', bg)).status, 201);
  const img = { id: 'img', zIndex: 1, transform: { x: 0, y: 0, width: W, height: H }, content: { type: 'image', src: up.body.id } };
  t.equal((await s.call('POST', '/stream/preview/layers', img)).status, 201);

  const c = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=preview&bus=preview&quality=low`);
  t.teardown(() => c.close());
  await frameUntil(c, (p) => near(p, [0, 255, 0]));
  t.pass('the preview bus shows the image');

  const forced = await s.call('DELETE', `/stream/assets/${up.body.id}?force=true`);
  t.equal(forced.status, 200);
  t.same(forced.body.hiddenPreviewLayers, ['img']);
  await frameUntil(c, (p) => near(p, [255, 0, 0]));
  // Shown again (allowed: the layer is as it was), it must render from its asset, which is gone
  // (frames made before the show are red: the layer was hidden).
  const shown = await s.call('PATCH', '/stream/preview/layers/img/visibility', { visible: true });
  t.equal(shown.status, 200);
  const after = performance.now();
  let green = 0;
  let frames = 0;
  while (performance.now() - after < 1500) {
    const msg = await c.next('preview', 3000);
    frames++;
    if (near(await decode(Buffer.from(msg.payload.data, 'base64')), [0, 255, 0])) green++;
  }
  t.ok(frames > 0, `preview frames after the show: ${frames}`);
  t.equal(green, 0, 'no preview frame shows the deleted picture again');
});

t.test('a socket congested while the preview scene changes gets the preview scene whole once it drains', async (t) => {
  const s = await startServer({
    WIDTH: String(W),
    HEIGHT: String(H),
    WS_MAX_BUFFERED_BYTES: String(16 * 1024),
    WS_HEARTBEAT_MS: '600000',
  });
  t.teardown(() => s.close());
  const c = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=state`);
  t.teardown(() => c.close());
  await c.next('stateUpdate');
  c.ws.pause(); // reads nothing: a slow peer
  // 100 previewLayerUpdate messages (~25 KB) congest it; the change after them is held back.
  const layers = Array.from({ length: 100 }, (_, i) => ({
    id: `p-${i}`,
    transform: { x: i, y: 0, width: 10, height: 10 },
    content: { type: 'color', color: '#112233' },
  }));
  const doc = (await s.call('GET', '/stream/preview/scene')).body;
  t.equal((await s.call('PUT', '/stream/preview/scene', { canvas: doc.canvas, layers })).status, 200);
  t.equal((await s.call('PATCH', '/stream/preview/layers/p-7', { content: { color: '#ff0000' } })).status, 200);
  t.equal((await s.call('DELETE', '/stream/preview/layers/p-9')).status, 204);
  c.ws.resume();
  let full: any;
  const end = performance.now() + 5000;
  while (!full && performance.now() < end) {
    const m = await c.next('stateUpdate', Math.max(1, end - performance.now())).catch(() => null);
    if (m?.payload.layers) full = m;
  }
  t.ok(full, 'a full state once it drains');
  const preview: { id: string; content: { color?: string } }[] = full?.payload.preview ?? [];
  t.equal(preview.length, 99, 'with the preview scene');
  t.equal(preview.find((l) => l.id === 'p-7')?.content.color, '#ff0000', 'as changed while congested');
  t.notOk(
    preview.some((l) => l.id === 'p-9'),
    'without the layer deleted while congested',
  );
});

t.test('the preview bus frees its frame buffers once nobody watches; sockets in a loop leave nothing behind', async (t) => {
  const s = await startServer({ WIDTH: String(W), HEIGHT: String(H) });
  t.teardown(() => s.close());
  const bus = s.app.pipeline.previewBus!;
  const bg = { id: 'bg', transform: { x: 0, y: 0, width: W, height: H }, content: { type: 'color', color: '#0000ff' } };
  t.equal((await s.call('POST', '/stream/preview/layers', bg)).status, 201);
  t.equal(bus.framesAllocated, 0, 'nothing allocated before anyone watches');
  for (let i = 0; i < 5; i++) {
    const c = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=preview&bus=preview&quality=low`);
    await c.next('preview');
    c.close();
  }
  t.ok(bus.made >= 5, `frames made while watched: ${bus.made}`);
  const end = performance.now() + 3000;
  while (bus.framesAllocated > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.equal(bus.framesAllocated, 0, 'no frame buffer kept once the last viewer left');
  const made = bus.made;
  await new Promise((r) => setTimeout(r, 400));
  t.equal(bus.made, made, 'nothing is rendered while nobody watches');
});

t.test('a timed host animation ends off air too, and a take in the middle of it still ends it on air', async (t) => {
  const s = await startServer({ WIDTH: String(W), HEIGHT: String(H) });
  t.teardown(() => s.close());
  const host = {
    id: 'host',
    transform: { x: 0, y: 0, width: 160 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation: 'idle',
    },
  };
  const animationOf = async (path: string): Promise<unknown> =>
    ((await s.call('GET', path)).body as { content: { animation: string } }).content.animation;
  const until = async (path: string, want: string, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if ((await animationOf(path)) === want) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  t.equal((await s.call('POST', '/stream/preview/layers', host)).status, 201);
  t.equal((await s.call('POST', '/stream/preview/layers/host/animation', { name: 'talking', durationMs: 300 })).status, 200);
  t.equal(await animationOf('/stream/preview/layers/host'), 'talking', 'talking off air');
  t.ok(await until('/stream/preview/layers/host', 'idle', 5000), 'back to idle in the preview scene after its 300 ms');

  // Taken while it talks for 1.5 s: on air it stops when the 1.5 s are over, not never.
  t.equal((await s.call('POST', '/stream/preview/layers/host/animation', { name: 'talking', durationMs: 1500 })).status, 200);
  t.equal((await s.call('POST', '/stream/take', {})).status, 200);
  t.equal(await animationOf('/stream/layers/host'), 'talking', 'on air, still talking right after the take');
  t.ok(await until('/stream/layers/host', 'idle', 6000), 'on air, back to idle once its time is over');
  // Taken back to the preview while talking on air: it ends there.
  t.equal((await s.call('POST', '/stream/layers/host/animation', { name: 'talking', durationMs: 1500 })).status, 200);
  t.equal((await s.call('POST', '/stream/preview/layers', { id: 'box', content: { type: 'color', color: '#ff0000' } })).status, 201);
  t.equal((await s.call('POST', '/stream/take', {})).status, 200);
  t.equal(await animationOf('/stream/preview/layers/host'), 'talking', 'back in the preview, still talking');
  t.ok(await until('/stream/preview/layers/host', 'idle', 6000), 'and idle there once its time is over');
});
