import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../orchestrator/config/env.js';
import { ffmpegTarget, OutputPolicy } from '../orchestrator/output/output-path.js';
import { AppError } from '../shared/errors.js';
import { startServer, type TestServer } from './helpers/server.js';
import { childEnv } from './helpers/child-env.js';

/**
 * Output URLs end up as ffmpeg arguments and as files: every entry (PATCH /config, POST and PATCH
 * /outputs, OUTPUT_URL, stored state) refuses what would write outside RECORDINGS_DIR, reach
 * another protocol or be read as an option: 400, nothing spawned, nothing written, no connection made.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A value as an ASCII-only test name (a U+2028 in a name would break the TAP stream). */
const show = (v: string): string =>
  JSON.stringify(v.length > 60 ? `${v.slice(0, 20)}...(${v.length})` : v).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Every file and folder under `dir`, recursively (symlinks not followed). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Pids of the ffmpeg processes this test process spawned (the server runs in-process). */
function ffmpegChildren(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === process.pid && f[2] === 'ffmpeg')
    .map((f) => Number(f[0]))
    .sort();
}

/** A TCP listener that counts connections (an attacker's HTTP/TCP sink). */
async function sink(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, connections: () => n };
}

/** File paths and URLs no entry may accept as a main or `file` output. */
function attacks(outside: string, port: number): string[] {
  return [
    '/etc/cron.d/x.ts',
    `${outside}/abs.mp4`,
    `//${outside.slice(1)}/abs2.mp4`,
    `/./${outside.slice(1)}/abs3.ts`,
    '../outside/x.mp4',
    'a/../../x.mp4',
    'a/b/../../../x.ts',
    '..',
    'file:x.mp4',
    `file://${outside}/f.mp4`,
    `FILE:${outside}/f.mp4`,
    `tcp://127.0.0.1:${port}`,
    `tcp://127.0.0.1:${port}/x.mp4`,
    `http://127.0.0.1:${port}/x.mp4`,
    `HTTP://127.0.0.1:${port}/x.mp4`,
    `udp://127.0.0.1:${port}?x.ts`,
    `gopher://127.0.0.1:${port}/x.mp4`,
    'concat:a.mp4|b.mp4',
    'pipe:1',
    'pipe:1.ts',
    'data:video/mp4;base64,AAAA.mp4',
    'subfile,,start,0,end,0,,:x.mp4',
    'crypto+file:x.mp4',
    'async:x.mp4',
    'cache:x.ts',
    'x:y.mp4',
    '-y.mp4',
    '-i.ts',
    'sub/-f.mkv',
    'x.mp4\n',
    'a\nb.mp4',
    'a\rb.ts',
    'a\u0000b.mp4',
    'a\tb.mp4',
    'x\u202Emp4.ts',
    'a\u2028b.mp4',
    'zero\u200Bwidth.mp4',
    '..\\x.mp4',
    'C:\\x.mp4',
    `${'a'.repeat(4096)}.mp4`,
    `${'a'.repeat(230)}.mp4`,
    `${'é'.repeat(110)}.mp4`,
    'x.avi',
    'x.mp4.sh',
    'x',
  ];
}

/** Network URLs refused for the `rtmp` and `srt` kinds (scheme allowlist, whitespace). */
function networkAttacks(port: number): { kind: string; url: string }[] {
  return [
    { kind: 'rtmp', url: `http://127.0.0.1:${port}/x.mp4` },
    { kind: 'rtmp', url: `tcp://127.0.0.1:${port}` },
    { kind: 'rtmp', url: `rtmp://127.0.0.1:${port}` },
    { kind: 'rtmp', url: `rtmp://127.0.0.1:${port}/app/key live=1` },
    { kind: 'rtmp', url: `rtmp://127.0.0.1:${port}/app/key\nx` },
    { kind: 'rtmp', url: 'file:/etc/cron.d/x.ts' },
    { kind: 'rtmp', url: `srt://127.0.0.1:${port}` },
    { kind: 'srt', url: `tcp://127.0.0.1:${port}` },
    { kind: 'srt', url: `udp://127.0.0.1:${port}` },
    { kind: 'srt', url: `srt://127.0.0.1:${port}?passphrase=a b` },
    { kind: 'srt', url: `rtmp://127.0.0.1:${port}/a/b` },
    { kind: 'hls', url: `http://127.0.0.1:${port}/x.m3u8` },
    { kind: 'file', url: `rtmp://127.0.0.1:${port}/a/b.mp4` },
  ];
}

