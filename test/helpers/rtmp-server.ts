import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The RTMP module Debian's libnginx-mod-rtmp installs. */
export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A real RTMP server (nginx + nginx-rtmp) on a free loopback port; `app` accepts any stream. */
export interface RtmpServer {
  url(stream: string): string;
  /** Stops nginx (publishers are disconnected); `restart` brings it back on the same port. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops nginx for good and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground with only an RTMP `live` application on a free port.
 * @throws Error when nginx or its RTMP module is not installed, or nginx does not come up
 */
export async function startRtmpServer(): Promise<RtmpServer> {
  if (!existsSync(NGINX_RTMP_MODULE)) throw new Error(`${NGINX_RTMP_MODULE} missing: apt-get install nginx-light libnginx-mod-rtmp`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sm-rtmp-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process off;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; } } }
`,
  );
  let proc: ChildProcess | null = null;
  const up = async (): Promise<void> => {
    const p = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // Wait until the port accepts connections.
    const deadline = Date.now() + 5000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      const open = await new Promise<boolean>((resolve) => {
        const sock = createServer().listen(port, '127.0.0.1');
        sock.once('listening', () => sock.close(() => resolve(false)));
        sock.once('error', () => resolve(true));
      });
      if (open) break;
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await up();
  return {
    url: (stream) => `rtmp://127.0.0.1:${port}/live/${stream}`,
    kill: down,
    restart: up,
    async stop() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
