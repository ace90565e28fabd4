import t from 'tap';
import { startServer, type Pixels } from './helpers/server.js';

/** Largest per-channel difference allowed between expected and rendered pixels (2/255). */
const TOLERANCE = 2;

function near(t: { ok: (v: boolean, m: string) => unknown }, actual: number[], expected: number[], what: string): void {
  const diff = Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)));
  t.ok(diff <= TOLERANCE, `${what}: got [${actual.join(',')}], expected [${expected.join(',')}] (max diff ${diff})`);
}

function countDifferent(p: Pixels, rect: { x: number; y: number; w: number; h: number }, bg: number[]): number {
  let n = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++)
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      const px = p.at(x, y);
      if (Math.abs(px[0] - bg[0]!) + Math.abs(px[1] - bg[1]!) + Math.abs(px[2] - bg[2]!) > 30) n++;
    }
  return n;
}

const BG = [0x20, 0x40, 0x80];

t.test('compositing by snapshot pixels', async (t) => {
  const s = await startServer({ BACKGROUND: '#204080' });
  t.teardown(() => s.close());

  await t.test('empty scene is the background colour', async (t) => {
    const p = await s.snapshot();
    t.equal(p.width, 320);
    t.equal(p.height, 240);
    near(t, p.at(0, 0).slice(0, 3), BG, 'top-left');
    near(t, p.at(319, 239).slice(0, 3), BG, 'bottom-right');
  });

  await t.test('a colour layer at opacity 0.5 blends with the background inside its rect only', async (t) => {
    const res = await s.call('POST', '/stream/layers', {
      id: 'half',
      zIndex: 1,
      opacity: 0.5,
      transform: { x: 40, y: 30, width: 100, height: 60 },
      content: { type: 'color', color: '#ff8000' },
    });
    t.equal(res.status, 201);
    const p = await s.snapshot();
    const expected = [0.5 * 255 + 0.5 * 0x20, 0.5 * 0x80 + 0.5 * 0x40, 0.5 * 0x00 + 0.5 * 0x80];
    near(t, p.at(40, 30).slice(0, 3), expected, 'rect top-left');
    near(t, p.at(139, 89).slice(0, 3), expected, 'rect bottom-right');
    near(t, p.at(90, 60).slice(0, 3), expected, 'rect centre');
    near(t, p.at(39, 30).slice(0, 3), BG, 'left of the rect');
    near(t, p.at(140, 89).slice(0, 3), BG, 'right of the rect');
    near(t, p.at(90, 90).slice(0, 3), BG, 'below the rect');
    await s.call('DELETE', '/stream/layers/half');
  });

  await t.test('zIndex decides which layer is on top; visibility toggles', async (t) => {
    const red = { zIndex: 1, transform: { x: 100, y: 100, width: 80, height: 80 }, content: { type: 'color', color: '#ff0000' } };
    const green = { zIndex: 2, transform: { x: 140, y: 140, width: 80, height: 80 }, content: { type: 'color', color: '#00ff00' } };
    t.equal((await s.call('POST', '/stream/layers', { id: 'red', ...red })).status, 201);
    t.equal((await s.call('POST', '/stream/layers', { id: 'green', ...green })).status, 201);
    let p = await s.snapshot();
    near(t, p.at(160, 160).slice(0, 3), [0, 255, 0], 'overlap: green (z 2) over red (z 1)');
    near(t, p.at(110, 110).slice(0, 3), [255, 0, 0], 'red alone');

    t.equal((await s.call('PATCH', '/stream/layers/red', { zIndex: 3 })).status, 200);
    p = await s.snapshot();
    near(t, p.at(160, 160).slice(0, 3), [255, 0, 0], 'overlap after red moved to z 3');

    const hidden = await s.call('PATCH', '/stream/layers/red/visibility', { visible: false });
    t.equal(hidden.body.visible, false);
    p = await s.snapshot();
    near(t, p.at(160, 160).slice(0, 3), [0, 255, 0], 'overlap with red hidden');
    near(t, p.at(110, 110).slice(0, 3), BG, 'red area with red hidden');

    const toggled = await s.call('POST', '/stream/layers/red/visibility');
    t.equal(toggled.body.visible, true, 'no body toggles');
    p = await s.snapshot();
    near(t, p.at(110, 110).slice(0, 3), [255, 0, 0], 'red back');

    const layers = (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id);
    t.same(layers, ['green', 'red'], 'list is in z-order, bottom first');
    await s.call('DELETE', '/stream/layers/red');
    await s.call('DELETE', '/stream/layers/green');
  });

  await t.test('a text layer draws inside its bounds and nowhere else', async (t) => {
    await s.call('POST', '/stream/layers', {
      id: 'bid',
      zIndex: 5,
      transform: { x: 20, y: 20 },
      content: { type: 'text', content: 'Current Bid: 1.5 ETH', style: { font: 'Arial', fontSize: 24, color: '#ffffff' } },
    });
    const p = await s.snapshot();
    const inside = countDifferent(p, { x: 20, y: 20, w: 240, h: 32 }, BG);
    t.ok(inside > 200, `text pixels inside its box: ${inside}`);
    t.equal(countDifferent(p, { x: 0, y: 60, w: 320, h: 180 }, BG), 0, 'nothing below the text box');
    t.equal(countDifferent(p, { x: 0, y: 0, w: 18, h: 60 }, BG), 0, 'nothing left of the text box');

    const before = inside;
    await s.call('PATCH', '/stream/layers/bid', { content: { content: 'Current Bid: 1.5 ETH and rising fast' } });
    const wider = countDifferent(await s.snapshot(), { x: 20, y: 20, w: 300, h: 32 }, BG);
    t.ok(wider > before, `longer text covers more pixels (${wider} > ${before})`);
    await s.call('DELETE', '/stream/layers/bid');
  });

  await t.test('an image layer shows the picture, scaled to its box', async (t) => {
    await s.call('POST', '/stream/layers', {
      id: 'pic',
      transform: { x: 0, y: 0, width: 320, height: 240 },
      content: { type: 'image', src: 'assets/backgrounds/studio.png' },
    });
    const p = await s.snapshot();
    t.ok(countDifferent(p, { x: 0, y: 0, w: 320, h: 240 }, BG) > 320 * 240 * 0.5, 'most pixels differ from the background colour');
    t.equal(p.at(160, 230)[3], 255, 'opaque');
    await s.call('DELETE', '/stream/layers/pic');
  });

  await t.test('rotation turns the box about its centre', async (t) => {
    await s.call('POST', '/stream/layers', {
      id: 'rot',
      transform: { x: 110, y: 70, width: 100, height: 100, rotation: 45 },
      content: { type: 'color', color: '#ffffff' },
    });
    const p = await s.snapshot();
    near(t, p.at(160, 120).slice(0, 3), [255, 255, 255], 'centre');
    near(t, p.at(112, 72).slice(0, 3), BG, 'corner of the unrotated box is background');
    near(t, p.at(160, 52).slice(0, 3), [255, 255, 255], 'rotated corner pokes above the box');
    await s.call('DELETE', '/stream/layers/rot');
  });

  await t.test('the character layer animates: two frames differ', async (t) => {
    for (const animation of ['talking', 'idle']) {
      await s.call('POST', '/stream/layers', {
        id: 'host',
        transform: { x: 60, y: 20, height: 220 },
        content: {
          type: 'character',
          modelUrl: 'assets/characters/auctioneer.png',
          animations: { idle: 'idle-animation', talking: 'talking-animation' },
          animation,
        },
      });
      const a = await s.snapshot();
      const region = { x: 60, y: 20, w: 170, h: 220 };
      t.ok(countDifferent(a, region, BG) > 5000, `${animation}: the character is drawn`);
      await new Promise((r) => setTimeout(r, 400));
      const b = await s.snapshot();
      let changed = 0;
      for (let i = 0; i < a.data.length; i += 4) if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1]) changed++;
      t.ok(changed > 50, `${animation}: ${changed} pixels changed between frames 400 ms apart`);
      await s.call('DELETE', '/stream/layers/host');
    }
  });
});
