import { readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { startChild } from './helpers/child-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Opens a TCP connection and sends the start of a request, never its end (a slowloris). Resolves
 * with the socket once connected, or null when the connection failed or was closed at once (the
 * server refusing it past its connection limit).
 */
function slowClient(port: number, partial: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => resolve(null));
    sock.once('close', () => resolve(null));
    sock.once('connect', () => {
      sock.write(partial);
      resolve(sock);
    });
  });
}

/** Opens `n` slow connections, `batch` at a time. */
async function flood(port: number, n: number, partial: string, batch = 200): Promise<Socket[]> {
  const socks: Socket[] = [];
  for (let i = 0; i < n; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => slowClient(port, partial)));
    for (const s of opened) if (s) socks.push(s);
  }
  return socks;
}

/** How long /health takes to answer 200, ms (Infinity when it does not within `limitMs`). */
async function healthMs(base: string, limitMs: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(limitMs) }).catch(() => null);
  if (!res) return Infinity;
  await res.arrayBuffer();
  return res.status === 200 ? performance.now() - t0 : Infinity;
}

/** Open file descriptors of a process (Linux /proc). */
function fds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

for (const [name, env] of [
  ['with the default connection limit', {}],
  // The limit set above the fd limit: accept() and the server's own reads of /proc hit EMFILE, and
  // each of those paths must degrade, not end the process.
  ['with MAX_CONNECTIONS above the fd limit (EMFILE reached)', { MAX_CONNECTIONS: '5000' }],
] as const) {
  t.test(`3000 slow connections under ulimit -n 1024, ${name}: the process stays up and the stream keeps going`, async (t) => {
    // Live (the once-a-second stream timer runs), a low fd limit: the old server reached EMFILE and exited 1.
    const s = await startChild(
      {
        STATE_STORE: 'memory',
        AUTOSTART: 'true',
        OUTPUT_URL: 'program.flv',
        RECORDINGS_DIR: mkdtempSync(join(tmpdir(), 'sm-rec-')),
        FPS: '10',
        WORKERS: '1',
        LOG_LEVEL: 'warn',
        ...env,
      },
      { nofile: 1024 },
    );
    t.teardown(() => s.stop('SIGKILL'));
    const port = Number(new URL(s.base).port);
    const pid = s.proc.pid!;
    let maxFds = 0;
    const sampler = setInterval(() => (maxFds = Math.max(maxFds, fds(pid))), 100);
    const socks = [
      ...(await flood(port, 1500, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n')),
      // Half of them as WebSocket upgrades that never finish their headers.
      ...(await flood(port, 1500, 'GET /stream/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n')),
    ];
    // Two seconds with the fd table as full as the server lets it get: the stream timer runs twice.
    await sleep(2000);
    clearInterval(sampler);
    t.equal(s.proc.exitCode, null, `the server is still running (output: ${s.output().slice(-600)})`);
    t.comment(`the server held at most ${maxFds} fds (limit 1024)`);
    if (!('MAX_CONNECTIONS' in env)) t.ok(maxFds < 1000, `the connection limit kept the server's fds under its limit (${maxFds})`);
    for (const sock of socks) sock.destroy();
    await sleep(200);
    // Past the fd limit the kernel's accept queue is full of connections libuv must accept and close first.
    const limitMs = 'MAX_CONNECTIONS' in env ? 3000 : 1000;
    const ms = await healthMs(s.base, limitMs);
    t.ok(ms < limitMs, `/health answers ${ms.toFixed(0)} ms after they closed (limit ${limitMs} ms)`);
    const status = await s.call('GET', '/stream/status');
    t.equal(status.body.isLive, true, 'still live');
    t.notMatch(s.output(), /uncaught|^\s+at /im, 'nothing uncaught');
  });
}
