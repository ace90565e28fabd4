import { connect } from 'node:net';
import t from 'tap';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * Sends `head` (request line and headers, without the blank line) and `body` over a fresh TCP
 * connection, exactly as written (no client library to fix up the Host), and resolves with the
 * status code and the body of the answer.
 */
function raw(port: number, head: string, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      data += d;
      // Upgrades answered 101 stay open: the status line is all we need.
      if (/^HTTP\/1\.1 101 /.test(data) && data.includes('\r\n\r\n')) sock.destroy();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : 0, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    const len = body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : '';
    sock.end(`${head}\r\n${len}Connection: close\r\n\r\n${body}`);
  });
}

const LAYER = JSON.stringify({ id: 'rebound', content: { type: 'color', color: '#ff0000' } });
const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';

async function layerIds(s: TestServer): Promise<string[]> {
  return ((await s.call('GET', '/stream/scene')).body.layers as { id: string }[]).map((l) => l.id);
}

t.test('auth off: only loopback Host names are served (DNS rebinding)', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction', WORKERS: '1' });
  t.teardown(() => s.close());
  const port = s.app.port;
  const before = JSON.stringify((await s.call('GET', '/stream/scene')).body.layers);

  const allowed = [
    'localhost',
    `localhost:${port}`,
    `LOCALHOST:${port}`,
    'LocalHost',
    `127.0.0.1:${port}`,
    '127.0.0.1',
    '127.1.2.3',
    `[::1]:${port}`,
    '[::1]',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]',
  ];
  for (const host of allowed) {
    const res = await raw(port, `GET /stream/status HTTP/1.1\r\nHost: ${host}`);
    t.equal(res.status, 200, `Host: ${host} is served`);
  }

  const refused = [
    'evil.example',
    `evil.example:${port}`,
    'EVIL.EXAMPLE',
    '127.0.0.1.evil.example',
    `127.0.0.1.evil.example:${port}`,
    'localhost.evil.example',
    'localhost.',
    'evil@127.0.0.1',
    `127.0.0.1:${port}@evil.example`,
    '127.0.0.1/evil',
    '[::2]',
    '[::]',
    '0.0.0.0',
    '10.0.0.1',
    '[::ffff:10.0.0.1]',
    '',
  ];
  for (const host of refused) {
    const get = await raw(port, `GET /stream/status HTTP/1.1\r\nHost: ${host}`);
    // Node's own parser answers 400 to a few malformed Hosts before we see them; either way: refused.
    t.ok([400, 403].includes(get.status), `GET with Host: ${JSON.stringify(host)} refused (${get.status})`);
    const post = await raw(port, `POST /stream/layers HTTP/1.1\r\nHost: ${host}`, LAYER);
    t.ok([400, 403].includes(post.status), `POST with Host: ${JSON.stringify(host)} refused (${post.status})`);
    if (post.status === 403) t.equal(JSON.parse(post.body).error.code, 'SM_ERR_HOST_FORBIDDEN');
  }
  const evil = await raw(
    port,
    `PATCH /stream/config HTTP/1.1\r\nHost: evil.example:${port}`,
    JSON.stringify({ output: { url: 'rtmp://evil.example/live/x' } }),
  );
  t.equal(evil.status, 403, 'a rebinding page cannot repoint the output');
  t.equal(JSON.parse(evil.body).error.code, 'SM_ERR_HOST_FORBIDDEN');
  const stop = await raw(port, `POST /stream/start HTTP/1.1\r\nHost: evil.example`);
  t.equal(stop.status, 403, 'nor start the stream');
  // A request without any Host (HTTP/1.0) cannot prove where it was sent.
  t.equal((await raw(port, 'GET /stream/status HTTP/1.0')).status, 403, 'no Host at all: 403');

  t.notOk((await layerIds(s)).includes('rebound'), 'no layer was added');
  t.equal(JSON.stringify((await s.call('GET', '/stream/scene')).body.layers), before, 'the scene is unchanged');
  t.equal((await s.call('GET', '/stream/config')).body.output.url, null, 'the output is unchanged');
  t.equal((await s.call('GET', '/stream/status')).body.isLive, false, 'the stream was not started');

  // A foreign page posting to the right Host (CSRF): its Origin gives it away.
  const csrf = await raw(port, `POST /stream/layers HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example`, LAYER);
  t.equal(csrf.status, 403, 'a foreign Origin cannot post');
  t.equal(JSON.parse(csrf.body).error.code, 'SM_ERR_ORIGIN_FORBIDDEN');
  const same = await raw(port, `POST /stream/layers HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}`, LAYER);
  t.equal(same.status, 201, 'the same origin (the dashboard) can');
  t.ok((await layerIds(s)).includes('rebound'));
});