t.test('output URL attacks: 400 at every entry, nothing spawned, written or connected', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-confine-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const outside = join(dir, 'outside');
  const allowed = join(dir, 'allowed');
  mkdirSync(outside);
  const rec = join(dir, 'recordings');
  const tcp = await sink();
  t.teardown(() => tcp.server.close());
  const s: TestServer = await startServer({
    RECORDINGS_DIR: rec,
    OUTPUT_DIRS: `${allowed}, /nonexistent/other`,
    WIDTH: '160',
    HEIGHT: '90',
    FPS: '15',
    ENCODER_STALL_MS: '60000',
  });
  t.teardown(() => s.close());

  // OUTPUT_DIRS: absolute paths under it are allowed (prefix tricks are not).
  t.equal(
    (await s.call('POST', '/stream/outputs', { id: 'arch', kind: 'file', url: `${allowed}/take.ts`, enabled: false })).status,
    201,
    'a file under OUTPUT_DIRS',
  );
  t.equal(
    (await s.call('POST', '/stream/outputs', { id: 'inrec', kind: 'file', url: `${rec}/abs.ts`, enabled: false })).status,
    201,
    'an absolute path under RECORDINGS_DIR',
  );
  const prefix = await s.call('POST', '/stream/outputs', { kind: 'file', url: `${allowed}x/take.ts`, enabled: false });
  t.equal(prefix.status, 400, 'a sibling whose name starts like an OUTPUT_DIRS folder is outside');
  t.equal(prefix.body.error.code, 'SM_ERR_OUTPUT_URL');

  // Live, with one extra output running: a refused change must leave every ffmpeg as it is.
  t.equal((await s.call('POST', '/stream/outputs', { id: 'ok', kind: 'file', url: 'ok.ts' })).status, 201);
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  for (let i = 0; i < 40 && s.app.pipeline.hub.pids().length < 2; i++) await sleep(100);
  const pidsBefore = ffmpegChildren();
  t.ok(pidsBefore.length >= 3, `main encoder, shared encoder and muxer run (${pidsBefore.length})`);
  const startsBefore = (await s.app.metrics.encoderStarts.get()).values[0]!.value;
  const configBefore = (await s.call('GET', '/stream/config')).body;
  const outputsBefore = (await s.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id);

  const refused = (res: { status: number; body: any }, what: string): void => {
    t.equal(res.status, 400, what);
    t.ok(['SM_ERR_VALIDATION', 'SM_ERR_OUTPUT_URL'].includes(res.body?.error?.code), `${what}: ${res.body?.error?.code}`);
  };
  let n = 0;
  for (const url of attacks(outside, tcp.port)) {
    const label = show(url);
    refused(await s.call('PATCH', '/stream/config', { output: { url } }), `PATCH /config ${label}`);
    refused(await s.call('POST', '/stream/outputs', { id: `x${n++}`, kind: 'file', url }), `POST /outputs file ${label}`);
    refused(await s.call('PATCH', '/stream/outputs/ok', { url }), `PATCH /outputs/ok ${label}`);
  }
  for (const { kind, url } of networkAttacks(tcp.port)) {
    refused(await s.call('POST', '/stream/outputs', { kind, url }), `POST /outputs ${kind} ${show(url)}`);
  }
  // The very file the issue wrote, through a sub-folder that does not exist yet.
  refused(await s.call('POST', '/stream/outputs', { kind: 'file', url: '/etc/cron.d/sub/x.ts' }), 'a new folder outside');

  await sleep(500);
  t.same(ffmpegChildren(), pidsBefore, 'no ffmpeg was started or stopped');
  t.equal((await s.app.metrics.encoderStarts.get()).values[0]!.value, startsBefore, 'encoder_starts_total unchanged');
  t.same((await s.call('GET', '/stream/config')).body, configBefore, 'config unchanged');
  t.same(
    (await s.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id),
    outputsBefore,
    'no output added',
  );
  t.same(tree(outside), [], 'nothing written outside RECORDINGS_DIR');
  t.notOk(existsSync('/etc/cron.d/x.ts'), '/etc/cron.d/x.ts not written');
  t.notOk(existsSync('/etc/cron.d/sub'), '/etc/cron.d/sub not created');
  t.equal(tcp.connections(), 0, 'no connection to the TCP/HTTP sink');
  t.same(
    tree(rec).filter((f) => !/^(ok-|stream-).*\.(ts|mp4)$/.test(f)),
    [],
    'only the running recordings in RECORDINGS_DIR',
  );

  // Symlinks inside RECORDINGS_DIR that lead out: refused at the request...
  symlinkSync(outside, join(rec, 'link'));
  for (const url of ['link/x.ts', 'link/sub/x.ts']) {
    const res = await s.call('POST', '/stream/outputs', { kind: 'file', url });
    t.equal(res.status, 400, `POST ${url}`);
    t.equal(res.body.error.code, 'SM_ERR_OUTPUT_URL', `${url}: through a symlink`);
    t.equal(
      (await s.call('PATCH', '/stream/config', { output: { url: url.replace('.ts', '.mp4') } })).body.error.code,
      'SM_ERR_OUTPUT_URL',
    );
  }
  // ...at a later start of an output accepted before the symlink appeared...
  t.equal((await s.call('POST', '/stream/outputs', { id: 'late', kind: 'file', url: 'later/x.ts', enabled: false })).status, 201);
  symlinkSync(outside, join(rec, 'later'));
  const started = await s.call('POST', '/stream/outputs/late/start');
  t.equal(started.status, 400, 'starting it is refused');
  t.equal(started.body.error.code, 'SM_ERR_OUTPUT_URL');
  // ...and when the stream goes live with it enabled: it fails, nothing is spawned for it.
  t.equal((await s.call('POST', '/stream/stop')).status, 200);
  t.equal((await s.call('POST', '/stream/outputs', { id: 'late2', kind: 'file', url: 'later2/x.ts' })).status, 201);
  symlinkSync(outside, join(rec, 'later2'));
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  const late2 = (await s.call('GET', '/stream/outputs/late2')).body;
  t.equal(late2.state, 'failed', 'the output fails instead of writing through the symlink');
  t.match(late2.lastError, /symlink/);
  // A symlink planted at a recording's name is never followed: the next free name is used.
  symlinkSync(join(outside, 'trap.mp4'), join(rec, 'trap.mp4'));
  t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'trap.mp4' } })).status, 200, 'a name in RECORDINGS_DIR');
  await sleep(300);
  t.equal(s.app.pipeline.output, join(rec, 'trap-1.mp4'), 'recording goes to trap-1.mp4');
  t.same(tree(outside), [], 'still nothing written outside');
  t.equal((await s.call('POST', '/stream/stop')).status, 200);
});

