import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fillTemplate, placeholderKeys } from '../shared/data-binding.js';
import { connect } from './helpers/ws-client.js';
import { startServer, type Pixels } from './helpers/server.js';

/** Data-bound text (`PATCH /stream/data`) and atomic batches (`POST /stream/batch`). */

const STYLE = { font: 'Arial', fontSize: 20, color: '#ffffff' };

/** Pixels of a region that differ by more than 40 in some channel between two images. */
function changedPixels(a: Pixels, b: Pixels, y0: number, width: number, height: number): number {
  let n = 0;
  for (let y = y0; y < y0 + height; y++) {
    for (let x = 0; x < width; x++) {
      const p = a.at(x, y);
      const q = b.at(x, y);
      if (Math.abs(p[0]! - q[0]!) > 40 || Math.abs(p[1]! - q[1]!) > 40 || Math.abs(p[2]! - q[2]!) > 40) n++;
    }
  }
  return n;
}

/** Mean absolute difference of two regions (same size) of two images, per channel. */
function regionDiff(a: Pixels, ay: number, b: Pixels, by: number, width: number, height: number): number {
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = a.at(x, ay + y);
      const q = b.at(x, by + y);
      for (let c = 0; c < 3; c++) sum += Math.abs(p[c]! - q[c]!);
    }
  }
  return sum / (width * height * 3);
}

t.test('templates', async (t) => {
  const data = { bid: 1.7, big: 12345.7, who: 'Ada', open: true };
  t.equal(fillTemplate('Current Bid: {bid} ETH', data), 'Current Bid: 1.7 ETH');
  t.equal(fillTemplate('{bid:.2}', data), '1.70');
  t.equal(fillTemplate('{big:,.2}', data), '12,345.70');
  t.equal(fillTemplate('{big:,}', data), '12,345.7');
  t.equal(fillTemplate('{who} {open}', data), 'Ada true');
  t.equal(fillTemplate('{missing} stays', data), '{missing} stays', 'an unknown key stays visible');
  t.equal(fillTemplate('{{bid}} is {bid}', data), '{bid} is 1.7', 'doubled braces are literal');
  t.same(placeholderKeys('{a} {b:.1} {{c}}'), ['a', 'b']);
});

