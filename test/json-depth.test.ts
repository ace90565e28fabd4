import t from 'tap';
import { AppError } from '../shared/errors.js';
import { MAX_JSON_DEPTH, deeperThan } from '../shared/json-depth.js';
import { mergePatch } from '../orchestrator/scene/merge-patch.js';
import { connect } from './helpers/ws-client.js';
import { startServer, type TestServer } from './helpers/server.js';

/** `levels` nested arrays or objects around `inner`, as JSON text (built as text: no recursion here either). */
function nested(levels: number, kind: 'array' | 'object', inner = '1'): string {
  return kind === 'array' ? '['.repeat(levels) + inner + ']'.repeat(levels) : '{"a":'.repeat(levels) + inner + '}'.repeat(levels);
}

/** Path parameters filled with names that exist, so a route gets as far as it can. */
const PARAMS: Record<string, string> = { id: 'a', name: 'saved', file: 'x' };

/** Everything a refused request must leave as it was. */
async function everything(s: TestServer): Promise<string> {
  const paths = [
    '/stream/scene',
    '/stream/config',
    '/stream/outputs',
    '/stream/data',
    '/stream/scenes',
    '/stream/scenes/saved',
    '/stream/chat',
    '/stream/assets',
  ];
  const bodies = await Promise.all(paths.map(async (p) => (await s.call('GET', p)).body));
  const status = (await s.call('GET', '/stream/status')).body;
  return JSON.stringify({ bodies, isLive: status.isLive, isPaused: status.isPaused, version: s.app.state.version });
}

t.test('the depth check itself', async (t) => {
  t.equal(deeperThan(JSON.parse(nested(MAX_JSON_DEPTH, 'array'))), false, `${MAX_JSON_DEPTH} levels pass`);
  t.equal(deeperThan(JSON.parse(nested(MAX_JSON_DEPTH + 1, 'object'))), true, `${MAX_JSON_DEPTH + 1} do not`);
  t.equal(deeperThan(JSON.parse(nested(100_000, 'array'))), true, '100 000 levels: no stack overflow');
  t.equal(deeperThan({ a: [1, { b: 'x' }], c: null }), false);
  t.equal(deeperThan(7), false);
  const deep = JSON.parse(nested(10_000, 'object'));
  let thrown: unknown;
  try {
    mergePatch({}, deep);
  } catch (err) {
    thrown = err;
  }
  t.ok(
    thrown instanceof AppError && thrown.code === 'SM_ERR_VALIDATION',
    `mergePatch refuses a deep patch with a 400, not a RangeError (${String(thrown)})`,
  );
  t.same(mergePatch({ a: { b: 1, c: 2 } }, { a: { b: null, d: 3 } }), { a: { c: 2, d: 3 } }, 'and merges as before');
});

t.test('10 000 levels of JSON on every mutating route: 400, nothing changed', async (t) => {
  const s = await startServer({ WORKERS: '1' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/layers', {
    id: 'a',
    content: { type: 'text', content: 'x', style: { font: 'Arial', fontSize: 12, color: '#fff' } },
  });
  await s.call('POST', '/stream/outputs', { id: 'o1', kind: 'file', url: 'depth/o1.mp4', enabled: false });
  await s.call('PUT', '/stream/scenes/saved', {});
  const before = await everything(s);

  const mutating = s.app.routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
  t.ok(mutating.length >= 2 * 20, `the router lists ${mutating.length} mutating routes (both prefixes)`);
  const bodies = {
    array: nested(10_000, 'array'),
    object: nested(10_000, 'object'),
    // Where each route looks: a layer's content (the merge), a batch's operations, a scene's layers.
    'in content': `{"content":${nested(10_000, 'object')}}`,
    'in a batch': `{"operations":[{"op":"patch","id":"a","patch":${nested(10_000, 'object')}}]}`,
    'in layers': `{"layers":[{"id":"d","content":${nested(10_000, 'object')}}]}`,
    'just over the limit': `{"content":${nested(MAX_JSON_DEPTH, 'object')}}`,
  };
  for (const route of mutating) {
    const path = route.path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name] ?? 'x');
    const statuses: string[] = [];
    for (const [name, body] of Object.entries(bodies)) {
      const res = await fetch(s.base + path, { method: route.method, headers: { 'content-type': 'application/json' }, body });
      const json = (await res.json().catch(() => null)) as { error?: { code: string } } | null;
      if (res.status !== 400 || json?.error?.code !== 'SM_ERR_VALIDATION') statuses.push(`${name}: ${res.status} ${json?.error?.code}`);
    }
    t.same(statuses, [], `${route.method} ${route.path}: every deep body gets 400 SM_ERR_VALIDATION`);
  }
  t.equal(await everything(s), before, 'nothing changed (scene, config, outputs, data, scenes, chat, assets, stream, version)');
  const ok = await s.call('PATCH', '/stream/layers/a', JSON.parse(`{"content":{"style":${nested(MAX_JSON_DEPTH - 3, 'object', '{}')}}}`));
  t.equal(ok.status, 400, 'a body within the limit reaches validation (and fails there: no such style keys)');
  t.equal(ok.body.error.code, 'SM_ERR_VALIDATION');
  t.equal((await s.call('GET', '/health')).status, 200, 'the server is fine');
  const del = await fetch(`${s.base}/stream/layers/a`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
  t.equal(del.status, 204, 'a DELETE with a JSON content type and no body still deletes');
});

t.test('a deep WebSocket message gets an error and the socket stays open', async (t) => {
  const s = await startServer({ WORKERS: '1' });
  t.teardown(() => s.close());
  const c = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws`);
  t.teardown(() => c.close());
  c.send(nested(30_000, 'array'));
  t.match((await c.next('error')).payload, { code: 'SM_ERR_VALIDATION', message: /levels deep/ });
  c.send({ type: 'ping' });
  t.ok(await c.next('pong'), 'still answering');
});
