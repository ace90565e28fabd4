/**
 * Preview fan-out cost: the server (a child process, default scene at WIDTH x HEIGHT, live)
 * with 0, 1, 10 and 100 preview clients at medium quality, JSON (base64) and binary. Reports the
 * server's CPU (from /proc/<pid>/stat) per preview frame beyond the 0-client baseline, so the
 * figure is what viewers cost, not the stream. Median of BENCH_RUNS (3) windows of BENCH_SECONDS (5).
 * Goal: 100 clients cost <= 5% of a core more than 1 client (each format).
 * Run: `npm run build && npm run bench:preview`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { machineFacts, median, printTable, writeResult } from './report.js';
import { cpuSeconds } from './proc-cpu.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const WINDOWS = Number(process.env['BENCH_RUNS'] ?? 3);
const ENCODED = /stream_manager_pool_tasks_total\{task="encodeImage",result="completed"\} (\d+)/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function metric(base: string, re: RegExp): Promise<number> {
  return Number(re.exec(await (await fetch(`${base}/metrics`)).text())?.[1] ?? 0);
}

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'sm-bench-ws-'));
const server = spawn(process.execPath, ['dist/orchestrator/main.js'], {
  env: {
    ...process.env,
    PORT: String(port),
    WS_PORT: '0',
    STATE_STORE: 'memory',
    RECORDINGS_DIR: dir,
    LOG_LEVEL: 'warn',
    AUTOSTART: 'true',
  },
  stdio: 'ignore',
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) {
  if (
    await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await sleep(100);
}
await sleep(1000);

const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown>[] = [];
let baseline = 0;
for (const format of ['json', 'binary'] as const) {
  for (const n of [0, 1, 10, 100]) {
    if (n === 0 && format === 'binary') continue;
    let received = 0;
    const clients = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/stream/ws?target=preview&quality=medium&format=${format}`);
            ws.on('message', (_d, bin) => (bin || format === 'json') && received++);
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    await sleep(1000);
    // Median of WINDOWS windows: these machines are shared and noisy.
    const cpuPcts: number[] = [];
    const encodedCounts: number[] = [];
    received = 0;
    for (let w = 0; w < WINDOWS; w++) {
      const cpu0 = cpuSeconds(server.pid!);
      const enc0 = await metric(base, ENCODED);
      await sleep(seconds * 1000);
      cpuPcts.push((100 * (cpuSeconds(server.pid!) - cpu0)) / seconds);
      encodedCounts.push((await metric(base, ENCODED)) - enc0);
    }
    for (const ws of clients) ws.terminate();
    const cpuPct = median(cpuPcts);
    const encoded = median(encodedCounts);
    if (n === 0) baseline = cpuPct;
    const perFrameMs = encoded > 0 ? (((cpuPct - baseline) / 100) * seconds * 1000) / encoded : 0;
    const r = {
      format,
      clients: n,
      'server cpu % (median)': cpuPct,
      min: Math.min(...cpuPcts),
      max: Math.max(...cpuPcts),
      'preview frames/window': encoded,
      'frames/client/s': n ? received / n / (seconds * WINDOWS) : 0,
      'cpu ms per preview frame': perFrameMs,
    };
    rows.push(r);
    results.push({ ...r, cpuPercentWindows: cpuPcts });
  }
}
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dir, { recursive: true, force: true });
printTable(rows);
const cpuAt = (format: string, n: number): number =>
  Number(rows.find((r) => r['format'] === format && r['clients'] === n)?.['server cpu % (median)'] ?? NaN);
const extra = Object.fromEntries(['json', 'binary'].map((f) => [f, cpuAt(f, 100) - cpuAt(f, 1)]));
const pass = Object.values(extra).every((v) => v <= 5);
for (const [f, v] of Object.entries(extra)) process.stdout.write(`${f}: 100 clients cost ${v.toFixed(1)}% of a core more than 1 client\n`);
process.stdout.write(`-> ${pass ? 'PASS' : 'FAIL'} (goal <= 5%)\n`);
process.stdout.write(
  `\nCPU per preview frame = (server CPU - 0-client baseline) / preview frames encoded; it includes the JPEG encode (once per frame) and the fan-out.\n`,
);
process.stdout.write(
  `wrote ${writeResult('preview', { bench: 'preview', machine: machineFacts(), seconds, results, extraCpuPercent100vs1: extra, pass })}\n`,
);
