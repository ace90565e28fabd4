import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { auctionScene } from '../orchestrator/scene/default-scene.js';
import { fitTemplate } from '../orchestrator/scene/scene-library.js';
import { SceneTemplateSchema } from '../shared/scenes.js';
import { LayerCreateSchema } from '../shared/scene.js';
import { connect } from './helpers/ws-client.js';
import { startServer } from './helpers/server.js';

/** Named scenes: saved, listed, activated with a cut or a crossfade; the auction template. */

const full = (id: string, color: string) => ({ id, transform: { x: 0, y: 0, width: 320, height: 240 }, content: { type: 'color', color } });

t.test('the auction template is the default scene, and fits other canvas sizes', async (t) => {
  const doc = SceneTemplateSchema.parse(JSON.parse(readFileSync('assets/scenes/auction.json', 'utf8')));
  t.same(doc.canvas, { width: 1280, height: 720 });
  t.same(
    doc.layers,
    auctionScene(1280, 720).map((l) => LayerCreateSchema.parse(l)),
    'assets/scenes/auction.json is the default auction scene at 1280x720',
  );
  const small = fitTemplate(doc, 640, 360);
  t.same(small.find((l) => l.id === 'background')?.transform, { x: 0, y: 0, width: 640, height: 360 });
  const overlay = small.find((l) => l.id === 'overlay');
  t.equal(overlay?.content.type === 'text' && overlay.content.style.fontSize, 12, 'font sizes scale with the canvas');
});

t.test('scenes: save, list, activate with a cut and a crossfade whose midpoint mixes both', async (t) => {
  const clock = new ManualClock(0);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=layers`);
  t.teardown(() => ws.close());

  t.equal((await s.call('PUT', '/stream/scenes/red', { layers: [full('bg', '#ff0000')] })).status, 200);
  t.equal(
    (
      await s.call('PUT', '/stream/scenes/blue', {
        layers: [
          full('bg', '#0000ff'),
          { id: 'box', transform: { x: 10, y: 10, width: 20, height: 20 }, content: { type: 'color', color: '#ffffff' } },
        ],
      })
    ).status,
    200,
  );
  const list = (await s.call('GET', '/stream/scenes')).body;
  t.same(
    list.scenes.map((x: { name: string; template: boolean }) => [x.name, x.template]),
    [
      ['auction', true],
      ['bench-s2', true],
      ['bench-s3', true],
      ['blue', false],
      ['red', false],
    ],
  );
  t.equal(list.active, null);

  const cut = await s.call('POST', '/stream/scenes/red/activate', {});
  t.equal(cut.status, 200);
  t.equal(cut.body.transition, 'cut');
  t.same((await s.snapshot()).at(100, 100).slice(0, 3), [255, 0, 0], 'cut: red at once');
  t.same(
    (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id),
    ['bg'],
  );

  clock.set(1000);
  const fade = await s.call('POST', '/stream/scenes/blue/activate', { transition: 'crossfade', durationMs: 1000, easing: 'linear' });
  t.equal(fade.status, 200);
  t.equal(fade.body.transition, 'crossfade');
  t.same(
    (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id),
    ['bg', 'box'],
    'the state is the new scene at once',
  );
  t.same((await s.snapshot()).at(100, 100).slice(0, 3), [255, 0, 0], 'the crossfade starts on the old scene');
  clock.set(1500);
  const mid = await s.snapshot();
  const [r, g, b] = mid.at(100, 100);
  t.ok(Math.abs(r! - 127.5) <= 2 && g === 0 && Math.abs(b! - 127.5) <= 2, `midpoint mixes red and blue half and half (got ${r},${g},${b})`);
  const [br, bg, bb] = mid.at(20, 20);
  t.ok(
    Math.abs(br! - 255) <= 2 && Math.abs(bg! - 127.5) <= 2 && Math.abs(bb! - 127.5) <= 2,
    `the new scene's white box mixes with the old red: (255,128,128) (got ${br},${bg},${bb})`,
  );
  clock.set(2000);
  t.same((await s.snapshot()).at(100, 100).slice(0, 3), [0, 0, 255], 'at the end: the new scene alone');
  const ended = await ws.next('animationEnded');
  t.same({ id: ended.payload.id, kind: ended.payload.kind }, { id: 'blue', kind: 'scene' });
  t.equal((await s.call('GET', '/stream/scenes')).body.active, 'blue');

  // Save the live scene as it is; the auction template activates on this canvas.
  await s.call('PATCH', '/stream/layers/box', { content: { color: '#00ff00' } });
  t.equal((await s.call('PUT', '/stream/scenes/green-box', {})).status, 200);
  t.equal((await s.call('GET', '/stream/scenes/green-box')).body.layers[1].content.color, '#00ff00', 'PUT {} saves the live layers');
  const auction = await s.call('POST', '/stream/scenes/auction/activate', { transition: 'cut' });
  t.equal(auction.status, 200);
  t.same(
    auction.body.layers.map((l: { id: string }) => l.id),
    ['background', 'host', 'overlay'],
  );
  t.same(auction.body.layers[0].transform, { x: 0, y: 0, width: 320, height: 240 }, 'laid out for 320x240');

  // Refusals change nothing.
  const before = (await s.call('GET', '/stream/scene')).body.layers;
  t.equal((await s.call('POST', '/stream/scenes/nope/activate', {})).status, 404);
  t.equal((await s.call('POST', '/stream/scenes/red/activate', { transition: 'wipe' })).status, 400);
  t.equal((await s.call('PUT', '/stream/scenes/bad name', { layers: [] })).status, 400);
  t.equal((await s.call('PUT', '/stream/scenes/dup', { layers: [full('a', '#fff'), full('a', '#000')] })).status, 400);
  t.equal(
    (await s.call('PUT', '/stream/scenes/missing', { layers: [{ id: 'i', content: { type: 'image', src: 'assets/none.png' } }] })).status,
    400,
  );
  t.equal((await s.call('DELETE', '/stream/scenes/auction')).status, 404, 'templates are read-only');
  t.same((await s.call('GET', '/stream/scene')).body.layers, before);
  t.equal((await s.call('DELETE', '/stream/scenes/red')).status, 204);
  t.equal((await s.call('GET', '/stream/scenes/red')).status, 404);
});

