import { spawn } from 'node:child_process';

/** How a `main.js` run ended: its exit code, everything it printed, and that split in lines. */
export interface MainRun {
  code: number | null;
  out: string;
  lines: string[];
}

/**
 * Runs `node dist/orchestrator/main.js` until it exits (for start-up failures), with `env` over
 * the test's own environment, `ENV_FILE=none` (a developer's `.env` must not change a test) and
 * ports 0 unless `env` names them. As `uid` (and its group) when given: then without tap's
 * coverage hooks, which tap adds to every child's NODE_OPTIONS and which write under `.tap/`.
 * @throws Error (rejects) when it has not exited within 20 s (it is killed)
 */
export function runMain(env: Record<string, string>, uid?: number): Promise<MainRun> {
  return new Promise((resolve, reject) => {
    const [cmd, args] =
      uid === undefined
        ? [process.execPath, ['dist/orchestrator/main.js']]
        : ['env', ['-u', 'NODE_OPTIONS', process.execPath, 'dist/orchestrator/main.js']];
    const proc = spawn(cmd, args, {
      env: { ...process.env, ENV_FILE: 'none', PORT: '0', WS_PORT: '0', ...env },
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`main.js did not exit: ${out}`));
    }, 20_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, lines: out.split('\n').filter(Boolean) });
    });
  });
}
