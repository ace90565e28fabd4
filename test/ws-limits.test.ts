import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcp } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { startChild } from './helpers/child-server.js';
import { startServer } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kernel memory of all TCP sockets, bytes: `TCP: ... mem <pages>` of /proc/net/sockstat x the page size (4 KiB here). */
function tcpMemBytes(): number {
  const m = /^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  return Number(m?.[1] ?? 0) * 4096;
}

/** Opens a socket; resolves with it once open, or with the HTTP status of a refused upgrade. */
function open(url: string, options: { headers?: Record<string, string> } = {}): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => resolve(0));
  });
}

const MB = 1024 * 1024;

t.test('200 never-reading preview sockets from one address: refused past WS_MAX_PER_IP, kernel socket memory bounded', async (t) => {
  const s = await startChild({
    STATE_STORE: 'memory',
    AUTOSTART: 'true',
    OUTPUT_URL: 'program.flv',
    RECORDINGS_DIR: mkdtempSync(join(tmpdir(), 'sm-rec-')),
    WIDTH: '1280',
    HEIGHT: '720',
    FPS: '10',
    PREVIEW_FPS: '10',
    PREVIEW_WIDTHS: '160,640,1280',
    PREVIEW_QUALITY: '95',
    WS_CONGESTION_CLOSE_MS: '600000',
    WORKERS: '1',
    LOG_LEVEL: 'warn',
  });
  t.teardown(() => s.stop('SIGKILL'));
  const url = s.base.replace('http', 'ws') + '/stream/ws?target=preview&quality=high';
  const mem0 = tcpMemBytes();
  const results: (WebSocket | number)[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await open(url);
    // Never reads: the kernel's buffers fill as far as the server lets them.
    if (typeof r !== 'number') r.pause();
    results.push(r);
  }
  const sockets = results.filter((r): r is WebSocket => typeof r !== 'number');
  t.teardown(() => sockets.forEach((w) => w.terminate()));
  const refused = results.filter((r) => r === 429).length;
  t.equal(sockets.length, 32, 'WS_MAX_PER_IP (32) sockets open');
  t.equal(refused, 168, 'the other 168 refused with 429');
  let peak = 0;
  for (let i = 0; i < 16; i++) {
    await sleep(500);
    peak = Math.max(peak, tcpMemBytes());
  }
  t.comment(`TCP kernel memory: ${(mem0 / MB).toFixed(1)} MB before, peak ${(peak / MB).toFixed(1)} MB over 8 s of 1280-wide q95 previews`);
  t.ok(peak < 100 * MB, `kernel socket memory stayed under 100 MB (peak ${(peak / MB).toFixed(1)} MB)`);
  t.ok(peak - mem0 < 32 * 2 * MB, `at most ~2 MB per never-reading socket (grew ${((peak - mem0) / MB).toFixed(1)} MB for 32)`);
  // A reader from elsewhere (another token or address) is unaffected: here, after the slow ones leave.
  sockets.forEach((w) => w.terminate());
  await sleep(300);
  const again = await open(url);
  t.not(typeof again, 'number', 'a new socket is accepted once they closed');
  if (typeof again !== 'number') {
    const frame = await new Promise<boolean>((resolve) => {
      again.once('message', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    t.ok(frame, 'and gets messages');
    again.terminate();
  }
});

t.test('per-token cap, and a slow upgrade is cut off by HEADERS_TIMEOUT_MS', async (t) => {
  const VIEWER = 'viewer0123456789abcdef';
  const OTHER = 'viewer9876543210fedcba';
  const s = await startServer({
    AUTH_TOKENS: `viewer:${VIEWER},viewer:${OTHER}`,
    WS_MAX_PER_TOKEN: '5',
    WS_MAX_PER_IP: '100',
    HEADERS_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: '2000',
    WORKERS: '1',
  });
  t.teardown(() => s.close());
  const url = `ws://127.0.0.1:${s.app.port}/stream/ws`;
  const mine: WebSocket[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await open(url, { headers: { authorization: `Bearer ${VIEWER}` } });
    if (typeof r !== 'number') mine.push(r);
  }
  t.teardown(() => mine.forEach((w) => w.terminate()));
  t.equal(mine.length, 5, 'five sockets for one token');
  t.equal(await open(url, { headers: { authorization: `Bearer ${VIEWER}` } }), 429, 'the sixth: 429');
  t.equal(await open(`${url}?token=${VIEWER}`), 429, 'also with ?token=');
  const other = await open(url, { headers: { authorization: `Bearer ${OTHER}` } });
  t.not(typeof other, 'number', 'another token is not affected');
  if (typeof other !== 'number') other.terminate();
  const closed = new Promise((r) => mine[0]!.once('close', r));
  mine[0]!.close();
  await closed;
  await sleep(100);
  const next = await open(url, { headers: { authorization: `Bearer ${VIEWER}` } });
  t.not(typeof next, 'number', 'a slot frees when a socket closes');
  if (typeof next !== 'number') next.terminate();

  // Slowloris on the upgrade: headers never finish.
  const started = performance.now();
  const cut = await new Promise<number>((resolve) => {
    const sock = tcp(s.app.port, '127.0.0.1', () => sock.write(`GET /stream/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`));
    sock.on('error', () => undefined);
    sock.once('close', () => resolve(performance.now() - started));
    sock.resume();
    setTimeout(() => {
      sock.destroy();
      resolve(Infinity);
    }, 8000);
  });
  t.ok(cut < 4000, `a half-sent upgrade is closed after ${cut.toFixed(0)} ms (HEADERS_TIMEOUT_MS 1000, checked every second)`);
});

t.test('1000 idle WebSocket sockets from one address: 32 held, the rest refused, the server answers fast', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction', WORKERS: '1' });
  t.teardown(() => s.close());
  const url = `ws://127.0.0.1:${s.app.port}/stream/ws?target=state`;
  const results = await Promise.all(Array.from({ length: 1000 }, () => open(url)));
  const sockets = results.filter((r): r is WebSocket => typeof r !== 'number');
  t.teardown(() => sockets.forEach((w) => w.terminate()));
  t.equal(sockets.length, 32, '32 open');
  t.equal(results.filter((r) => r === 429).length, 968, '968 refused with 429');
  const t0 = performance.now();
  t.equal((await s.call('GET', '/health')).status, 200);
  const ms = performance.now() - t0;
  t.ok(ms < 1000, `/health answers in ${ms.toFixed(0)} ms`);
  t.equal(s.app.ws.count('state'), 32, 'the hub holds 32');
});