t.test('auth off: WebSocket upgrades check Host and Origin', async (t) => {
  const s = await startServer({ WORKERS: '1' });
  t.teardown(() => s.close());
  for (const port of [s.app.port, s.app.wsPort!]) {
    const up = (host: string, origin?: string): Promise<{ status: number }> =>
      raw(port, `GET /stream/ws?target=state HTTP/1.1\r\nHost: ${host}\r\n${origin ? `Origin: ${origin}\r\n` : ''}${UPGRADE}`);
    t.equal(
      (await up(`evil.example:${port}`, `http://evil.example:${port}`)).status,
      403,
      `${port}: a foreign Origin with a matching spoofed Host`,
    );
    t.equal((await up(`evil.example:${port}`)).status, 403, `${port}: a spoofed Host without Origin`);
    t.equal(
      (await up(`127.0.0.1.evil.example:${port}`, `http://127.0.0.1.evil.example:${port}`)).status,
      403,
      `${port}: 127.0.0.1.evil.example`,
    );
    t.equal((await up(`127.0.0.1:${port}`, 'http://evil.example')).status, 403, `${port}: a foreign Origin with the real Host`);
    t.equal((await up(`127.0.0.1:${port}`, `http://127.0.0.1:${port}`)).status, 101, `${port}: the same origin`);
    t.equal((await up(`[::1]:${port}`)).status, 101, `${port}: [::1] without Origin`);
    t.equal((await up(`LOCALHOST:${port}`, `http://localhost:${port}`)).status, 101, `${port}: uppercase localhost`);
    // Not a Host check, but an upgrade attack all the same: a URL that does not parse.
    for (const path of ['//', '///', '//[']) {
      t.equal((await raw(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE}`)).status, 400, `${port}: upgrade of ${path}: 400`);
    }
  }
  t.equal((await s.call('GET', '/health')).status, 200, 'the server is still up');
});

t.test('ALLOWED_HOSTS adds names; with tokens the check is off unless ALLOWED_HOSTS is set', async (t) => {
  const a = await startServer({ ALLOWED_HOSTS: 'Stream.Example.com, studio.lan:8080', WORKERS: '1' });
  t.teardown(() => a.close());
  t.equal((await raw(a.app.port, 'GET /stream/status HTTP/1.1\r\nHost: stream.example.com:8443')).status, 200, 'an allowed name, any port');
  t.equal((await raw(a.app.port, 'GET /stream/status HTTP/1.1\r\nHost: STUDIO.LAN')).status, 200, 'entries compare without case or port');
  t.equal((await raw(a.app.port, 'GET /stream/status HTTP/1.1\r\nHost: localhost')).status, 200, 'loopback still');
  t.equal((await raw(a.app.port, 'GET /stream/status HTTP/1.1\r\nHost: example.com')).status, 403, 'a parent domain is not allowed');

  const TOKEN = 'operator:0123456789abcdef0123456789abcdef';
  const b = await startServer({ AUTH_TOKENS: TOKEN, WORKERS: '1' });
  t.teardown(() => b.close());
  const auth = `Authorization: Bearer ${TOKEN.split(':')[1]}`;
  t.equal(
    (await raw(b.app.port, `GET /stream/status HTTP/1.1\r\nHost: stream.example.com\r\n${auth}`)).status,
    200,
    'auth on: any Host (behind a proxy)',
  );
  const c = await startServer({ AUTH_TOKENS: TOKEN, ALLOWED_HOSTS: 'stream.example.com', WORKERS: '1' });
  t.teardown(() => c.close());
  t.equal(
    (await raw(c.app.port, `GET /stream/status HTTP/1.1\r\nHost: evil.example\r\n${auth}`)).status,
    403,
    'auth on with ALLOWED_HOSTS: other names refused',
  );
  t.equal(
    (await raw(c.app.port, `GET /stream/status HTTP/1.1\r\nHost: stream.example.com\r\n${auth}`)).status,
    200,
    'and the listed one served',
  );
});
