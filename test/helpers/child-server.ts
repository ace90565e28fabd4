import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './rtmp-server.js';
import { childEnv } from './child-env.js';

/** Stream Manager as a real child process (`node dist/orchestrator/main.js`). */
export interface ChildServer {
  base: string;
  proc: ChildProcess;
  /** Everything it logged so far (pino JSON lines). */
  output(): string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Children still running, killed if this test process exits or is killed (a timed-out test must not leave a server behind). */
const children = new Set<ChildProcess>();
/** Default asset folders made for children, removed when this test process exits (they piled up in /tmp by the thousand). */
const scratch = new Set<string>();
const killChildren = (): void => {
  for (const c of children) c.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
};
process.once('exit', killChildren);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(1);
  });
}

/**
 * Starts the server with `env` on free ports and waits until `/health` answers; `options.nofile`
 * lowers its fd limit; `options.cwd` runs it in another working directory (ASSET_ROOT then
 * defaults to this checkout); `options.readyMs` how long it may take to answer (20 s). No env file
 * is read unless `env` sets ENV_FILE (a developer's `.env` must not change the tests).
 * @throws Error when it exits or does not answer in time
 */
export async function startChild(
  env: Record<string, string>,
  options: { nofile?: number; cwd?: string; readyMs?: number } = {},
): Promise<ChildServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startChildOnce(env, options);
    } catch (err) {
      // freePort() frees the port before the child binds it: another test's process may take it
      // meanwhile (EADDRINUSE, seen on CI). Another free port then, unless the test chose the port.
      const taken = err instanceof Error && err.message.startsWith('server exited') && err.message.includes('EADDRINUSE');
      if (!taken || env['PORT'] !== undefined || attempt >= 3) throw err;
    }
  }
}

async function startChildOnce(
  env: Record<string, string>,
  options: { nofile?: number; cwd?: string; readyMs?: number },
): Promise<ChildServer> {
  const port = await freePort();
  const main = resolve('dist/orchestrator/main.js');
  // With `nofile`, the server runs under `ulimit -n <nofile>` (soft and hard), as on a host with a low fd limit.
  const [cmd, args] = options.nofile
    ? ['bash', ['-c', `ulimit -n ${options.nofile} && exec "$0" "$1"`, process.execPath, main]]
    : [process.execPath, [main]];
  let assets = env.ASSET_STORAGE_PATH;
  if (assets === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sm-child-'));
    scratch.add(dir);
    assets = join(dir, 'assets');
  }
  const proc = spawn(cmd, args, {
    env: {
      ...childEnv(),
      PORT: String(port),
      WS_PORT: '0',
      WIDTH: '320',
      HEIGHT: '180',
      LOG_LEVEL: 'info',
      ENV_FILE: 'none',
      ASSET_STORAGE_PATH: assets,
      ...(options.cwd ? { ASSET_ROOT: process.cwd() } : {}),
      ...env,
    },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyMs ?? 20_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${out}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok || r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      // Not left running: its open pipes would keep the test file alive until tap's timeout.
      proc.kill('SIGKILL');
      throw new Error(`server did not come up in ${options.readyMs ?? 20_000} ms: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    proc,
    output: () => out,
    async call(method, path, body, headers = {}) {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill(signal);
      return exited;
    },
  };
}
