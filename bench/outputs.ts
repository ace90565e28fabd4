/**
 * CPU of extra outputs: 1 vs 3 outputs with the same encoder settings (one shared encode, one
 * `-c copy` muxer each), and 3 outputs with different bitrates (three encodes) for comparison.
 * Measures the CPU time of the outputs' ffmpeg processes (shared encoders + muxers, from
 * /proc/<pid>/stat) over the run; the main output's own encoder is not counted. Outputs are
 * MPEG-TS files in a temp folder, so no network is involved.
 *
 * Env: BENCH_SECONDS (15), BENCH_RUNS (3), WIDTH (1280), HEIGHT (720), FPS (30).
 * Run: `npm run build && npm run bench:outputs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../orchestrator/app.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { createLogger } from '../orchestrator/logger.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';
import { cpuSeconds } from './proc-cpu.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 15);
const runs = Number(process.env['BENCH_RUNS'] ?? 3);

interface Case {
  name: string;
  /** Bitrates of the outputs, kbit/s; equal ones share an encode. */
  bitrates: number[];
}

const CASES: Case[] = [
  { name: '1 output', bitrates: [2500] },
  { name: '3 outputs, shared settings', bitrates: [2500, 2500, 2500] },
  { name: '3 outputs, 3 bitrates', bitrates: [2500, 2000, 1500] },
];

async function once(c: Case): Promise<{ corePercent: number; encoders: number; processes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-bench-out-'));
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    WS_PORT: '0',
    RECORDINGS_DIR: dir,
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    DEFAULT_SCENE: 'auction',
    AUTOSTART: 'false',
    STATE_STORE: 'memory',
  });
  const app = await startApp(config, createLogger(config.logLevel));
  try {
    c.bitrates.forEach((kbps, i) =>
      app.pipeline.hub.create({ id: `o${i}`, kind: 'file', url: `o${i}.ts`, encoder: { bitrateKbps: kbps } }),
    );
    await app.pipeline.start();
    await new Promise((r) => setTimeout(r, 3000));
    const pids = app.pipeline.hub.pids();
    const c0 = pids.map((pid) => cpuSeconds(pid));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c1 = pids.map((pid) => cpuSeconds(pid));
    const elapsed = (performance.now() - t0) / 1000;
    const used = c1.reduce((s, v, i) => s + v - c0[i]!, 0);
    return { corePercent: (100 * used) / elapsed, encoders: app.pipeline.hub.encoders, processes: pids.length };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = loadConfig(process.env);
const rows: Record<string, string | number>[] = [];
const results: Record<string, { corePercent: ReturnType<typeof summary>; encoders: number; processes: number }> = {};
for (const c of CASES) {
  const r: Awaited<ReturnType<typeof once>>[] = [];
  for (let i = 0; i < runs; i++) r.push(await once(c));
  const cpu = summary(r.map((x) => x.corePercent));
  results[c.name] = { corePercent: cpu, encoders: r[0]!.encoders, processes: r[0]!.processes };
  rows.push({
    case: c.name,
    encoders: r[0]!.encoders,
    'ffmpeg processes': r[0]!.processes,
    'CPU % of a core (median)': cpu.median,
    min: cpu.min,
    max: cpu.max,
  });
}
printTable(rows);
const one = results['1 output']!.corePercent.median;
const shared = results['3 outputs, shared settings']!.corePercent.median;
const separate = results['3 outputs, 3 bitrates']!.corePercent.median;
const sharedRatio = shared / one;
process.stdout.write(
  `\n${config.stream.width}x${config.stream.height}@${config.stream.targetFPS}, ${seconds} s x ${runs}: 3 shared outputs cost ${sharedRatio.toFixed(2)}x one output ` +
    `(3 separate encodes: ${(separate / one).toFixed(2)}x)\n`,
);
const path = writeResult('outputs', {
  bench: 'outputs',
  machine: machineFacts(config.ffmpegPath),
  config: {
    width: config.stream.width,
    height: config.stream.height,
    fps: config.stream.targetFPS,
    seconds,
    runs,
    encoder: config.stream.encoder,
  },
  cases: results,
  sharedRatio,
  separateRatio: separate / one,
});
process.stdout.write(`wrote ${path}\n`);
