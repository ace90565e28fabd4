import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import t from 'tap';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { startRedis } from './helpers/redis.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Builds a scene worth keeping, goes live, and returns the scene document. */
async function buildScene(s: ChildServer): Promise<unknown> {
  t.equal(
    (await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Current Bid: 7.7 ETH' }, transform: { x: 12 } })).status,
    200,
  );
  t.equal(
    (
      await s.call('POST', '/stream/layers', {
        id: 'logo',
        zIndex: 40,
        transform: { x: 5, y: 5, width: 30, height: 30 },
        content: { type: 'color', color: '#e94560' },
      })
    ).status,
    201,
  );
  t.equal((await s.call('POST', '/stream/layers/host/visibility')).body.visible, false);
  t.equal((await s.call('PATCH', '/stream/config', { background: '#223344', encoder: { bitrateKbps: 1800 } })).status, 200);
  const started = await s.call('POST', '/stream/start');
  t.equal(started.status, 200);
  await sleep(500);
  const scene = (await s.call('GET', '/stream/scene')).body;
  const config = (await s.call('GET', '/stream/config')).body;
  return { canvas: scene.canvas, layers: scene.layers, config };
}

async function restartKeepsEverything(t: Tap, env: Record<string, string>): Promise<void> {
  const first = await startChild({ AUTOSTART: 'false', ...env });
  const before = await buildScene(first);
  t.equal(await first.stop('SIGTERM'), 0, 'clean exit');
  const second = await startChild({ AUTOSTART: 'false', ...env });
  t.teardown(() => second.stop());
  const scene = (await second.call('GET', '/stream/scene')).body;
  const config = (await second.call('GET', '/stream/config')).body;
  t.same({ canvas: scene.canvas, layers: scene.layers, config }, before, 'scene and config deep-equal after restart');
  const status = (await second.call('GET', '/stream/status')).body;
  t.equal(status.isLive, true, 'the live stream resumed (RESUME_ON_START)');
  await sleep(700);
  t.ok((await second.call('GET', '/stream/status')).body.frameCount > 5, 'and frames flow');
}
type Tap = typeof t;

t.test('restart (real child process), file store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-restart-'));
  await restartKeepsEverything(t as unknown as Tap, { STATE_STORE: 'file', DATA_DIR: join(dir, 'data'), RECORDINGS_DIR: join(dir, 'rec') });
  const doc = JSON.parse(readFileSync(join(dir, 'data', 'state.json'), 'utf8'));
  t.equal(doc.layers.find((l: { id: string }) => l.id === 'overlay').content.content, 'Current Bid: 7.7 ETH', 'state.json holds the scene');
});

t.test('restart (real child process), redis store', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'sm-restart-'));
  await restartKeepsEverything(t as unknown as Tap, {
    STATE_STORE: 'redis',
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'rs:',
    RECORDINGS_DIR: join(dir, 'rec'),
  });
});

