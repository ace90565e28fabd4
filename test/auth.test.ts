import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../orchestrator/config/env.js';
import { startServer, type TestServer } from './helpers/server.js';
import { childEnv } from './helpers/child-env.js';

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const METRICS = 'm'.repeat(8) + '0123456789abcdef';
/** The admin token with its last character changed: must be as useless as any other guess. */
const ONE_OFF = ADMIN.slice(0, -1) + 'g';
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

type Need = 'open' | 'viewer' | 'operator' | 'admin';
/** Every route (under /stream; a sample under /api/stream), with a body that would be valid. */
const ROUTES: { method: string; path: string; body?: unknown; need: Need }[] = [
  { method: 'GET', path: '/stream/status', need: 'viewer' },
  { method: 'GET', path: '/stream/config', need: 'viewer' },
  { method: 'GET', path: '/stream/scene', need: 'viewer' },
  { method: 'GET', path: '/stream/snapshot', need: 'viewer' },
  { method: 'GET', path: '/stream/layers', need: 'viewer' },
  { method: 'GET', path: '/stream/layers/box', need: 'viewer' },
  { method: 'GET', path: '/stream/assets', need: 'viewer' },
  { method: 'GET', path: `/stream/assets/${'0'.repeat(64)}`, need: 'viewer' },
  { method: 'GET', path: `/stream/assets/${'0'.repeat(64)}/content`, need: 'viewer' },
  { method: 'GET', path: '/api/stream/layers', need: 'viewer' },
  { method: 'GET', path: '/stream/nope', need: 'viewer' },
  { method: 'POST', path: '/stream/start', need: 'operator' },
  { method: 'POST', path: '/stream/stop', need: 'operator' },
  { method: 'POST', path: '/stream/pause', need: 'operator' },
  { method: 'POST', path: '/stream/resume', need: 'operator' },
  { method: 'POST', path: '/stream/reset', need: 'operator' },
  { method: 'PUT', path: '/stream/scene', body: { layers: [] }, need: 'operator' },
  { method: 'POST', path: '/stream/layers', body: { id: 'new', content: { type: 'color', color: 'red' } }, need: 'operator' },
  { method: 'PUT', path: '/stream/layers/box', body: { content: { type: 'color', color: 'blue' } }, need: 'operator' },
  { method: 'PATCH', path: '/stream/layers/box', body: { opacity: 0.1 }, need: 'operator' },
  { method: 'PATCH', path: '/api/stream/layers/box', body: { opacity: 0.2 }, need: 'operator' },
  { method: 'PATCH', path: '/stream/layers/box/visibility', body: { visible: false }, need: 'operator' },
  { method: 'POST', path: '/stream/layers/box/visibility', body: { visible: false }, need: 'operator' },
  { method: 'DELETE', path: '/stream/layers/box', need: 'operator' },
  { method: 'POST', path: '/stream/assets/upload', need: 'operator' },
  { method: 'PATCH', path: '/stream/config', body: { targetFPS: 15 }, need: 'admin' },
  { method: 'DELETE', path: `/stream/assets/${'0'.repeat(64)}`, need: 'admin' },
  { method: 'GET', path: '/health', need: 'open' },
  { method: 'GET', path: '/stream/health/ready', need: 'open' },
];

/** Everything a refused request must leave alone: the scene, the config and the stream state. */
async function world(s: TestServer): Promise<unknown> {
  const h = bearer(ADMIN);
  const [scene, config, status] = await Promise.all([
    s.call('GET', '/stream/scene', undefined, h),
    s.call('GET', '/stream/config', undefined, h),
    s.call('GET', '/stream/status', undefined, h),
  ]);
  return { scene: scene.body, config: config.body, live: status.body.isLive, paused: status.body.isPaused };
}

/** Attempts a WebSocket upgrade; resolves with 101 or the refusal's status and body. */
function upgrade(
  url: string,
  opts: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers: opts.headers });
    ws.once('open', () => {
      resolve({ status: 101, body: '', protocol: ws.protocol });
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol: '' }));
    });
    ws.once('error', (err) => reject(err));
  });
}

