/**
 * Acknowledged write throughput of the state store: 50 concurrent clients each send changes
 * (`PATCH /stream/layers/:id` and `PATCH /stream/data`) as fast as they are answered, against a
 * real server process (the default file store under a temp DATA_DIR, or STORE=redis with
 * REDIS_URL). Every 2xx counted is a change on disk (written and fsynced) or in Redis. Reports
 * changes/s, answer latency and how many writes carried them (group commit: changes per write),
 * with an empty scene and with a 1000-layer scene (a ~0.5 MB document per write). STORE=memory
 * gives the HTTP ceiling of the same machine (no store I/O) for comparison.
 *
 * Env: BENCH_SECONDS (10), CLIENTS (50), STORE (file|redis|memory), REDIS_URL.
 * Run: `npm run build && npm run bench:store`. Goal: >= 300 acknowledged changes/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineFacts, percentile, printTable, writeResult } from './report.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const clients = Number(process.env['CLIENTS'] ?? 50);
const store = process.env['STORE'] ?? 'file';
const GOAL = 300;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

async function startServer(dir: string): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    WS_PORT: '0',
    WIDTH: '1280',
    HEIGHT: '720',
    LOG_LEVEL: 'warn',
    AUTOSTART: 'false',
    DEFAULT_SCENE: 'empty',
    RATE_LIMIT_MAX: '0',
    STATE_STORE: store,
    DATA_DIR: join(dir, 'data'),
    RECORDINGS_DIR: join(dir, 'rec'),
    ASSET_STORAGE_PATH: join(dir, 'assets'),
    REDIS_PREFIX: `bench-${port}:`,
  };
  const proc = spawn(process.execPath, ['dist/orchestrator/main.js'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { base, proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error('server did not come up');
}

async function call(base: string, method: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

async function metric(base: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(label));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

async function run(layers: number): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-bench-store-'));
  const { base, proc } = await startServer(dir);
  try {
    for (let b = 0; b < layers; b += 100) {
      const ops = Array.from({ length: Math.min(100, layers - b) }, (_, k) => ({
        op: 'create',
        layer: {
          id: `l${b + k}`,
          name: 'x'.repeat(100),
          transform: { x: k, y: b / 100, width: 40, height: 20 },
          content: {
            type: 'text',
            content: `Layer ${b + k} text that is long enough to look real`,
            style: { font: 'Arial', fontSize: 12, color: '#ffffff' },
          },
        },
      }));
      if ((await call(base, 'POST', '/stream/batch', { ops })) !== 200) throw new Error('setup batch failed');
    }
    for (let c = 0; c < clients; c++)
      if ((await call(base, 'POST', '/stream/layers', { id: `c${c}`, content: { type: 'color', color: '#123456' } })) !== 201)
        throw new Error('setup failed');
    const writes0 = await metric(base, 'stream_manager_store_operations_total', 'op="save"');
    const latencies: number[] = [];
    let ok = 0;
    let failed = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; performance.now() < end; i++) {
          const t = performance.now();
          const status =
            i % 2
              ? await call(base, 'PATCH', `/stream/layers/c${c}`, { transform: { x: i } })
              : await call(base, 'PATCH', '/stream/data', { [`c${c}`]: i });
          latencies.push(performance.now() - t);
          if (status >= 200 && status < 300) ok++;
          else failed++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const writes = (await metric(base, 'stream_manager_store_operations_total', 'op="save"')) - writes0;
    const docBytes = JSON.stringify(await (await fetch(`${base}/stream/layers`)).json()).length;
    latencies.sort((a, b) => a - b);
    return {
      store,
      layers: layers + clients,
      'layers JSON, KB': Math.round(docBytes / 1024),
      'acknowledged changes/s': Math.round(ok / elapsed),
      failed,
      'writes/s': Math.round(writes / elapsed),
      'changes per write': +(ok / Math.max(1, writes)).toFixed(1),
      'p50 ms': +percentile(latencies, 50).toFixed(1),
      'p99 ms': +percentile(latencies, 99).toFixed(1),
    };
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [await run(0), await run(1000 - clients)];
printTable(rows);
const worst = Math.min(...rows.map((r) => Number(r['acknowledged changes/s'])));
console.log(`${worst >= GOAL ? 'PASS' : 'FAIL'}: lowest ${worst} acknowledged changes/s with ${clients} clients (goal >= ${GOAL})`);
writeResult('store-writes', { machine: machineFacts(), seconds, clients, rows, goal: GOAL, pass: worst >= GOAL });
