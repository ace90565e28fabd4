/**
 * Live pipeline at a target size and FPS with the default auction scene (host talking, bid
 * overlay, studio background), recording to a temp file with libx264 veryfast: reports frames
 * delivered, dropped frames by reason, measured fps and render + composite time, and checks the
 * acceptance figure (0 dropped, fps within 2% of target).
 *
 * Env: BENCH_SECONDS (30), BENCH_RUNS (1), WIDTH (1280), HEIGHT (720), FPS (30), WORKERS (cores).
 * Run: `npm run build && npm run bench:live`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../orchestrator/app.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { createLogger } from '../orchestrator/logger.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 30);
const runs = Number(process.env['BENCH_RUNS'] ?? 1);

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.idle + c.times.user + c.times.sys + c.times.nice + c.times.irq;
  }
  return { idle, total };
}

interface RunResult {
  frames: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  fps: number;
  averageRenderTimeMs: number;
  machineCpuPercent: number;
  layersRendered: number;
  layersReused: number;
}

async function once(): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-bench-'));
  const config = loadConfig({ ...process.env, PORT: '0', WS_PORT: '0', RECORDINGS_DIR: dir, LOG_LEVEL: 'warn', DEFAULT_SCENE: 'auction', AUTOSTART: 'false', STATE_STORE: 'memory' });
  const app = await startApp(config, createLogger(config.logLevel));
  try {
    await app.pipeline.start();
    // Measure from the first second on, after the encoder has started.
    await new Promise((r) => setTimeout(r, 1000));
    const s0 = app.pipeline.status();
    const c0 = app.pipeline.counters;
    const cpu0 = cpuTimes();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const s1 = app.pipeline.status();
    const c1 = app.pipeline.counters;
    const cpu1 = cpuTimes();
    const elapsed = (performance.now() - t0) / 1000;
    const byReason = Object.fromEntries(Object.entries(c1.dropped).map(([k, v]) => [k, v - c0.dropped[k as keyof typeof c0.dropped]]));
    const dropped = s1.droppedFrames - s0.droppedFrames;
    const frames = s1.frameCount - s0.frameCount;
    return {
      frames,
      dropped,
      droppedByReason: byReason,
      fps: (frames - (byReason['render_late'] ?? 0)) / elapsed,
      averageRenderTimeMs: s1.averageRenderTime,
      machineCpuPercent: 100 * (1 - (cpu1.idle - cpu0.idle) / (cpu1.total - cpu0.total)),
      layersRendered: c1.rendered - c0.rendered,
      layersReused: c1.reused - c0.reused,
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const config = loadConfig(process.env);
const target = config.stream.targetFPS;
const results: RunResult[] = [];
for (let i = 0; i < runs; i++) results.push(await once());

printTable(
  results.map((r, i) => ({
    run: i + 1,
    frames: r.frames,
    dropped: r.dropped,
    fps: r.fps,
    'render ms': r.averageRenderTimeMs,
    'cpu %': r.machineCpuPercent,
    'layers rendered': r.layersRendered,
    reused: r.layersReused,
  })),
);
const fps = summary(results.map((r) => r.fps));
const dropped = summary(results.map((r) => r.dropped));
const pass = dropped.max === 0 && Math.abs(fps.median - target) <= target * 0.02;
process.stdout.write(
  `\n${config.stream.width}x${config.stream.height}@${target}, ${seconds} s x ${runs}: median fps ${fps.median.toFixed(2)}, ` +
    `dropped max ${dropped.max} -> ${pass ? 'PASS' : 'FAIL'} (0 dropped, fps within 2% of ${target})\n`,
);
const path = writeResult('live-fps', {
  bench: 'live-fps',
  machine: machineFacts(config.ffmpegPath),
  config: { width: config.stream.width, height: config.stream.height, fps: target, seconds, workers: config.workers, encoder: config.stream.encoder },
  fps,
  dropped,
  renderTimeMs: summary(results.map((r) => r.averageRenderTimeMs)),
  machineCpuPercent: summary(results.map((r) => r.machineCpuPercent)),
  runs: results,
  pass,
});
process.stdout.write(`wrote ${path}\n`);
process.exitCode = pass ? 0 : 1;
