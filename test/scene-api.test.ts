import t from 'tap';
import { startServer } from './helpers/server.js';

t.test('layer API', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const ids = async (): Promise<string[]> => (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id);

  await t.test('create, read, replace, patch, delete', async (t) => {
    const created = await s.call('POST', '/stream/layers', { content: { type: 'color', color: 'red' } });
    t.equal(created.status, 201);
    t.match(created.body.id, /^[A-Za-z0-9_-]{1,64}$/, 'server assigns an id');
    t.same(
      { visible: created.body.visible, opacity: created.body.opacity, zIndex: created.body.zIndex, transform: created.body.transform },
      { visible: true, opacity: 1, zIndex: 0, transform: { x: 0, y: 0 } },
      'defaults filled in',
    );
    const id = created.body.id as string;
    t.same((await s.call('GET', `/stream/layers/${id}`)).body, created.body);
    t.same((await s.call('GET', `/api/stream/layers/${id}`)).body, created.body, 'also under /api/stream');

    const replaced = await s.call('PUT', `/stream/layers/${id}`, { name: 'box', content: { type: 'color', color: '#00ff00' } });
    t.equal(replaced.status, 200);
    t.equal(replaced.body.name, 'box');
    t.equal(replaced.body.content.color, '#00ff00');

    const patched = await s.call('PATCH', `/stream/layers/${id}`, { transform: { x: 5 }, opacity: 0.25 });
    t.same(patched.body.transform, { x: 5, y: 0 }, 'transform merged field by field');
    t.equal(patched.body.opacity, 0.25);
    t.equal(patched.body.name, 'box', 'untouched fields kept');

    const text = await s.call('PATCH', `/stream/layers/${id}`, {
      content: { type: 'text', content: 'hi', style: { font: 'Arial', fontSize: 12, color: '#fff' } },
    });
    t.equal(text.status, 200, 'changing content.type replaces the content');
    t.same(Object.keys(text.body.content).sort(), ['content', 'style', 'type']);

    const del = await s.call('DELETE', `/stream/layers/${id}`);
    t.equal(del.status, 204);
    t.equal((await s.call('GET', `/stream/layers/${id}`)).body.error.code, 'SM_ERR_LAYER_NOT_FOUND');
  });

  await t.test('the contract default layers fit the model as given', async (t) => {
    const host = await s.call('POST', '/stream/layers', {
      id: 'host',
      content: {
        type: 'character',
        modelUrl: 'assets/characters/auctioneer.png',
        animations: { idle: 'idle-animation', talking: 'talking-animation' },
      },
    });
    t.equal(host.status, 201, JSON.stringify(host.body));
    const overlay = await s.call('POST', '/stream/layers', {
      id: 'overlay',
      content: { type: 'text', content: 'Current Bid: 1.5 ETH', style: { font: 'Arial', fontSize: 24, color: '#ffffff' } },
    });
    t.equal(overlay.status, 201, JSON.stringify(overlay.body));
    const dup = await s.call('POST', '/stream/layers', { id: 'host', content: { type: 'color', color: 'red' } });
    t.equal(dup.status, 409);
    t.equal(dup.body.error.code, 'SM_ERR_LAYER_EXISTS');
  });

  await t.test('invalid payloads get 400 with a code and change nothing', async (t) => {
    const before = (await s.call('GET', '/stream/layers')).body;
    const bad: [string, string, unknown, string][] = [
      ['POST', '/stream/layers', { content: { type: 'color', color: 'not-a-colour' } }, 'content.color'],
      ['POST', '/stream/layers', { content: { type: 'hologram', src: 'x' } }, 'content.type'],
      ['POST', '/stream/layers', { id: 'has space', content: { type: 'color', color: 'red' } }, 'id'],
      ['POST', '/stream/layers', { content: { type: 'color', color: 'red' }, surprise: 1 }, ''],
      ['POST', '/stream/layers', { opacity: 2, content: { type: 'color', color: 'red' } }, 'opacity'],
      ['POST', '/stream/layers', { zIndex: 1.5, content: { type: 'color', color: 'red' } }, 'zIndex'],
      ['POST', '/stream/layers', { content: { type: 'image', src: '../etc/passwd' } }, 'content.src'],
      ['PATCH', '/stream/layers/overlay', { content: { style: { fontSize: -3 } } }, 'content.style.fontSize'],
      ['PATCH', '/stream/layers/overlay', { transform: { x: 'left' } }, 'transform.x'],
      ['PATCH', '/stream/layers/overlay', { id: 'other' }, 'id'],
      ['PATCH', '/stream/layers/overlay', [1, 2], ''],
      ['PUT', '/stream/layers/overlay', { id: 'nope', content: { type: 'color', color: 'red' } }, 'id'],
      ['PATCH', '/stream/layers/overlay/visibility', { visible: 'yes' }, 'visible'],
    ];
    for (const [method, path, body, field] of bad) {
      const res = await s.call(method, path, body);
      t.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      t.equal(res.body.error.code, 'SM_ERR_VALIDATION');
      t.type(res.body.error.message, 'string');
      if (field)
        t.ok(
          res.body.error.details.some((d: { path: string }) => d.path === field),
          `names ${field}: ${res.body.error.message}`,
        );
    }
    const missing = await s.call('POST', '/stream/layers', { content: { type: 'image', src: 'assets/nope.png' } });
    t.equal(missing.status, 400);
    t.equal(missing.body.error.code, 'SM_ERR_ASSET_NOT_FOUND');
    const json = await s.call('POST', '/stream/layers', '{"content": ');
    t.equal(json.status, 400);
    t.equal(json.body.error.code, 'SM_ERR_INVALID_JSON');
    t.same((await s.call('GET', '/stream/layers')).body, before, 'layer list unchanged');
  });

  await t.test('unknown ids and routes are 404 with a code', async (t) => {
    for (const [method, path] of [
      ['GET', '/stream/layers/ghost'],
      ['PATCH', '/stream/layers/ghost'],
      ['DELETE', '/stream/layers/ghost'],
      ['PATCH', '/stream/layers/ghost/visibility'],
    ]) {
      const res = await s.call(method!, path!, method === 'PATCH' ? {} : undefined);
      t.equal(res.status, 404, `${method} ${path}`);
      t.equal(res.body.error.code, 'SM_ERR_LAYER_NOT_FOUND');
    }
    const route = await s.call('GET', '/stream/nothing-here');
    t.equal(route.status, 404);
    t.equal(route.body.error.code, 'SM_ERR_NOT_FOUND');
    t.same(await ids(), ['host', 'overlay']);
  });

  await t.test('stream control state machine', async (t) => {
    const status = await s.call('GET', '/stream/status');
    t.same(
      Object.keys(status.body).sort(),
      ['averageRenderTime', 'droppedFrames', 'error', 'fps', 'frameCount', 'isLive', 'isPaused', 'outputs', 'startTime', 'targetFPS'],
      "the contract's fields, plus outputs (issue 8)",
    );
    t.same(status.body.outputs, [
      { id: 'main', url: null, state: 'stopped', restarts: 0, lastError: null, bytes: 0, bitrateBps: null, file: null },
    ]);
    t.equal((await s.call('POST', '/stream/stop')).body.error.code, 'SM_ERR_STREAM_NOT_LIVE');
    t.equal((await s.call('POST', '/stream/pause')).status, 409);
    const started = await s.call('POST', '/stream/start');
    t.equal(started.status, 200);
    t.equal(started.body.isLive, true);
    t.type(started.body.startTime, 'number');
    const again = await s.call('POST', '/stream/start');
    t.equal(again.status, 409);
    t.equal(again.body.error.code, 'SM_ERR_STREAM_LIVE');
    t.equal((await s.call('POST', '/stream/pause')).body.isPaused, true);
    t.equal((await s.call('POST', '/stream/pause')).body.error.code, 'SM_ERR_STREAM_PAUSED');
    t.equal((await s.call('POST', '/stream/resume')).body.isPaused, false);
    t.equal((await s.call('POST', '/stream/resume')).body.error.code, 'SM_ERR_STREAM_NOT_PAUSED');
    const stopped = await s.call('POST', '/stream/stop');
    t.equal(stopped.body.isLive, false);
    t.ok(stopped.body.frameCount > 0, 'frames went out');
    const reset = await s.call('POST', '/stream/reset');
    t.equal(reset.body.frameCount, 0);
    t.equal(reset.body.droppedFrames, 0);
  });

  await t.test('config: read, patch, refuse bad values', async (t) => {
    const cfg = await s.call('GET', '/stream/config');
    t.match(cfg.body, {
      width: 320,
      height: 240,
      targetFPS: 30,
      encoder: { preset: 'veryfast', keyframeIntervalSeconds: 2 },
      output: { url: null },
    });
    const patched = await s.call('PATCH', '/stream/config', { encoder: { bitrateKbps: 1200 }, background: '#112233' });
    t.equal(patched.status, 200);
    t.equal(patched.body.encoder.bitrateKbps, 1200);
    t.equal(patched.body.encoder.preset, 'veryfast', 'other encoder fields kept');
    for (const body of [
      { width: 321 },
      { targetFPS: 0 },
      { encoder: { preset: 'warp' } },
      { output: { url: 'ftp://x' } },
      { colour: 'red' },
    ]) {
      const res = await s.call('PATCH', '/stream/config', body);
      t.equal(res.status, 400, JSON.stringify(body));
      t.equal(res.body.error.code, 'SM_ERR_VALIDATION');
    }
    t.same((await s.call('GET', '/stream/config')).body, patched.body, 'config unchanged by refused patches');
  });

  await t.test('health', async (t) => {
    for (const path of ['/health', '/api/health', '/stream/health', '/api/stream/health']) {
      const res = await s.call('GET', path);
      t.equal(res.status, 200, path);
      t.equal(res.body.status, 'ok');
    }
  });
});
