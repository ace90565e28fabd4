import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { startRedis } from './helpers/redis.js';

/**
 * Studio mode's 2xx are promises too: a real server is killed with SIGKILL the moment a preview
 * write or a take is answered, and after a restart the preview scene (and, after a take, the
 * swapped program and preview) are there. File store and Redis store; a few rounds, not many.
 */

const QUIET = {
  NODE_OPTIONS: '',
  _TAPJS_PROCESSINFO_COVERAGE_: '0',
  AUTOSTART: 'false',
  WORKERS: '1',
  LOG_LEVEL: 'warn',
  DEFAULT_SCENE: 'empty',
};
const color = (id: string, c: string): object => ({ id, content: { type: 'color', color: c } });

/** Sends one change and SIGKILLs the server as soon as its answer's status is in; returns that status. */
async function answeredThenKilled(s: ChildServer, method: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(s.base + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  s.proc.kill('SIGKILL');
  await new Promise((r) => s.proc.once('exit', r));
  return res.status;
}

async function ids(s: ChildServer, path: string): Promise<string[]> {
  return ((await s.call('GET', path)).body.layers as { id: string }[]).map((l) => l.id);
}

async function rounds(t: Tap, env: Record<string, string>, preparedWrite: boolean): Promise<void> {
  let s = await startChild(env);
  t.equal((await s.call('POST', '/stream/layers', color('prog', '#ff0000'))).status, 201);
  if (preparedWrite) {
    t.equal(
      await answeredThenKilled(s, 'POST', '/stream/preview/layers', color('prev', '#0000ff')),
      201,
      'preview write answered 201, then kill -9',
    );
    s = await startChild(env);
    t.same(await ids(s, '/stream/preview/layers'), ['prev'], 'after the restart the preview scene has the layer');
  } else {
    t.equal((await s.call('POST', '/stream/preview/layers', color('prev', '#0000ff'))).status, 201);
  }
  t.equal((await s.call('PATCH', '/stream/preview/layers/prev', { opacity: 0.5 })).status, 200);
  t.equal(
    await answeredThenKilled(s, 'POST', '/stream/take', { transition: 'crossfade', durationMs: 500 }),
    200,
    'take answered 200, then kill -9',
  );
  s = await startChild(env);
  t.teardown(() => s.stop('SIGKILL'));
  t.same(await ids(s, '/stream/layers'), ['prev'], 'after the restart the program is the former preview');
  t.equal((await s.call('GET', '/stream/layers/prev')).body.opacity, 0.5, 'with its last change');
  t.same(await ids(s, '/stream/preview/layers'), ['prog'], 'and the preview the former program');
}
type Tap = typeof t;

t.test('file store: kill -9 right after a preview write and right after a take', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-studio-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await rounds(t as unknown as Tap, { ...QUIET, STATE_STORE: 'file', DATA_DIR: join(dir, 'data'), RECORDINGS_DIR: join(dir, 'rec') }, true);
});

t.test('Redis store: kill -9 right after a take', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const dir = mkdtempSync(join(tmpdir(), 'sm-studio-kill-redis-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await rounds(
    t as unknown as Tap,
    {
      ...QUIET,
      STATE_STORE: 'redis',
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'studio:',
      DATA_DIR: join(dir, 'data'),
      RECORDINGS_DIR: join(dir, 'rec'),
    },
    false,
  );
});