t.test('unicode look-alikes stay names inside RECORDINGS_DIR; ffmpeg gets file:<absolute path>', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-confine-uni-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rec = join(dir, 'rec');
  const paths = new OutputPolicy(rec);
  // Fullwidth solidus and full stops, one-dot leaders, a combining dot, NFD: names, not separators or `..`.
  for (const url of [
    '\uFF0E\uFF0E\uFF0Fx.mp4',
    '\u2025/x.mp4',
    '\u2024\u2024/x.ts',
    '.\u0307./x.mkv',
    'e\u0301t\u00E9.flv',
    '\u30C6\u30B9\u30C8.ts',
  ]) {
    const path = paths.filePath(url);
    t.ok(path.startsWith(`${rec}/`), `${show(url)} stays under RECORDINGS_DIR`);
  }
  const claimed = paths.claim('sub/x.mp4');
  t.equal(ffmpegTarget(claimed), `file:${claimed}`, 'a file is passed as file:<absolute path>');
  t.equal(ffmpegTarget('RTMP://h/app/KeY'), 'rtmp://h/app/KeY', 'a scheme is passed in lower case, the key as is');
  t.throws(() => paths.filePath('/etc/passwd.ts'), AppError);
  t.same(tree(dir), ['rec', 'rec/sub', 'rec/sub/x.mp4'], 'checks create nothing; a claim creates its file');
});

