import sharp from 'sharp';
import t from 'tap';
import { startServer, type TestServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

/**
 * Regression tests for issue 28 item 7 (small defects of the HTTP API), against a real in-process
 * server: `POST /stream/reset` zeroes the measured fps; a layer whose asset was deleted with
 * `?force=true` can still be patched; a 405 (and a 501) is the JSON error shape with `Allow`.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function upload(s: TestServer, rgb: [number, number, number], name: string): Promise<string> {
  const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png]), name);
  const res = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form });
  const body = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

const near = (a: number[], b: number[], tol = 12): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

t.test('small API defects (issue 28, item 7)', async (t) => {
  const s = await startServer({ FPS: '20' });
  t.teardown(() => s.close());

  await t.test('POST /stream/reset reads fps 0, while live and after a stop', async (t) => {
    for (const stopFirst of [false, true]) {
      t.equal((await s.call('POST', '/stream/start')).status, 200);
      await sleep(1600);
      const live = (await s.call('GET', '/stream/status')).body;
      t.ok(live.fps > 5, `live: ${live.fps} fps measured`);
      if (stopFirst) t.equal((await s.call('POST', '/stream/stop')).body.fps, 0, 'a stop reads fps 0');
      const reset = await s.call('POST', '/stream/reset');
      t.equal(reset.status, 200);
      t.match(
        reset.body,
        { isLive: false, fps: 0, frameCount: 0, droppedFrames: 0, targetFPS: 20 },
        `reset${stopFirst ? ' after a stop' : ' while live'}: the answer`,
      );
      t.equal((await s.call('GET', '/stream/status')).body.fps, 0, 'and the status after it');
    }
  });

  await t.test(
    'a layer whose asset was deleted with force can be hidden, renamed, moved, shown (fails alone) and given a new asset',
    async (t) => {
      const ws = await connect(`${s.base.replace('http', 'ws')}/stream/ws`);
      t.teardown(() => ws.close());
      const red = await upload(s, [255, 0, 0], 'red.png');
      const green = await upload(s, [0, 255, 0], 'green.png');
      t.equal(
        (
          await s.call('POST', '/stream/layers', {
            id: 'pic',
            name: 'Red',
            transform: { x: 20, y: 20 },
            content: { type: 'image', src: red },
          })
        ).status,
        201,
      );
      t.ok(near((await s.snapshot()).at(40, 40), [255, 0, 0, 255]), 'the picture shows');

      const forced = await s.call('DELETE', `/stream/assets/${red}?force=true`);
      t.equal(forced.status, 200);
      t.same(forced.body.hiddenLayers, ['pic'], 'force hid the layer');

      const renamed = await s.call('PATCH', '/stream/layers/pic', { name: 'Gone' });
      t.equal(renamed.status, 200, `rename: ${JSON.stringify(renamed.body)}`);
      t.equal(renamed.body.name, 'Gone');
      const moved = await s.call('PATCH', '/stream/layers/pic', { transform: { x: 100, y: 100 }, zIndex: 3 });
      t.equal(moved.status, 200, `move: ${JSON.stringify(moved.body)}`);
      t.match(moved.body, { transform: { x: 100, y: 100 }, zIndex: 3 });
      t.equal((await s.call('PATCH', '/stream/layers/pic/visibility', { visible: false })).status, 200, 'hide (visibility route)');
      t.equal((await s.call('PATCH', '/stream/layers/pic', { visible: false })).status, 200, 'hide (patch)');
      t.equal(
        (await s.call('POST', '/stream/batch', { ops: [{ op: 'patch', id: 'pic', patch: { name: 'Batched' } }] })).status,
        200,
        'a batch patch',
      );
      const doc = (await s.call('GET', '/stream/scene')).body;
      t.equal((await s.call('PUT', '/stream/scene', doc)).status, 200, 'the scene as GET gives it goes back with PUT');

      const other = await s.call('PATCH', '/stream/layers/pic', { content: { src: 'f'.repeat(64) } });
      t.equal(other.status, 400, 'a new missing asset is still refused');
      t.equal(other.body.error.code, 'SM_ERR_ASSET_NOT_FOUND');
      const created = await s.call('POST', '/stream/layers', { id: 'pic2', content: { type: 'image', src: red } });
      t.equal(created.status, 400, 'and so is a new layer with the deleted asset');
      t.equal(created.body.error.code, 'SM_ERR_ASSET_NOT_FOUND');

      // Shown again without an asset: the layer fails alone (layerError), the stream goes on.
      t.equal((await s.call('POST', '/stream/start')).status, 200);
      t.teardown(() => s.call('POST', '/stream/stop'));
      const shown = await s.call('PATCH', '/stream/layers/pic', { visible: true });
      t.equal(shown.status, 200, 'show again');
      const fault = await ws.next('layerError', 8000);
      t.match(fault.payload, { id: 'pic' }, 'it renders as failed: layerError');
      const f0 = (await s.call('GET', '/stream/status')).body.frameCount;
      await sleep(600);
      t.ok((await s.call('GET', '/stream/status')).body.frameCount > f0 + 5, 'the program keeps going');
      t.same((await s.snapshot()).at(120, 120).slice(0, 3), [0, 0, 0], 'nothing drawn for it');

      const fixed = await s.call('PATCH', '/stream/layers/pic', { content: { src: green } });
      t.equal(fixed.status, 200, 'given a new asset');
      await sleep(500);
      t.ok(
        near((await s.snapshot()).at(120, 120), [0, 255, 0, 255]),
        `the new asset shows: ${(await s.snapshot()).at(120, 120).join(',')}`,
      );
      const refused = await s.call('PATCH', '/stream/layers/pic', { content: { src: red } });
      t.equal(refused.status, 400, 'going back to the deleted asset is a new missing asset: refused');
    },
  );

  await t.test('405 and 501 are the JSON error shape with an Allow header', async (t) => {
    for (const [method, path] of [
      ['PUT', '/stream/status'],
      ['PUT', '/api/stream/layers'],
      ['POST', '/stream/layers/x'],
      ['DELETE', '/stream/config'],
    ] as const) {
      const res = await fetch(s.base + path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
      const body = (await res.json().catch(() => null)) as {
        error: { code: string; message: string; details: { allow: string[] } };
      } | null;
      t.equal(res.status, 405, `${method} ${path}`);
      t.match(res.headers.get('content-type'), /^application\/json/, 'JSON');
      t.equal(body?.error.code, 'SM_ERR_METHOD_NOT_ALLOWED');
      t.match(body?.error.message, method);
      const allow = res.headers.get('allow') ?? '';
      t.ok(allow.includes('GET'), `Allow: ${allow}`);
      t.same(body?.error.details.allow, allow.split(/,\s*/), 'details.allow is the Allow header');
    }
    const res = await fetch(`${s.base}/stream/status`, { method: 'PROPFIND' });
    t.equal(res.status, 501, 'an unknown method: 501');
    t.match(res.headers.get('content-type'), /^application\/json/);
    t.equal(((await res.json()) as { error: { code: string } }).error.code, 'SM_ERR_NOT_IMPLEMENTED');
    t.match(res.headers.get('allow'), /GET/);
  });
});
