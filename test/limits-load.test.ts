import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadConfig } from '../orchestrator/config/env.js';
import { REDIS_KEYS, RedisStore } from '../orchestrator/state/redis-store.js';
import { StateManager } from '../orchestrator/state/state-manager.js';
import { LIMITS } from '../shared/limits.js';
import { startChild } from './helpers/child-server.js';
import { startRedis } from './helpers/redis.js';

const MAX = LIMITS.layersPerScene;
const layer = (i: number): object => ({
  id: `l${i}`,
  zIndex: i,
  transform: { x: i % 300, y: 0, width: 2, height: 2 },
  content: { type: 'color', color: '#112233' },
});

t.test(
  `the scene's maximum (${MAX} layers): the next is refused; SIGTERM, restart: all there; one invalid stored layer costs only itself`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-limits-'));
    const data = join(dir, 'data');
    const env = {
      STATE_STORE: 'file',
      DATA_DIR: data,
      RECORDINGS_DIR: join(dir, 'rec'),
      AUTOSTART: 'false',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      DEFAULT_SCENE: 'empty',
    };
    const s = await startChild(env);
    for (let b = 0; b < MAX / LIMITS.batchOps; b++) {
      const ops = Array.from({ length: LIMITS.batchOps }, (_, k) => ({ op: 'create', layer: layer(b * LIMITS.batchOps + k) }));
      t.equal((await s.call('POST', '/stream/batch', { ops })).status, 200, `batch ${b}`);
    }
    const over = await s.call('POST', '/stream/layers', layer(MAX));
    t.equal(over.status, 409, `layer ${MAX + 1} is refused`);
    t.equal(over.body.error.code, 'SM_ERR_LIMIT_REACHED');
    t.match(over.body.error.message, new RegExp(`at most ${MAX}`));
    const batchOver = await s.call('POST', '/stream/batch', {
      ops: [
        { op: 'delete', id: 'l0' },
        { op: 'create', layer: layer(MAX) },
        { op: 'create', layer: layer(MAX + 1) },
      ],
    });
    t.equal(batchOver.status, 409, 'a batch that would end over the limit is refused whole');
    t.equal((await s.call('GET', '/stream/layers')).body.layers.length, MAX, 'nothing changed');
    t.equal((await s.call('PATCH', '/stream/data', { bid: 7 })).status, 200);
    t.equal((await s.call('POST', '/stream/outputs', { id: 'iso', kind: 'file', url: 'iso.mkv', enabled: false })).status, 201);
    t.equal((await s.call('PUT', '/stream/scenes/intro', { layers: [layer(1)] })).status, 200);
    const before = (await s.call('GET', '/stream/layers')).body.layers;
    t.equal(await s.stop('SIGTERM'), 0);

    const s2 = await startChild(env);
    t.same((await s2.call('GET', '/stream/layers')).body.layers, before, `all ${MAX} layers back, in order`);
    t.equal((await s2.call('GET', '/health')).body.store.loadProblems.count, 0, 'no load problems');
    t.equal(await s2.stop('SIGTERM'), 0);

    // One invalid layer in the stored document: only it is set aside.
    const file = join(data, 'state.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.layers[500].content.color = 'not-a-colour';
    writeFileSync(file, JSON.stringify(doc));
    const s3 = await startChild(env);
    t.teardown(() => s3.stop());
    const ids = (await s3.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id);
    t.equal(ids.length, MAX - 1, 'every other layer loaded');
    t.notOk(ids.includes(doc.layers[500].id), 'the invalid one is not');
    t.same((await s3.call('GET', '/stream/data')).body.data, { bid: 7 }, 'data intact');
    t.same(
      (await s3.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id),
      ['main', 'iso'],
      'outputs intact',
    );
    t.equal((await s3.call('GET', '/stream/scenes/intro')).status, 200, 'saved scenes intact');
    const health = (await s3.call('GET', '/health')).body;
    t.equal(health.store.loadProblems.count, 1, '/health counts the problem');
    t.match(health.store.loadProblems.items[0], { path: 'layers.500.content.color', setAsideTo: /state\.json\.corrupt-/ }, 'and names it');
    const line = s3
      .output()
      .split('\n')
      .find((l) => l.includes('stored state is invalid'));
    t.match(line, /"level":50/, 'logged as an error');
    t.match(line, /"path":"layers\.500\.content\.color"/, 'naming the field');
    t.ok(
      readdirSync(data).some((f) => f.startsWith('state.json.corrupt-')),
      'the document as it was is kept aside',
    );
    t.equal(await s3.stop('SIGTERM'), 0);
    t.equal(JSON.parse(readFileSync(file, 'utf8')).layers.length, MAX - 1, 'the valid state was written back');

    // A document from before the limit was enforced on writes (1100 layers): the first 1000 load.
    writeFileSync(
      file,
      JSON.stringify({ ...doc, layers: Array.from({ length: 1100 }, (_, i) => ({ ...layer(i), name: '', visible: true, opacity: 1 })) }),
    );
    const s4 = await startChild(env);
    t.teardown(() => s4.stop());
    t.equal((await s4.call('GET', '/stream/layers')).body.layers.length, MAX, `${MAX} of 1100 loaded`);
    t.equal(
      (await s4.call('GET', '/health')).body.store.loadProblems.count,
      100,
      'the 100 over the limit are reported (and kept in the set-aside copy)',
    );
  },
);

