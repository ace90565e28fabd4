/**
 * Logs a person reads: scrapes and probes at debug (not a line every few seconds at info), and
 * start-up failures (a port in use, a bad config) as one clear line and exit code 1, against the
 * real entry point in a child process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runMain } from './helpers/run-main.js';
import { startChild } from './helpers/child-server.js';

/** A TCP server holding a free port on 127.0.0.1 (closed when `t` ends). */
async function occupy(t: Test): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

/** Asserts that `lines` are pino JSON lines with exactly one at level fatal (60) whose message matches `re`, and no stack. */
function oneClearLine(t: Test, lines: string[], re: RegExp): void {
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as { level: number; msg: string; stack?: string; err?: unknown };
    } catch {
      return null;
    }
  });
  t.ok(
    parsed.every((p) => p !== null),
    `every line is a JSON log line: ${lines.join(' | ')}`,
  );
  const fatal = parsed.filter((p) => p !== null && p.level >= 50);
  t.equal(fatal.length, 1, 'one error line');
  t.match(fatal[0]?.msg, re);
  t.notOk(
    lines.some((l) => /\bat .+:\d+:\d+/.test(l) || /"stack"/.test(l)),
    'no stack trace',
  );
}

t.test('a port already in use: one line naming it, exit 1, nothing started', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-start-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await occupy(t);
  const { code, lines } = await runMain({
    PORT: String(port),
    WS_PORT: '0',
    LOG_LEVEL: 'info',
    STATE_STORE: 'memory',
    AUTOSTART: 'true',
    WIDTH: '320',
    HEIGHT: '180',
    RECORDINGS_DIR: join(dir, 'recordings'),
    DATA_DIR: join(dir, 'data'),
    ASSET_STORAGE_PATH: join(dir, 'assets'),
  });
  t.equal(code, 1, 'exit code 1');
  oneClearLine(t, lines, new RegExp(`^could not start: PORT ${port} on 127\\.0\\.0\\.1 is already in use`));
  t.notOk(existsSync(join(dir, 'recordings')), 'no recording was started');
});

t.test('WS_PORT in use: the same, naming WS_PORT', async (t) => {
  const port = await occupy(t);
  const { code, lines } = await runMain({ PORT: '0', WS_PORT: String(port), LOG_LEVEL: 'info', STATE_STORE: 'memory', AUTOSTART: 'false' });
  t.equal(code, 1);
  oneClearLine(t, lines, new RegExp(`WS_PORT ${port} on 127\\.0\\.0\\.1 is already in use`));
});

t.test('a bad config: one line naming the variable, exit 1', async (t) => {
  const { code, lines } = await runMain({ PORT: 'eighty', LOG_LEVEL: 'info', STATE_STORE: 'memory' });
  t.equal(code, 1);
  oneClearLine(t, lines, /Invalid configuration: PORT/);
});

t.test('scrapes and probes are logged at debug, other requests at info', async (t) => {
  const paths = ['/metrics', '/health', '/health/ready', '/api/health', '/api/health/ready', '/stream/health'];
  for (const level of ['info', 'debug']) {
    const s = await startChild({ LOG_LEVEL: level, STATE_STORE: 'memory', AUTOSTART: 'false' });
    t.teardown(() => s.stop());
    for (const p of paths) await fetch(s.base + p).then((r) => r.text());
    t.equal((await s.call('GET', '/stream/status')).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    const requests = s
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as { level: number; url: string; route: string });
    const status = requests.filter((r) => r.url === '/stream/status');
    t.equal(status.length, 1, `${level}: GET /stream/status logged`);
    t.equal(status[0]?.level, 30, 'at info');
    const routine = requests.filter((r) => paths.includes(r.url));
    if (level === 'info') t.same(routine, [], 'no scrape or probe at info');
    else {
      t.same([...new Set(routine.map((r) => r.url))].sort(), [...paths].sort(), 'every scrape and probe at debug');
      t.ok(
        routine.every((r) => r.level === 20),
        'level 20 (debug)',
      );
    }
    await s.stop();
  }
});
