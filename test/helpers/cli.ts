import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { childEnv } from './child-env.js';

/** The built CLI (`npm run build`). */
export const CLI = resolve('dist/cli/main.js');

/** How one run ended: its exit code (null: killed) and what it wrote. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI binary as a child process with `args` and env; no STREAM_MANAGER_* of the developer's shell leaks in. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(childEnv()).filter(([k]) => !k.startsWith('STREAM_MANAGER_')));
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
