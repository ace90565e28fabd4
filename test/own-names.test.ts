import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { z } from 'zod';
import { ownRecord, ownValue } from '../shared/own-record.js';
import { ScenesStateSchema } from '../shared/scenes.js';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { startRedis } from './helpers/redis.js';
import { startServer } from './helpers/server.js';

/**
 * Names that are also properties of Object.prototype (`constructor`, `toString`, ...) or its
 * accessor (`__proto__`) are names like any other in every collection keyed by a user-chosen name:
 * saved scenes, output ids, data keys. Absent: 404; saved, listed, activated, deleted, and
 * restored after a real restart of a child server with the file store.
 */

const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'] as const;
const COLORS: Record<(typeof NAMES)[number], [number, number, number]> = {
  constructor: [255, 0, 0],
  __proto__: [0, 255, 0],
  toString: [0, 0, 255],
  hasOwnProperty: [255, 255, 0],
  valueOf: [0, 255, 255],
};
const hex = (rgb: [number, number, number]): string => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const layersOf = (name: (typeof NAMES)[number]) => [
  { id: `bg-${name}`, transform: { x: 0, y: 0, width: 320, height: 180 }, content: { type: 'color', color: hex(COLORS[name]) } },
];

async function pixel(s: ChildServer): Promise<number[]> {
  const res = await fetch(`${s.base}/stream/snapshot`);
  const { data, info } = await sharp(Buffer.from(await res.arrayBuffer()))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const i = (90 * info.width + 160) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

t.test('ownRecord keeps __proto__ and inherits nothing', async (t) => {
  const parsed = ScenesStateSchema.parse(JSON.parse('{"active":"__proto__","scenes":{"__proto__":[],"constructor":[]}}'));
  t.same(Object.keys(parsed.scenes).sort(), ['__proto__', 'constructor'], 'z.record would drop __proto__; ownRecord keeps it');
  t.equal(Object.getPrototypeOf(parsed.scenes), null, 'no prototype');
  t.equal(ownValue(parsed.scenes, 'toString'), undefined, 'no inherited toString');
  const bad = ownRecord(z.string().regex(/^[a-z]+$/), z.number()).safeParse({ ok: 1, 'Bad Key': 2, worse: 'x' });
  t.notOk(bad.success);
  t.same(
    bad.error?.issues.map((i) => i.path),
    [['Bad Key'], ['worse']],
    'issues name the key, as z.record does',
  );
  t.notOk(ownRecord(z.string(), z.number()).safeParse([1]).success, 'an array is not a record');
});

t.test('scene names, output ids and data keys named like Object.prototype members, across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-own-names-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    STATE_STORE: 'file',
    DATA_DIR: join(dir, 'data'),
    RECORDINGS_DIR: join(dir, 'rec'),
    AUTOSTART: 'false',
    DEFAULT_SCENE: 'empty',
  };
  const a = await startChild(env);
  t.teardown(() => a.stop());

  for (const name of NAMES) {
    t.equal((await a.call('GET', `/stream/scenes/${name}`)).status, 404, `GET scene ${name}: 404 while absent`);
    t.equal(
      (await a.call('POST', `/stream/scenes/${name}/activate`, {})).body.error.code,
      'SM_ERR_SCENE_NOT_FOUND',
      `activate ${name}: 404 while absent`,
    );
    t.equal((await a.call('DELETE', `/stream/scenes/${name}`)).status, 404, `DELETE scene ${name}: 404 while absent`);
    t.equal((await a.call('GET', `/stream/outputs/${name}`)).status, 404, `GET output ${name}: 404 while absent`);
  }
  t.same((await a.call('GET', '/stream/data')).body.data, {}, 'no data keys');

  for (const name of NAMES) {
    const put = await a.call('PUT', `/stream/scenes/${name}`, { layers: layersOf(name) });
    t.equal(put.status, 200, `PUT scene ${name}`);
    t.equal((await a.call('POST', '/stream/outputs', { id: name, kind: 'hls', enabled: false })).status, 201, `POST output ${name}`);
  }
  const saved = (await a.call('GET', '/stream/scenes')).body.scenes
    .filter((s: { template: boolean }) => !s.template)
    .map((s: { name: string }) => s.name);
  t.same(saved, [...NAMES].sort(), 'every name listed');
  for (const name of NAMES)
    t.match((await a.call('GET', `/stream/scenes/${name}`)).body.layers, layersOf(name), `GET scene ${name}: its layers`);
  t.equal(
    (await a.call('POST', '/stream/outputs', { id: 'constructor', kind: 'hls', enabled: false })).status,
    409,
    'a second output "constructor" is refused',
  );

  const act = await a.call('POST', '/stream/scenes/__proto__/activate', {});
  t.equal(act.status, 200, 'activate __proto__');
  t.same(
    act.body.layers.map((l: { id: string }) => l.id),
    ['bg-__proto__'],
  );
  t.same(await pixel(a), COLORS.__proto__, 'and it shows');
  t.equal((await a.call('DELETE', '/stream/scenes/valueOf')).status, 204, 'DELETE valueOf');
  t.equal((await a.call('GET', '/stream/scenes/valueOf')).status, 404, 'gone');
  t.equal((await a.call('DELETE', '/stream/outputs/valueOf')).status, 204, 'DELETE output valueOf');

  const data = await a.call('PATCH', '/stream/data', { constructor: 1, toString: 'two', hasOwnProperty: true, valueOf: 4 });
  t.equal(data.status, 200, 'data keys named like Object.prototype members');
  t.equal((await a.call('PATCH', '/stream/data', { valueOf: null })).status, 200, 'and removed with null');
  const proto = await fetch(`${a.base}/stream/data`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"__proto__": 5, "lot": 1}',
  });
  t.equal(proto.status, 400, 'a __proto__ data key is refused, not dropped silently');
  const expected = { constructor: 1, toString: 'two', hasOwnProperty: true };
  t.same((await a.call('GET', '/stream/data')).body.data, expected, 'and nothing of that patch was applied');

  t.equal(await a.stop(), 0, 'SIGTERM: exit 0');

  const b = await startChild(env);
  t.teardown(() => b.stop());
  const after = (await b.call('GET', '/stream/scenes')).body;
  t.equal(after.active, '__proto__', 'the active scene name is back');
  t.same(
    after.scenes.filter((s: { template: boolean }) => !s.template).map((s: { name: string }) => s.name),
    ['__proto__', 'constructor', 'hasOwnProperty', 'toString'],
    'every saved name is back, __proto__ included',
  );
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'] as const) {
    t.match((await b.call('GET', `/stream/scenes/${name}`)).body.layers, layersOf(name), `scene ${name} restored whole`);
  }
  t.equal((await b.call('GET', '/stream/scenes/valueOf')).status, 404, 'the deleted one stays deleted');
  t.same(await pixel(b), COLORS.__proto__, 'the live layers of __proto__ are back');
  const activated = await b.call('POST', '/stream/scenes/constructor/activate', {});
  t.equal(activated.status, 200, 'activate constructor after the restart');
  t.same(await pixel(b), COLORS.constructor, 'and it shows');
  t.same((await b.call('GET', '/stream/data')).body.data, expected, 'data keys restored');
  t.same(
    (await b.call('GET', '/stream/outputs')).body.outputs
      .map((o: { id: string }) => o.id)
      .filter((id: string) => id !== 'main')
      .sort(),
    ['__proto__', 'constructor', 'hasOwnProperty', 'toString'],
    'outputs restored',
  );
  t.equal((await b.call('GET', '/stream/outputs/__proto__')).status, 200);
  t.equal((await b.call('GET', '/stream/outputs/valueOf')).status, 404);
});

t.test('the Redis store keeps them too', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const env = { STATE_STORE: 'redis', REDIS_URL: redis.url, REDIS_PREFIX: 'own-names:' };
  const a = await startServer(env);
  for (const name of ['__proto__', 'constructor'] as const)
    t.equal((await a.call('PUT', `/stream/scenes/${name}`, { layers: layersOf(name) })).status, 200);
  t.equal((await a.call('PATCH', '/stream/data', { toString: 'x' })).status, 200);
  await a.close();
  const b = await startServer(env);
  t.teardown(() => b.close());
  const saved = (await b.call('GET', '/stream/scenes')).body.scenes
    .filter((s: { template: boolean }) => !s.template)
    .map((s: { name: string }) => s.name);
  t.same(saved, ['__proto__', 'constructor'], 'both names back from Redis');
  t.match((await b.call('GET', '/stream/scenes/__proto__')).body.layers, layersOf('__proto__'));
  t.same((await b.call('GET', '/stream/data')).body.data, { toString: 'x' });
  t.equal((await b.call('GET', '/stream/scenes/toString')).status, 404);
});