t.test('tokens and roles on every route', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}` });
  t.teardown(() => s.close());
  t.equal((await s.call('POST', '/stream/layers', { id: 'box', content: { type: 'color', color: 'red' } }, bearer(ADMIN))).status, 201);
  const before = await world(s);

  const attempts: { who: string; headers: Record<string, string> }[] = [
    { who: 'no token', headers: {} },
    { who: 'wrong token', headers: bearer('x'.repeat(32)) },
    { who: 'token one character off', headers: bearer(ONE_OFF) },
    { who: 'not a bearer scheme', headers: { authorization: `Basic ${ADMIN}` } },
  ];
  for (const r of ROUTES) {
    for (const a of attempts) {
      const res = await s.call(r.method, r.path, r.body, a.headers);
      if (r.need === 'open') {
        t.ok(res.status < 400 || res.status === 503, `${r.method} ${r.path} is open (${a.who}): ${res.status}`);
        continue;
      }
      t.equal(res.status, 401, `${r.method} ${r.path} with ${a.who}: 401`);
      t.equal(res.body?.error?.code, 'SM_ERR_UNAUTHORIZED');
      t.equal(res.headers.get('www-authenticate'), 'Bearer realm="stream-manager"');
    }
    if (r.need === 'operator' || r.need === 'admin') {
      const res = await s.call(r.method, r.path, r.body, bearer(VIEWER));
      t.equal(res.status, 403, `${r.method} ${r.path} with a viewer token: 403`);
      t.equal(res.body?.error?.code, 'SM_ERR_FORBIDDEN');
    }
    if (r.need === 'admin') {
      const res = await s.call(r.method, r.path, r.body, bearer(OPERATOR));
      t.equal(res.status, 403, `${r.method} ${r.path} with an operator token: 403`);
    }
  }
  t.same(await world(s), before, 'no refused request changed the scene, the config or the stream');

  // The roles that may, can.
  t.equal((await s.call('GET', '/stream/layers/box', undefined, bearer(VIEWER))).status, 200, 'viewer reads');
  t.equal((await s.call('PATCH', '/stream/layers/box', { opacity: 0.5 }, bearer(OPERATOR))).body.opacity, 0.5, 'operator changes a layer');
  t.equal((await s.call('PATCH', '/stream/config', { targetFPS: 15 }, bearer(ADMIN))).body.targetFPS, 15, 'admin changes the config');
  t.equal(
    (await s.call('PATCH', '/stream/layers/box', { opacity: 0.25 }, { authorization: `bearer  ${OPERATOR}` })).status,
    200,
    'the scheme is case-insensitive',
  );
  const metrics = await s.call('GET', '/metrics');
  t.equal(metrics.status, 200, '/metrics is open without METRICS_TOKEN');
  t.match(metrics.body, /stream_manager_auth_failures_total\{transport="http"\} [1-9]\d*/, 'refusals are counted');
});

t.test('WebSocket upgrade checks the token and the Origin before the 101', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}`, CORS_ORIGINS: 'https://admin.example.com' });
  t.teardown(() => s.close());
  const hosts = [`ws://127.0.0.1:${s.app.port}/stream/ws`, `ws://127.0.0.1:${s.app.wsPort}/`];
  for (const url of hosts) {
    for (const [who, opts] of [
      ['no token', {}],
      ['a wrong ?token=', { query: 'x'.repeat(32) }],
      ['a token one character off', { query: ONE_OFF }],
      ['a wrong subprotocol token', { protocols: ['stream-manager', `bearer.${ONE_OFF}`] }],
    ] as const) {
      const q = 'query' in opts ? `?token=${opts.query}` : '';
      const res = await upgrade(url + q, { protocols: 'protocols' in opts ? [...opts.protocols] : [] });
      t.equal(res.status, 401, `${url} with ${who}: 401`);
      t.match(JSON.parse(res.body), { error: { code: 'SM_ERR_UNAUTHORIZED' } });
    }
    t.equal((await upgrade(`${url}?token=${VIEWER}`)).status, 101, 'viewer token in ?token=');
    const viaProtocol = await upgrade(url, { protocols: ['stream-manager', `bearer.${VIEWER}`] });
    t.equal(viaProtocol.status, 101, 'viewer token as a subprotocol');
    t.equal(viaProtocol.protocol, 'stream-manager', 'the server selects stream-manager, never echoes the token');
    t.equal((await upgrade(url, { headers: bearer(ADMIN) })).status, 101, 'Authorization header');
    const foreign = await upgrade(`${url}?token=${VIEWER}`, { headers: { origin: 'https://evil.example.net' } });
    t.equal(foreign.status, 403, 'a foreign Origin is refused even with a token');
    t.match(JSON.parse(foreign.body), { error: { code: 'SM_ERR_ORIGIN_FORBIDDEN' } });
    t.equal(
      (await upgrade(`${url}?token=${VIEWER}`, { headers: { origin: 'https://admin.example.com' } })).status,
      101,
      'an allowed Origin',
    );
    t.equal(
      (await upgrade(`${url}?token=${VIEWER}`, { headers: { origin: `http://127.0.0.1:${new URL(url).port}` } })).status,
      101,
      'the same origin',
    );
  }
});

