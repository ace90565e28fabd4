import { Redis } from 'ioredis';
import t from 'tap';
import { startRedis } from './helpers/redis.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

const ADMIN = 'admin-token-0123456789';
const OPERATOR = 'operator-token-0123456789';
const TOKENS = `admin:${ADMIN},operator:${OPERATOR}`;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

t.test('HTTP rate limit per token and per IP: 429 with Retry-After', async (t) => {
  const s = await startServer({ AUTH_TOKENS: TOKENS, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
  t.teardown(() => s.close());
  for (let i = 0; i < 5; i++) {
    const res = await s.call('GET', '/stream/status', undefined, bearer(ADMIN));
    t.equal(res.status, 200, `request ${i + 1} of 5`);
    t.equal(res.headers.get('x-ratelimit-limit'), '5');
  }
  const limited = await s.call('GET', '/stream/status', undefined, bearer(ADMIN));
  t.equal(limited.status, 429, 'the 6th request in the window');
  t.equal(limited.body.error.code, 'SM_ERR_RATE_LIMITED');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After is 1..60 s: ${retryAfter}`);
  t.equal(
    (await s.call('PATCH', '/stream/layers/x', { opacity: 1 }, bearer(ADMIN))).status,
    429,
    'a change is limited too, before its body is read',
  );
  t.equal((await s.call('GET', '/stream/status', undefined, bearer(OPERATOR))).status, 200, 'another token has its own budget');
  t.equal((await s.call('GET', '/health')).status, 200, '/health is not limited');
  t.equal((await s.call('GET', '/metrics')).status, 200, '/metrics is not limited');

  // Guessing tokens is limited by IP: after 5 wrong tries, 429 instead of 401.
  const guesses: number[] = [];
  for (let i = 0; i < 7; i++)
    guesses.push((await s.call('GET', '/stream/status', undefined, bearer(`guess-${i}-0123456789abcdef`))).status);
  t.same(guesses, [401, 401, 401, 401, 401, 429, 429], 'wrong guesses share the IP budget');
});

t.test('Redis-backed rate limit is shared by instances and survives Redis going away', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const env = {
    AUTH_TOKENS: TOKENS,
    STATE_STORE: 'redis',
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'rl:',
    RATE_LIMIT_MAX: '6',
    RATE_LIMIT_WINDOW_MS: '60000',
  };
  const a = await startServer(env);
  t.teardown(() => a.close());
  const b = await startServer(env);
  t.teardown(() => b.close());
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await a.call('GET', '/stream/layers', undefined, bearer(ADMIN))).status);
  for (let i = 0; i < 4; i++) statuses.push((await b.call('GET', '/stream/layers', undefined, bearer(ADMIN))).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429], 'two servers on one Redis share one budget of 6');
  const client = new Redis(redis.url);
  t.teardown(() => client.disconnect());
  t.equal(await client.zcard('rl:ratelimit:token:admin-1'), 6, 'the window lives in Redis under the prefix');
  client.disconnect();

  await redis.kill();
  const down = await a.call('GET', '/stream/layers', undefined, bearer(OPERATOR));
  t.equal(down.status, 200, 'with Redis down the limiter counts in memory instead of failing the request');
});

t.test('WebSocket message rate per socket', async (t) => {
  const s = await startServer({ WS_MESSAGE_RATE: '5' });
  t.teardown(() => s.close());
  const c = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws`);
  t.teardown(() => c.close());
  await c.next('stateUpdate');
  for (let i = 0; i < 8; i++) c.send({ type: 'ping' });
  for (let i = 0; i < 5; i++) await c.next('pong');
  for (let i = 0; i < 3; i++) t.match(await c.next('error'), { payload: { code: 'SM_ERR_RATE_LIMITED' } }, `message ${6 + i} is refused`);
  t.equal(c.ws.readyState, c.ws.OPEN, 'a socket over its rate stays open');
  await new Promise((r) => setTimeout(r, 1100));
  c.send({ type: 'ping' });
  t.ok(await c.next('pong'), 'the next second has a fresh budget');

  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  for (let i = 0; i < 60; i++) c.send({ type: 'ping' });
  t.equal(await closed, 1008, 'a flood closes the socket with 1008 (policy violation)');
  const metrics = await s.call('GET', '/metrics');
  t.match(metrics.body, /stream_manager_ws_messages_rate_limited_total [1-9]\d*/);
});