t.test('Redis load: an invalid layer in the live scene and in a saved scene costs only that layer', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const log = pino({ level: 'silent' });
  const store = new RedisStore(redis.url, 'll:', log);
  await store.connect();
  const good = { ...layer(1), name: '', visible: true, opacity: 1 };
  await store.redis.set(`ll:${REDIS_KEYS.layers}`, JSON.stringify([good, { ...good, id: 'bad', opacity: 9 }, { ...good, id: 'l2' }]));
  await store.redis.set(`ll:${REDIS_KEYS.scenes}`, JSON.stringify({ active: 'a', scenes: { a: [good, { id: 'x' }], b: [good] } }));
  await store.redis.set(`ll:${REDIS_KEYS.data}`, JSON.stringify({ bid: 3, 'bad key': 1 }));
  const state = new StateManager({ store, defaults: { config: loadConfig({}).stream, layers: [] }, log });
  t.teardown(() => state.close());
  const { problems } = await state.load();
  t.same(
    state.scene.list().map((l) => l.id),
    ['l1', 'l2'],
    'valid layers kept',
  );
  t.same(Object.keys(state.scenes.scenes).sort(), ['a', 'b'], 'both saved scenes kept');
  t.equal(state.scenes.scenes['a']!.length, 1, 'without their invalid layer');
  t.equal(state.scenes.active, 'a');
  t.same(state.data, { bid: 3 }, 'valid data kept');
  t.equal(problems.length, 3, 'three problems');
  t.equal(state.health().loadProblems.count, 3);
  t.equal(await store.redis.exists(`ll:${REDIS_KEYS.layers}:corrupt`), 1, 'the stored layers are kept aside as they were');
  await state.flush();
  t.equal(JSON.parse((await store.redis.get(`ll:${REDIS_KEYS.layers}`))!).length, 2, 'and the valid state written back');
});

t.test(
  `saved scenes: at most ${LIMITS.savedScenes}, and ${LIMITS.savedSceneLayers} layers in all of them; a stored document past either loads up to it`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-limits-scenes-'));
    const data = join(dir, 'data');
    const env = {
      STATE_STORE: 'file',
      DATA_DIR: data,
      RECORDINGS_DIR: join(dir, 'rec'),
      AUTOSTART: 'false',
      WORKERS: '1',
      LOG_LEVEL: 'warn',
      DEFAULT_SCENE: 'empty',
    };
    const s = await startChild(env);
    t.teardown(() => s.stop());
    // Nine scenes of 1000 layers and one of 999: 9999 layers, one short of the total.
    const full = Array.from({ length: MAX }, (_, i) => layer(i));
    for (let i = 0; i < 9; i++) t.equal((await s.call('PUT', `/stream/scenes/big${i}`, { layers: full })).status, 200, `big${i} saved`);
    t.equal(
      (await s.call('PUT', '/stream/scenes/big9', { layers: full.slice(0, MAX - 1) })).status,
      200,
      'big9 saved (9999 layers in all)',
    );
    const tooMany = await s.call('PUT', '/stream/scenes/big10', { layers: [layer(0), layer(1)] });
    t.equal(tooMany.status, 409, 'two more layers would pass the total');
    t.match(tooMany.body, { error: { code: 'SM_ERR_LIMIT_REACHED', details: { limit: 'savedSceneLayers' } } });
    t.equal(
      (await s.call('PUT', '/stream/scenes/big9', { layers: full })).status,
      200,
      'replacing a scene counts its new layers only: 10000 exactly',
    );
    t.equal((await s.call('GET', '/stream/scenes/big10')).status, 404, 'the refused scene was not saved');
    for (let i = 0; i < 10; i++) t.equal((await s.call('DELETE', `/stream/scenes/big${i}`)).status, 204);
    for (let i = 0; i < LIMITS.savedScenes; i++)
      if ((await s.call('PUT', `/stream/scenes/s${i}`, { layers: [layer(i)] })).status !== 200) t.fail(`s${i} not saved`);
    const over = await s.call('PUT', '/stream/scenes/one-more', { layers: [layer(1)] });
    t.equal(over.status, 409, `scene ${LIMITS.savedScenes + 1} is refused`);
    t.match(over.body, { error: { code: 'SM_ERR_LIMIT_REACHED', details: { limit: 'savedScenes' } } });
    t.equal((await s.call('PUT', '/stream/scenes/s0', { layers: [layer(2)] })).status, 200, 'an existing one can still be replaced');
    t.equal(await s.stop('SIGTERM'), 0);

    // A stored document from before the caps: 105 scenes; the first 100 load, 5 are reported.
    const file = join(data, 'state.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    for (let i = 0; i < 5; i++) doc.scenes.scenes[`extra${i}`] = [{ ...layer(i), name: '', visible: true, opacity: 1 }];
    writeFileSync(file, JSON.stringify(doc));
    const s2 = await startChild(env);
    t.teardown(() => s2.stop());
    const names = (await s2.call('GET', '/stream/scenes')).body.scenes
      .filter((x: { template: boolean }) => !x.template)
      .map((x: { name: string }) => x.name);
    t.equal(names.length, LIMITS.savedScenes, `${LIMITS.savedScenes} saved scenes loaded`);
    t.notOk(
      names.some((n: string) => n.startsWith('extra')),
      'the ones past the cap (last in stored order) were set aside',
    );
    t.equal((await s2.call('GET', '/health')).body.store.loadProblems.count, 5, 'and reported');
  },
);
