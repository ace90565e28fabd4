import { createServer } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { startServer } from './helpers/server.js';

/**
 * Output URLs carry stream keys, passwords and passphrases. Only admins (who set them) see them:
 * every GET route of the router, answers to operators' changes, and every WebSocket message a
 * viewer or operator gets (the welcome state, output events, errors) carry them redacted.
 */

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const ROLES = { admin: ADMIN, operator: OPERATOR, viewer: VIEWER } as const;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Secrets of the three outputs below; each distinctive enough to be found anywhere. */
const SECRET = {
  mainKey: 'MAINKEY_live_1a2b3c4d',
  mainPassword: 'MAINPW_9z8y7x6w',
  extraKey: 'EXTRAKEY_5e6f7g8h',
  extraPassword: 'BOBPASS_4d3c2b1a',
  queryToken: 'QUERYTOK_0a9b8c7d',
  passphrase: 'SRTPASSPHRASE_11',
  streamId: 'SRTSTREAMID_2233',
  fragment: 'FRAGSECRET_44556',
};

/** A port nothing listens on (ffmpeg's connections to it fail at once). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Which secrets `text` contains. */
function leaked(text: string): string[] {
  return Object.values(SECRET).filter((s) => text.includes(s));
}

/** A WebSocket that records every message it gets, as text. */
async function listen(url: string, token: string): Promise<{ ws: WebSocket; messages: string[] }> {
  const ws = new WebSocket(url, { headers: bearer(token) });
  const messages: string[] = [];
  ws.on('message', (raw) => messages.push(raw.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages };
}

t.test('stream keys: only admins see them, in every answer and every WebSocket message', async (t) => {
  const port = await closedPort();
  const mainUrl = `rtmp://alice:${SECRET.mainPassword}@127.0.0.1:${port}/live/${SECRET.mainKey}`;
  const s = await startServer({
    AUTH_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}`,
    OUTPUT_URL: mainUrl,
    WIDTH: '160',
    HEIGHT: '90',
    FPS: '15',
    ENCODER_RESTART_DELAY_MS: '300',
    ENCODER_RESTART_MAX_DELAY_MS: '400',
    ENCODER_MAX_RETRIES: '6',
  });
  t.teardown(() => s.close());
  const call = (role: keyof typeof ROLES, method: string, path: string, body?: unknown) => s.call(method, path, body, bearer(ROLES[role]));

  t.equal(
    (
      await call('admin', 'POST', '/stream/outputs', {
        id: 'rt',
        kind: 'rtmp',
        url: `RTMP://bob:${SECRET.extraPassword}@127.0.0.1:${port}/app/${SECRET.extraKey}?token=${SECRET.queryToken}#${SECRET.fragment}`,
      })
    ).status,
    201,
    'uppercase scheme, user info, query and fragment',
  );
  t.equal(
    (
      await call('admin', 'POST', '/stream/outputs', {
        id: 'sr',
        kind: 'srt',
        url: `srt://127.0.0.1:${port}?passphrase=${SECRET.passphrase}&streamid=${SECRET.streamId}&mode=caller`,
      })
    ).status,
    201,
  );
  t.equal((await call('admin', 'POST', '/stream/layers', { id: 'box', content: { type: 'color', color: 'red' } })).status, 201);

  // WebSocket clients of every role, on both ports, from before the stream goes live.
  const wsUrls = [`ws://127.0.0.1:${s.app.port}/stream/ws`, `ws://127.0.0.1:${s.app.wsPort}/`];
  const sockets: { role: keyof typeof ROLES; messages: string[]; ws: WebSocket }[] = [];
  for (const role of Object.keys(ROLES) as (keyof typeof ROLES)[]) {
    for (const url of wsUrls) sockets.push({ role, ...(await listen(url, ROLES[role])) });
  }
  t.teardown(() => sockets.forEach((c) => c.ws.terminate()));

  // Live: every output fails to connect, restarts and reports why (ffmpeg's messages quote the URL).
  t.equal((await call('operator', 'POST', '/stream/start')).status, 200);
  let outputErrors = 0;
  for (let i = 0; i < 80; i++) {
    const status = (await call('admin', 'GET', '/stream/status')).body;
    outputErrors += status.outputs.filter((o: { id: string; lastError: string | null }) => o.id !== 'main' && o.lastError).length;
    if (!status.isLive && status.error) break;
    await sleep(200);
  }
  const status = (await call('admin', 'GET', '/stream/status')).body;
  t.match(status.error, /Encoder failed/, `the main output failed for real: ${status.error}`);
  t.ok(outputErrors > 0, 'the extra outputs failed for real and reported why');
  // Operators' answers carry output views too.
  const answers: { what: string; text: string }[] = [];
  for (const path of ['/stream/outputs/rt/stop', '/stream/outputs/rt/start', '/stream/outputs/sr/stop', '/stream/start', '/stream/stop']) {
    const res = await call('operator', 'POST', path);
    answers.push({ what: `operator POST ${path}`, text: JSON.stringify(res.body) + JSON.stringify([...res.headers]) });
  }
  const putScene = await call('operator', 'PUT', '/stream/scene', (await call('operator', 'GET', '/stream/scene')).body);
  answers.push({ what: 'operator PUT /stream/scene', text: JSON.stringify(putScene.body) });
  // New sockets get the whole state after all this.
  for (const role of Object.keys(ROLES) as (keyof typeof ROLES)[]) sockets.push({ role, ...(await listen(wsUrls[0]!, ROLES[role])) });
  await sleep(500);

  // Every GET route the router has, enumerated from the app itself, with each role.
  const templates = [...new Set(s.app.routes.filter((r) => r.method === 'GET').map((r) => r.path))];
  t.ok(templates.length >= 20, `${templates.length} GET routes found`);
  const PARAMS: Record<string, string[]> = {
    id: ['main', 'rt', 'sr', 'box', '0'.repeat(64)],
    name: ['auction', 'nope'],
    file: ['index.m3u8'],
  };
  const expand = (path: string): string[] => {
    const m = /:([a-z]+)/i.exec(path);
    if (!m) return [path];
    return (PARAMS[m[1]!] ?? ['x']).flatMap((v) => expand(path.replace(m[0], v)));
  };
  const paths = [...new Set(templates.flatMap(expand))];
  let walked = 0;
  for (const path of paths) {
    for (const role of ['viewer', 'operator'] as const) {
      const res = await call(role, 'GET', path);
      walked++;
      const text = (typeof res.body === 'string' ? res.body : JSON.stringify(res.body)) + JSON.stringify([...res.headers]);
      t.same(leaked(text), [], `${role} GET ${path} (${res.status})`);
    }
  }
  t.ok(walked >= 2 * 30, `${walked} answers searched`);
  for (const a of answers) t.same(leaked(a.text), [], a.what);

  // Admins see the URL in full where it can be edited.
  const adminConfig = await call('admin', 'GET', '/stream/config');
  t.equal(adminConfig.body.output.url, mainUrl, 'admin reads the full URL');
  const viewerConfig = await call('viewer', 'GET', '/stream/config');
  t.equal(viewerConfig.body.output.url, `rtmp://***@127.0.0.1:${port}/live/***`, 'a viewer reads it redacted');
  t.equal(viewerConfig.headers.get('etag'), adminConfig.headers.get('etag'), 'same version');
  const metrics = await call('admin', 'GET', '/metrics');
  t.same(leaked(String(metrics.body)), [], 'no secret in /metrics');

  // Every WebSocket message of non-admins, the welcome included.
  for (const c of sockets) {
    const welcome = c.messages
      .map((m) => JSON.parse(m) as { type: string; payload?: { config?: { output: { url: string } } } })
      .find((m) => m.type === 'stateUpdate' && m.payload?.config);
    t.ok(welcome, `${c.role} got the whole state`);
    const all = c.messages.join('\n');
    if (c.role === 'admin') {
      t.equal(welcome?.payload?.config?.output.url, mainUrl, 'admin socket: the full URL');
    } else {
      t.same(leaked(all), [], `${c.role} socket: no secret in ${c.messages.length} messages`);
      t.match(welcome?.payload?.config?.output.url, /\/live\/\*\*\*$/);
    }
  }
  const events = sockets
    .filter((c) => c.role === 'viewer')
    .flatMap((c) => c.messages)
    .filter((m) => m.includes('"outputUpdate"'));
  t.ok(events.length > 0, `viewers got ${events.length} output events (searched above)`);
});