t.test(
  'redis killed mid-run: streaming goes on, changes refused (503, nothing changed), health degraded, state back in Redis within 2 s',
  async (t) => {
    const redis = await startRedis();
    t.teardown(() => redis.stop());
    const dir = mkdtempSync(join(tmpdir(), 'sm-outage-'));
    const s = await startChild({
      STATE_STORE: 'redis',
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'out:',
      RECORDINGS_DIR: join(dir, 'rec'),
      AUTOSTART: 'true',
    });
    t.teardown(() => s.stop());
    t.equal((await s.call('GET', '/health')).body.store.status, 'ok');
    t.equal(
      (await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid before outage: 8 ETH' } })).status,
      200,
      'a change, stored before the outage',
    );
    await redis.kill();
    await sleep(300);
    const f0 = (await s.call('GET', '/stream/status')).body.frameCount;
    // A 2xx promises the change is stored: with Redis down it cannot be, so it is refused and changes nothing.
    const patched = await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid during outage: 9 ETH' } });
    t.equal(patched.status, 503, 'a change is refused while Redis is down');
    t.equal(patched.body.error.code, 'SM_ERR_STORE_UNAVAILABLE');
    t.match(patched.body.error.message, /nothing was changed/);
    t.equal((await s.call('GET', '/stream/layers/overlay')).body.content.content, 'Bid before outage: 8 ETH', 'nothing changed');
    await sleep(1000);
    const status = (await s.call('GET', '/stream/status')).body;
    t.ok(status.frameCount > f0 + 20, `still streaming (${f0} -> ${status.frameCount} frames)`);
    t.equal(status.isLive, true);
    const health = (await s.call('GET', '/health')).body;
    t.equal(health.status, 'degraded');
    t.match(health.store, { kind: 'redis', status: 'degraded', connected: false });

    // Redis comes back empty (no persistence): the node notices the missing epoch and writes its whole state back.
    await redis.restart();
    const back = Date.now();
    const client = new Redis(redis.url);
    t.teardown(() => client.disconnect());
    let found = false;
    while (Date.now() - back < 2000) {
      const layers = await client.get('out:scene:layers');
      if (layers?.includes('Bid before outage: 8 ETH')) {
        found = true;
        break;
      }
      await sleep(50);
    }
    t.ok(found, `the whole state in Redis ${Date.now() - back} ms after it came back`);
    await sleep(300);
    t.equal((await s.call('GET', '/health')).body.status, 'ok', 'health ok again');
    t.equal(
      (await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid after outage: 10 ETH' } })).status,
      200,
      'changes accepted again',
    );
    t.match(await client.get('out:scene:layers'), /Bid after outage: 10 ETH/, 'and in Redis when answered');
  },
);

t.test('booted while Redis was down: when it comes back, the stored scene and outputs are adopted and kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-late-'));
  const redis = await startRedis(dir);
  t.teardown(() => redis.stop());
  const env = { STATE_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'late:', RECORDINGS_DIR: join(dir, 'rec'), AUTOSTART: 'false' };
  const first = await startChild(env);
  t.equal((await first.call('POST', '/stream/outputs', { id: 'iso', kind: 'file', url: 'takes/iso.mkv', enabled: false })).status, 201);
  t.equal((await first.call('PATCH', '/stream/layers/overlay', { content: { content: 'Stored bid: 3 ETH' } })).status, 200);
  t.equal((await first.call('POST', '/stream/preview/layers', { id: 'cued', content: { type: 'color', color: '#00ff00' } })).status, 201);
  await sleep(300);
  t.equal(await first.stop('SIGTERM'), 0);
  const client = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => 100 });
  t.teardown(() => client.disconnect());
  await client.connect();
  await client.save();
  await redis.kill();

  const s = await startChild(env);
  t.teardown(() => s.stop());
  t.same(
    (await s.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id),
    ['main'],
    'booted on defaults',
  );
  // A viewer connected meanwhile is told about both scenes the store brings back.
  const ws = await connect(`${s.base.replace('http', 'ws')}/stream/ws?target=layers`);
  t.teardown(() => ws.close());
  const told = { program: false, preview: false };
  ws.ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as { type: string; payload: { id?: string; layer?: { content?: { content?: string } } } };
    if (m.type === 'layerUpdate' && m.payload.layer?.content?.content === 'Stored bid: 3 ETH') told.program = true;
    if (m.type === 'previewLayerUpdate' && m.payload.id === 'cued' && m.payload.layer) told.preview = true;
  });
  await redis.restart();
  let ids: string[] = [];
  for (let i = 0; i < 60 && !ids.includes('iso'); i++) {
    await sleep(100);
    ids = (await s.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id);
  }
  t.same(ids, ['main', 'iso'], 'the stored output is back in /outputs');
  t.equal((await s.call('GET', '/stream/layers/overlay')).body.content.content, 'Stored bid: 3 ETH', 'the stored scene is adopted');
  t.equal((await s.call('GET', '/stream/preview/layers/cued')).status, 200, 'and the stored preview scene');
  for (let i = 0; i < 20 && !(told.program && told.preview); i++) await sleep(100);
  t.same(told, { program: true, preview: true }, 'the WS viewer got the stored layers (layerUpdate, previewLayerUpdate)');
  t.equal((await s.call('POST', '/stream/outputs', { id: 'web', kind: 'hls', enabled: false })).status, 201);
  let stored: string[] = [];
  for (let i = 0; i < 40 && stored.length < 2; i++) {
    await sleep(50);
    stored = (JSON.parse((await client.get('late:stream:outputs')) ?? '[]') as { id: string }[]).map((o) => o.id);
  }
  t.same(stored, ['iso', 'web'], 'the next output change keeps the stored one in Redis');
});

