import t from 'tap';
import { WebSocket } from 'ws';
import { redactMediaSecrets } from '../shared/media-secrets.js';
import { startChild } from './helpers/child-server.js';
import { startServer } from './helpers/server.js';

/**
 * A live video source's URL carries secrets as an output URL does (an RTMP stream key, user info,
 * a token in the query). Only admins see it: every answer and WebSocket message to a viewer or an
 * operator has it redacted, and a source's `lastError` (ffmpeg's words) never quotes it.
 */

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const ROLES = { admin: ADMIN, operator: OPERATOR, viewer: VIEWER } as const;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const KEY = 'VIDKEY_7f6e5d4c';
const PASSWORD = 'VIDPASS_3b2a1908';
const TOKEN = 'VIDTOK_a1b2c3d4';

t.test('redactMediaSecrets: live src redacted at any depth, files and non-plain values kept', async (t) => {
  const doc = {
    layers: [
      { id: 'a', content: { type: 'video', src: `rtmp://h/live/${KEY}` } },
      { id: 'b', content: { type: 'video', src: 'assets/clip.mp4' } },
    ],
  };
  const out = redactMediaSecrets(doc);
  t.notOk(JSON.stringify(out).includes(KEY));
  t.equal(out.layers[0]!.content.src, 'rtmp://h/live/***');
  t.equal(out.layers[1], doc.layers[1], 'unchanged parts are not copied');
  t.equal(doc.layers[0]!.content.src, `rtmp://h/live/${KEY}`, 'the original is not changed');
  const buf = Buffer.from('x');
  t.equal(redactMediaSecrets(buf), buf);
});

t.test('video sources: only admins see their secrets', async (t) => {
  const s = await startServer({
    AUTH_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}`,
    WIDTH: '160',
    HEIGHT: '90',
    FPS: '15',
  });
  t.teardown(() => s.close());
  const sockets: { role: string; ws: WebSocket; messages: string[] }[] = [];
  for (const role of Object.keys(ROLES) as (keyof typeof ROLES)[]) {
    const ws = new WebSocket(`ws://127.0.0.1:${s.app.port}/stream/ws`, { headers: bearer(ROLES[role]) });
    const messages: string[] = [];
    ws.on('message', (raw) => messages.push(raw.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    sockets.push({ role, ws, messages });
  }
  t.teardown(() => sockets.forEach((c) => c.ws.terminate()));

  const rtmp = `rtmp://127.0.0.1:1/live/${KEY}`;
  const http = `http://bob:${PASSWORD}@127.0.0.1:1/live/index.m3u8?token=${TOKEN}`;
  const created = await s.call(
    'POST',
    '/stream/layers',
    { id: 'cam', content: { type: 'video', src: rtmp }, transform: { x: 0, y: 0, width: 64, height: 36 } },
    bearer(OPERATOR),
  );
  t.equal(created.status, 201);
  t.notOk(JSON.stringify(created.body).includes(KEY), 'the operator who added it gets it redacted');
  t.equal(created.body.content.src, 'rtmp://127.0.0.1:1/live/***');
  t.equal((await s.call('POST', '/stream/layers', { id: 'web', content: { type: 'video', src: http } }, bearer(ADMIN))).status, 201);
  // Let both fail to connect (their lastError is ffmpeg's words).
  await new Promise((r) => setTimeout(r, 2000));
  for (const role of ['viewer', 'operator'] as const) {
    for (const path of ['/stream/layers', '/stream/layers/cam', '/stream/layers/web']) {
      const r = await s.call('GET', path, undefined, bearer(ROLES[role]));
      t.equal(r.status, 200);
      const text = JSON.stringify(r.body);
      t.same(
        [KEY, PASSWORD, TOKEN].filter((x) => text.includes(x)),
        [],
        `${role} GET ${path}: no secret`,
      );
    }
  }
  // The redaction leaves every other answer as it was: an unknown route is still 404 (not an empty 204).
  for (const [role, method] of [
    ['viewer', 'GET'],
    ['operator', 'POST'],
  ] as const) {
    const r = await s.call(method, '/stream/no-such-route', method === 'GET' ? undefined : {}, bearer(ROLES[role]));
    t.equal(r.status, 404, `${role}: an unknown route answers 404`);
    t.equal(r.body?.error?.code, 'SM_ERR_NOT_FOUND');
  }
  const admin = await s.call('GET', '/stream/layers/cam', undefined, bearer(ADMIN));
  t.equal(admin.body.content.src, rtmp, 'an admin sees the URL as set');
  t.notOk(JSON.stringify(admin.body.media).includes(KEY), 'lastError never quotes the key');
  for (const c of sockets) {
    const text = c.messages.join('\n');
    t.ok(text.includes('cam'), `${c.role} got messages about the layer`);
    if (c.role === 'admin') t.ok(text.includes(KEY), 'the admin socket sees the URL');
    else
      t.same(
        [KEY, PASSWORD, TOKEN].filter((x) => text.includes(x)),
        [],
        `${c.role} WS: no secret`,
      );
  }
});

t.test("a live source's secrets never reach the log", async (t) => {
  const s = await startChild({ STATE_STORE: 'memory', LOG_LEVEL: 'debug', RATE_LIMIT_MAX: '0', ENCODER_RESTART_DELAY_MS: '200' });
  t.teardown(() => s.stop('SIGKILL'));
  const src = `rtmp://bob:${PASSWORD}@127.0.0.1:1/live/${KEY}?token=${TOKEN}`;
  const r = await fetch(`${s.base}/stream/layers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'cam', content: { type: 'video', src }, transform: { x: 0, y: 0, width: 64, height: 36 } }),
  });
  t.equal(r.status, 201);
  await r.arrayBuffer();
  // A few failed connections and retries.
  await new Promise((r) => setTimeout(r, 3000));
  const out = s.output();
  t.match(out, /video:cam/, 'the feed is logged');
  t.same(
    [KEY, PASSWORD, TOKEN].filter((x) => out.includes(x)),
    [],
    `no secret in ${out.split('\n').length} log lines`,
  );
});
