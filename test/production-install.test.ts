/**
 * The Docker image's runtime, without a container engine (none can run here: Docker Hub, where the
 * base image comes from, is out of reach): the image's production install (`npm ci --omit=dev`,
 * as the build stage's `npm prune --omit=dev` leaves it) in a temp folder holding what the image
 * holds (package.json, the lock, `assets/`, the compiled `dist/`, built by `npm run build` as the
 * Dockerfile does), started with the Dockerfile's ENV and CMD, `LOG_PRETTY=1` and the tokens the
 * `docker run` line in docs/operations.md (Docker) passes: it must answer `/health`, and the Dockerfile's HEALTHCHECK
 * command must pass. Needs the npm registry (or npm's cache) like `npm ci`; about 10 s with a warm cache.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { freePort } from './helpers/rtmp-server.js';

const run = promisify(execFile);

/** The Dockerfile's last stage: its ENV pairs, CMD argv and HEALTHCHECK command. */
function dockerfile(): { env: Record<string, string>; cmd: string[]; healthcheck: string } {
  const text = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, k, v] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[k!] = v!;
  }
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
  const healthcheck = /^HEALTHCHECK .*?CMD (.*)$/m.exec(runtime)![1]!;
  return { env, cmd, healthcheck };
}

t.test('production install: npm ci --omit=dev, started as the image starts it with LOG_PRETTY=1, answers /health', async (t) => {
  t.ok(existsSync('dist/orchestrator/main.js'), 'dist is built (npm test builds first)');
  const dir = mkdtempSync(join(tmpdir(), 'sm-prod-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // What the image's runtime stage copies: package.json, node_modules (production), dist, assets.
  for (const f of ['package.json', 'package-lock.json']) cpSync(f, join(dir, f));
  const { stdout: tracked } = await run('git', ['ls-files', '-z', 'assets']);
  for (const f of tracked.split('\0').filter(Boolean)) cpSync(f, join(dir, f));
  cpSync('dist', join(dir, 'dist'), { recursive: true });

  const started = Date.now();
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeout: 90_000 });
  t.comment(`npm ci --omit=dev: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.ok(existsSync(join(dir, 'node_modules', 'pino-pretty')), 'pino-pretty is installed (a runtime dependency)');
  t.notOk(existsSync(join(dir, 'node_modules', 'typescript')), 'no dev dependencies (typescript)');
  t.notOk(existsSync(join(dir, 'node_modules', 'tap')), 'no dev dependencies (tap)');

  const image = dockerfile();
  t.equal(image.env['HOST'], '0.0.0.0', 'the image binds every address');
  t.equal(image.cmd[0], 'node');
  const port = await freePort();
  // /data of the image, here a folder of the temp copy.
  const env = Object.fromEntries(Object.entries(image.env).map(([k, v]) => [k, v.replace(/^\/data(?=\/|$)/, join(dir, 'data'))]));
  const token = 'a'.repeat(64);
  // Without tap's coverage hooks (NODE_OPTIONS): the server runs on the temp copy's modules only.
  const proc = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, ...image.cmd.slice(1)], {
    cwd: dir,
    env: {
      PATH: process.env['PATH'] ?? '',
      ...env,
      PORT: String(port),
      WS_PORT: '0',
      WORKERS: '1',
      LOG_PRETTY: '1',
      AUTH_TOKENS: `admin:${token}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  t.teardown(() => {
    proc.kill('SIGKILL');
  });

  const deadline = Date.now() + 30_000;
  let health: Response | null = null;
  while (!health?.ok) {
    if (proc.exitCode !== null) break;
    if (Date.now() > deadline) break;
    health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    if (!health?.ok) await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(health?.status, 200, `/health answers 200: ${out}`);
  const body = (await health?.json()) as { status?: string } | undefined;
  t.match(body, { status: 'ok' });
  const hc = await run('sh', ['-c', image.healthcheck], { env: { PATH: process.env['PATH'] ?? '', PORT: String(port) } }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );
  t.equal(hc, 0, 'the HEALTHCHECK command passes');
  t.equal((await fetch(`http://127.0.0.1:${port}/stream/config`)).status, 401, 'tokens required');

  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'clean shutdown');
  // eslint-disable-next-line no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  t.match(plain, /INFO.*stream manager listening/, 'human-readable lines (pino-pretty)');
  t.notOk(
    plain.split('\n').some((l) => l.startsWith('{')),
    'no JSON lines',
  );
  t.notOk(/Error: unable to determine transport target|Cannot find module/.test(plain), 'no missing module');
  t.ok(existsSync(join(dir, 'data', 'state', 'state.json')), "state under the image's DATA_DIR");
});