t.test('saved scenes persist across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-scenes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STATE_STORE: 'file', DATA_DIR: dir };
  const a = await startServer(env);
  await a.call('PUT', '/stream/scenes/red', { layers: [full('bg', '#ff0000')] });
  await a.call('POST', '/stream/scenes/red/activate', {});
  await a.close();
  const b = await startServer(env);
  t.teardown(() => b.close());
  const list = (await b.call('GET', '/stream/scenes')).body;
  t.equal(list.active, 'red');
  t.same((await b.call('GET', '/stream/scenes/red')).body.layers[0].content, { type: 'color', color: '#ff0000' });
});

t.test('live: a crossfade and a tween play on the running frame clock', async (t) => {
  const s = await startServer({ WIDTH: '320', HEIGHT: '240', FPS: '30' });
  t.teardown(() => s.close());
  await s.call('PUT', '/stream/scenes/red', { layers: [full('bg', '#ff0000')] });
  await s.call('PUT', '/stream/scenes/blue', {
    layers: [
      full('bg', '#0000ff'),
      { id: 'box', transform: { x: 0, y: 200, width: 40, height: 40 }, content: { type: 'color', color: '#ffffff' } },
    ],
  });
  await s.call('POST', '/stream/scenes/red/activate', {});
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  await s.call('POST', '/stream/scenes/blue/activate', { transition: 'crossfade', durationMs: 1500, easing: 'linear' });
  await s.call('PATCH', '/stream/layers/box', { transform: { x: 280 }, transition: { durationMs: 1500 } });
  const mixes: number[] = [];
  const boxes: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < 1300) {
    const shot = await s.snapshot();
    const [r, , b] = shot.at(160, 100);
    if (r! > 20 && b! > 20) mixes.push(r!);
    const left = [...Array(320).keys()].find((x) => shot.at(x, 220)[1]! > 100);
    if (left !== undefined) boxes.push(left);
  }
  t.ok(new Set(mixes).size >= 3, `frames between the scenes mix both, changing over time (${new Set(mixes).size} distinct mixes)`);
  t.ok(
    new Set(boxes).size >= 3 && boxes.some((x) => x > 0 && x < 280),
    `the box glides: left edges seen ${[...new Set(boxes)].slice(0, 8).join(', ')}...`,
  );
  await new Promise((r) => setTimeout(r, 700));
  const end = await s.snapshot();
  t.same(end.at(160, 100).slice(0, 3), [0, 0, 255], 'after the crossfade: the new scene alone');
  t.same(end.at(300, 220).slice(0, 3), [255, 255, 255], 'after the tween: the box at x = 280');
  const status = (await s.call('GET', '/stream/status')).body;
  t.ok(status.fps > 20, `still near 30 fps (${status.fps})`);
  await s.call('POST', '/stream/stop');
});