t.test('CORS allow-list, security headers, body limit', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN}`, CORS_ORIGINS: 'https://admin.example.com' });
  t.teardown(() => s.close());
  const preflight = (origin: string): Promise<Response> =>
    fetch(`${s.base}/stream/layers`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
  const ok = await preflight('https://admin.example.com');
  t.equal(ok.status, 204);
  t.equal(ok.headers.get('access-control-allow-origin'), 'https://admin.example.com');
  t.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  const foreign = await preflight('https://evil.example.net');
  t.equal(foreign.headers.get('access-control-allow-origin'), null, 'a foreign origin gets no CORS headers');

  const res = await s.call('GET', '/stream/status', undefined, bearer(ADMIN));
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  t.ok(res.headers.get('content-security-policy'), 'Content-Security-Policy');
  t.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.equal(res.headers.get('x-powered-by'), null);

  const big = JSON.stringify({ id: 'big', name: 'x'.repeat(1024 * 1024 + 10), content: { type: 'color', color: 'red' } });
  const tooBig = await s.call('POST', '/stream/layers', big, bearer(ADMIN));
  t.equal(tooBig.status, 413, 'a JSON body over 1 MB');
  t.equal(tooBig.body.error.code, 'SM_ERR_BODY_TOO_LARGE');
  t.equal((await s.call('GET', '/stream/layers', undefined, bearer(ADMIN))).body.layers.length, 0, 'nothing was created');
});

t.test('METRICS_TOKEN protects /metrics on both ports', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}`, METRICS_TOKEN: METRICS, METRICS_PORT: '0' });
  t.teardown(() => s.close());
  for (const base of [s.base, `http://127.0.0.1:${s.app.metricsPort}`]) {
    t.equal((await fetch(`${base}/metrics`)).status, 401, `${base}: no token`);
    t.equal((await fetch(`${base}/metrics`, { headers: bearer(VIEWER) })).status, 401, `${base}: a viewer token`);
    t.equal((await fetch(`${base}/metrics`, { headers: bearer(METRICS.slice(0, -1) + 'x') })).status, 401, `${base}: one character off`);
    const ok = await fetch(`${base}/metrics`, { headers: bearer(METRICS) });
    t.equal(ok.status, 200, `${base}: METRICS_TOKEN`);
    t.match(await ok.text(), /stream_manager_/);
    t.equal((await fetch(`${base}/metrics`, { headers: bearer(ADMIN) })).status, 200, `${base}: an admin token`);
  }
  t.equal((await fetch(`${s.base}/health`)).status, 200, '/health stays open');
});

t.test('tokens file, hashed; loopback only without tokens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-auth-'));
  const file = join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify({ tokens: [{ name: 'alice', role: 'operator', sha256: createHash('sha256').update(OPERATOR).digest('hex') }] }),
  );
  const s = await startServer({ AUTH_TOKENS_FILE: file });
  t.teardown(() => s.close());
  t.equal(
    (await s.call('POST', '/stream/pause', undefined, bearer(OPERATOR))).body.error.code,
    'SM_ERR_STREAM_NOT_LIVE',
    'the hashed token authenticates (the route ran)',
  );
  t.equal((await s.call('PATCH', '/stream/config', { targetFPS: 20 }, bearer(OPERATOR))).status, 403);

  t.throws(() => loadConfig({ HOST: '0.0.0.0' }), ConfigError, 'binding beyond loopback without tokens is refused');
  t.match(loadConfig({ HOST: '0.0.0.0', AUTH_TOKENS: `admin:${ADMIN}` }).host, '0.0.0.0', 'with tokens it is allowed');
  t.throws(() => loadConfig({ AUTH_TOKENS: 'root:0123456789abcdef0' }), ConfigError, 'unknown role');
  t.throws(() => loadConfig({ AUTH_TOKENS: 'admin:short' }), ConfigError, 'too short a token');
  writeFileSync(join(dir, 'bad.json'), '{"tokens":[{"name":"x","role":"admin","sha256":"nothex"}]}');
  t.throws(() => loadConfig({ AUTH_TOKENS_FILE: join(dir, 'bad.json') }), ConfigError, 'an invalid tokens file');

  // The real entry point exits 1 with the reason instead of listening on 0.0.0.0.
  const child = spawn(process.execPath, ['dist/orchestrator/main.js'], {
    env: { ...childEnv(), HOST: '0.0.0.0', PORT: '0', AUTH_TOKENS: '', AUTH_TOKENS_FILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 1, 'main exits 1');
  t.match(out, /HOST.*without tokens/);
});