t.test('a torn stored document: the server starts on defaults and logs what was wrong', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-torn-'));
  const data = join(dir, 'data');
  const first = await startChild({ STATE_STORE: 'file', DATA_DIR: data, AUTOSTART: 'false' });
  await first.stop();
  writeFileSync(join(data, 'state.json'), '{"version": 12, "config": {"width": 320, "hei');
  const s = await startChild({ STATE_STORE: 'file', DATA_DIR: data, AUTOSTART: 'false' });
  t.teardown(() => s.stop());
  const ids = (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id);
  t.same(ids, ['background', 'host', 'overlay'], 'default scene');
  const line = s
    .output()
    .split('\n')
    .find((l) => l.includes('stored state is invalid'));
  t.ok(line, 'logged');
  t.match(line, /state\.json/, 'names the file');
  t.match(line, /Not valid JSON/, 'says what was wrong');
  t.ok(
    readdirSync(data).some((f) => f.startsWith('state.json.corrupt-')),
    'the torn file was set aside',
  );
  // Stop it first: a running server owns state.json and would write its state over ours.
  t.equal(await s.stop(), 0);

  writeFileSync(join(data, 'state.json'), JSON.stringify({ version: 1, config: { width: 'wide' }, layers: [], assets: {}, stream: {} }));
  const s2 = await startChild({ STATE_STORE: 'file', DATA_DIR: data, AUTOSTART: 'false' });
  t.teardown(() => s2.stop());
  t.match(s2.output(), /"path":"config.width"/, 'an invalid field is named by its path');
  t.equal((await s2.call('GET', '/stream/config')).body.width, 320, 'defaults used');
});

t.test('HTTP: ETags, If-Match, concurrent PATCHes, scene export/import', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const get = await fetch(`${s.base}/stream/layers/overlay`);
  const etag = get.headers.get('etag')!;
  t.match(etag, /^"\d+"$/);
  const patch = (text: string): Promise<Response> =>
    fetch(`${s.base}/stream/layers/overlay`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': etag },
      body: JSON.stringify({ content: { content: text } }),
    });
  const [a, b] = await Promise.all([patch('Bid from admin A'), patch('Bid from admin B')]);
  t.same([a.status, b.status].sort(), [200, 412], 'exactly one wins');
  const loser = a.status === 412 ? a : b;
  t.equal(((await loser.json()) as { error: { code: string } }).error.code, 'SM_ERR_PRECONDITION_FAILED');
  const winner = a.status === 200 ? 'Bid from admin A' : 'Bid from admin B';
  t.equal((await s.call('GET', '/stream/layers/overlay')).body.content.content, winner, 'the loser changed nothing');
  const del = await fetch(`${s.base}/stream/layers/overlay`, { method: 'DELETE', headers: { 'if-match': etag } });
  t.equal(del.status, 412, 'DELETE with a stale If-Match');
  const put = await fetch(`${s.base}/stream/layers/overlay`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ content: { type: 'color', color: 'red' } }),
  });
  t.equal(put.status, 412, 'PUT with a stale If-Match');

  const exported = await fetch(`${s.base}/stream/scene`);
  const doc = (await exported.json()) as { version: number; canvas: { width: number }; layers: { id: string }[] };
  t.equal(exported.headers.get('etag'), `"${doc.version}"`);
  t.same(
    doc.layers.map((l) => l.id),
    ['background', 'host', 'overlay'],
  );
  const imported = {
    canvas: { ...doc.canvas, background: '#000000' },
    layers: [doc.layers[2]!, { id: 'box', content: { type: 'color', color: '#00ff00' }, transform: { x: 0, y: 0, width: 10, height: 10 } }],
  };
  const bad = await s.call('PUT', '/stream/scene', { ...imported, layers: [...imported.layers, imported.layers[0]] });
  t.equal(bad.status, 400, 'duplicate ids refused');
  t.same(
    (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id),
    ['background', 'host', 'overlay'],
    'nothing changed',
  );
  const stale = await fetch(`${s.base}/stream/scene`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'if-match': `"${doc.version - 1}"` },
    body: JSON.stringify(imported),
  });
  t.equal(stale.status, 412);
  const ok = await s.call('PUT', '/stream/scene', imported);
  t.equal(ok.status, 200);
  t.same(
    ok.body.layers.map((l: { id: string }) => l.id),
    ['box', 'overlay'],
    'listed in z-order',
  );
  const p = await s.snapshot();
  t.same(p.at(2, 2).slice(0, 3), [0, 255, 0], 'the imported scene renders');
  t.same(p.at(300, 200).slice(0, 3), [0, 0, 0], 'with the imported background');
});