t.test('OUTPUT_URL from the environment is checked as strictly; the server exits 1 with the reason', async (t) => {
  for (const url of [
    '/etc/cron.d/x.ts',
    '../x.mp4',
    '-y.mp4',
    'file:x.mp4',
    'tcp://127.0.0.1:1',
    'http://127.0.0.1:1/x.mp4',
    'a\nb.mp4',
    'pipe:1.ts',
  ]) {
    try {
      loadConfig({ OUTPUT_URL: url, RECORDINGS_DIR: '/tmp/sm-rec' });
      t.fail(`accepted ${show(url)}`);
    } catch (err) {
      t.ok(err instanceof ConfigError && err.issues.some((i) => i.path === 'OUTPUT_URL'), `OUTPUT_URL ${show(url)} refused`);
    }
  }
  t.equal(
    loadConfig({ OUTPUT_URL: '/srv/media/x.mp4', OUTPUT_DIRS: '/srv/media' }).stream.output.url,
    '/srv/media/x.mp4',
    'allowed under OUTPUT_DIRS',
  );
  t.throws(() => loadConfig({ OUTPUT_DIRS: 'relative/dir' }), ConfigError, 'OUTPUT_DIRS must be absolute');
  t.throws(() => loadConfig({ OUTPUT_DIRS: '/' }), ConfigError, 'OUTPUT_DIRS may not be /');
  const res = spawnSync(process.execPath, ['dist/orchestrator/main.js'], {
    env: { ...childEnv(), OUTPUT_URL: '/etc/cron.d/x.ts', PORT: '0', WS_PORT: '0' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.equal(res.status, 1, 'exit 1');
  t.match(res.stdout, /OUTPUT_URL/);
  t.match(res.stdout, /RECORDINGS_DIR/);
  t.notOk(existsSync('/etc/cron.d/x.ts'));
});

t.test('a stored output that is no longer allowed is set aside at load and never spawned', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-confine-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const allowed = join(dir, 'allowed');
  const env = { STATE_STORE: 'file', DATA_DIR: join(dir, 'data'), RECORDINGS_DIR: join(dir, 'rec'), WIDTH: '160', HEIGHT: '90', FPS: '15' };
  const first = await startServer({ ...env, OUTPUT_DIRS: allowed });
  t.equal((await first.call('PATCH', '/stream/config', { output: { url: `${allowed}/main.mp4` } })).status, 200);
  t.equal((await first.call('POST', '/stream/outputs', { id: 'iso', kind: 'file', url: `${allowed}/iso.ts` })).status, 201);
  t.equal((await first.call('POST', '/stream/outputs', { id: 'keep', kind: 'file', url: 'keep.ts', enabled: false })).status, 201);
  await first.close();

  // The same store, without OUTPUT_DIRS: both paths are now outside.
  const second = await startServer(env);
  t.teardown(() => second.close());
  t.equal((await second.call('GET', '/stream/config')).body.output.url, null, 'the main output is set aside: recordings');
  const ids = (await second.call('GET', '/stream/outputs')).body.outputs.map((o: { id: string }) => o.id);
  t.same(ids, ['main', 'keep'], 'the outside output is skipped, the valid one kept');
  t.equal((await second.call('POST', '/stream/start')).status, 200);
  await sleep(1000);
  t.equal((await second.call('POST', '/stream/stop')).status, 200);
  t.same(tree(allowed), [], 'nothing written to the folder that is no longer allowed');
  t.ok(
    tree(join(dir, 'rec')).some((f) => /^stream-.*\.mp4$/.test(f)),
    'the stream recorded under RECORDINGS_DIR',
  );
});

t.teardown(() => {
  // Should the server ever have written there, do not leave a cron file behind.
  for (const p of ['/etc/cron.d/x.ts']) if (existsSync(p)) unlinkSync(p);
});
