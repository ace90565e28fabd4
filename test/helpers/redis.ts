import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './rtmp-server.js';

/** A real redis-server on a free loopback port, without persistence unless given a folder. */
export interface RedisServer {
  port: number;
  url: string;
  /** Kills it without warning (SIGKILL), like a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty, unless `dir` was given and a SAVE wrote it there). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts `redis-server` (Debian's redis-server package) on a free port.
 * @param dir where an explicit SAVE writes `dump.rdb`, which a restart loads; none: nothing survives
 * @throws Error when it is not installed or does not come up within 5 s
 */
export async function startRedis(dir?: string): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const up = async (): Promise<void> => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(dir ? ['--dir', dir] : [])],
      { stdio: 'ignore' },
    );
    const p = proc;
    const failed = new Promise<never>((_, reject) =>
      p.once('error', (err) => reject(new Error(`redis-server: ${err.message} (apt-get install redis-server)`))),
    );
    const deadline = Date.now() + 5000;
    while (!(await Promise.race([portOpen(port), failed]))) {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const down = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  };
  await up();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => down('SIGKILL'),
    restart: up,
    stop: () => down('SIGTERM'),
  };
}