t.test('PATCH /stream/data fills every bound text layer', async (t) => {
  const s = await startServer({ WIDTH: '320', HEIGHT: '120' });
  t.teardown(() => s.close());
  for (const [id, y, content] of [
    ['literal', 10, 'Current Bid: 1.70 ETH'],
    ['bound', 60, 'Current Bid: {bid:.2} ETH'],
  ] as const) {
    t.equal(
      (await s.call('POST', '/stream/layers', { id, transform: { x: 10, y }, content: { type: 'text', content, style: STYLE } })).status,
      201,
    );
  }
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws`);
  t.teardown(() => ws.close());
  await ws.next('stateUpdate');

  const res = await s.call('PATCH', '/stream/data', { bid: 1.7, lot: 'Lot 7' });
  t.equal(res.status, 200);
  t.same(res.body.data, { bid: 1.7, lot: 'Lot 7' });
  t.same((await ws.next('dataUpdate')).payload.data, { bid: 1.7, lot: 'Lot 7' }, 'WS dataUpdate');
  let shot = await s.snapshot();
  t.ok(regionDiff(shot, 10, shot, 60, 320, 40) < 0.5, 'the bound layer renders exactly like the literal text');

  t.equal((await s.call('PATCH', '/stream/data', { bid: 2.25 })).status, 200);
  shot = await s.snapshot();
  t.ok(regionDiff(shot, 10, shot, 60, 320, 40) > 2, 'a new bid: the bound text differs from the literal 1.70');
  t.equal((await s.call('GET', '/stream/layers/bound')).body.content.content, 'Current Bid: {bid:.2} ETH', 'the layer keeps its template');

  for (const bad of [{ 'bad key': 1 }, { bid: { nested: 1 } }, [1], { bid: 'x'.repeat(300) }, 'text']) {
    const r = await s.call('PATCH', '/stream/data', bad);
    t.equal(r.status, 400, `refused: ${JSON.stringify(bad).slice(0, 30)}`);
  }
  t.same((await s.call('GET', '/stream/data')).body.data, { bid: 2.25, lot: 'Lot 7' }, 'refusals changed nothing');
  t.same((await s.call('PATCH', '/stream/data', { lot: null })).body.data, { bid: 2.25 }, 'null removes a key');
});

t.test('live: a data change is in the composited frame within one frame interval + 100 ms', async (t) => {
  const s = await startServer({ WIDTH: '320', HEIGHT: '120', FPS: '30' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/layers', {
    id: 'bid',
    transform: { x: 10, y: 40 },
    content: { type: 'text', content: 'Current Bid: {bid} ETH', style: STYLE },
  });
  await s.call('PATCH', '/stream/data', { bid: 1 });
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  await new Promise((r) => setTimeout(r, 1000));
  const times: number[] = [];
  for (let i = 2; i < 7; i++) {
    const before = await s.snapshot();
    const t0 = performance.now();
    await s.call('PATCH', '/stream/data', { bid: i });
    for (;;) {
      const now = await s.snapshot();
      if (changedPixels(before, now, 40, 320, 40) > 10) break;
      if (performance.now() - t0 > 2000) throw new Error('the new bid never showed');
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[2]!;
  t.ok(
    median <= 1000 / 30 + 100,
    `PATCH -> snapshot showing it: median ${median.toFixed(1)} ms of ${times.map((x) => x.toFixed(0)).join(', ')} (bound ${(1000 / 30 + 100).toFixed(0)} ms)`,
  );
  await s.call('POST', '/stream/stop');
});

t.test('POST /stream/batch: all or nothing, on one frame boundary', async (t) => {
  const s = await startServer({ WIDTH: '320', HEIGHT: '120' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/layers', {
    id: 'red',
    transform: { x: 0, y: 0, width: 100, height: 100 },
    content: { type: 'color', color: '#ff0000' },
  });
  await s.call('POST', '/stream/layers', {
    id: 'old',
    transform: { x: 200, y: 0, width: 100, height: 100 },
    content: { type: 'color', color: '#0000ff' },
  });
  const before = (await s.call('GET', '/stream/scene')).body;
  const events: string[] = [];
  s.app.scene.on('change', (e) => events.push(e.type));

  const bad = await s.call('POST', '/stream/batch', {
    ops: [
      { op: 'patch', id: 'red', patch: { opacity: 0.5 } },
      { op: 'create', layer: { id: 'green', content: { type: 'color', color: '#00ff00' } } },
      { op: 'patch', id: 'red', patch: { opacity: 7 } },
    ],
  });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.details.index, 2, 'the error names the failing operation');
  t.match(bad.body.error.message, /^ops\[2\] \(patch\)/);
  t.same((await s.call('GET', '/stream/scene')).body.layers, before.layers, 'nothing changed');
  t.same(events, [], 'no change events went out');
  t.equal((await s.call('POST', '/stream/batch', { ops: [{ op: 'delete', id: 'nope' }] })).status, 404);
  t.equal((await s.call('POST', '/stream/batch', { ops: [] })).status, 400);

  let seenBeforeNextTask = -1;
  s.app.scene.once('change', () => setImmediate(() => (seenBeforeNextTask = events.length)));
  const ok = await s.call('POST', '/stream/batch', {
    ops: [
      { op: 'patch', id: 'red', patch: { content: { color: '#00ff00' } } },
      {
        op: 'create',
        layer: { id: 'white', transform: { x: 110, y: 0, width: 80, height: 100 }, content: { type: 'color', color: '#ffffff' } },
      },
      { op: 'delete', id: 'old' },
      { op: 'visibility', id: 'white', visible: true },
    ],
  });
  t.equal(ok.status, 200);
  t.same(
    ok.body.results.map((r: { id: string }) => r.id),
    ['red', 'white', 'old', 'white'],
  );
  t.same(events, ['layerUpdated', 'layerAdded', 'layerRemoved', 'layerUpdated']);
  t.equal(seenBeforeNextTask, 4, 'all four changes were made before any other task (so before any frame) could run');
  const shot = await s.snapshot();
  t.same(shot.at(50, 50).slice(0, 3), [0, 255, 0], 'red became green');
  t.same(shot.at(150, 50).slice(0, 3), [255, 255, 255], 'white was added');
  t.same(shot.at(250, 50).slice(0, 3), [0, 0, 0], 'old was removed');
});

t.test('the data persists across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-data-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STATE_STORE: 'file', DATA_DIR: dir };
  const a = await startServer(env);
  await a.call('PATCH', '/stream/data', { bid: 3.5 });
  await a.close();
  const b = await startServer(env);
  t.teardown(() => b.close());
  t.same((await b.call('GET', '/stream/data')).body.data, { bid: 3.5 });
});
