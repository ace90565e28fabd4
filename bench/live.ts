/**
 * `live`: the real pipeline, live for BENCH_SECONDS (60) at 1080p30 and 720p30 with libx264
 * (X264_PRESET, default veryfast) recording to a temp file, scenes S1 and S2. Reports achieved
 * fps, dropped frames by reason, p50/p95/p99 of render + composite per frame (and p99 of the
 * whole frame with its I420 conversion, plus each stage's median), the CPU of our process and of ffmpeg (% of one core), and RSS after the
 * first 10 s and at the end. Checks the acceptance figures at 1080p30: 0 dropped frames, p99 <
 * 10 ms, RSS at the end within 5% of RSS at 10 s.
 *
 * Env: BENCH_SECONDS (60), BENCH_SIZES ("1920x1080,1280x720"), BENCH_SCENES ("S1,S2"), FPS (30).
 * Run: `npm run build && npm run bench:live`.
 */
import type { FrameTimes } from '../orchestrator/render/frame-producer.js';
import { startLive } from './live-server.js';
import { machineFacts, percentile, printTable, writeResult } from './report.js';
import type { BenchScene } from './scenes.js';
import { cpuSeconds } from './proc-cpu.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 60);
const sizes = (process.env['BENCH_SIZES'] ?? '1920x1080,1280x720').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const scenes = (process.env['BENCH_SCENES'] ?? 'S1,S2').split(',') as BenchScene[];
const fps = Number(process.env['FPS'] ?? 30);
/** RSS is compared from this many seconds in (caches and pools filled by then). */
const SETTLE_S = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function once(scene: BenchScene, width: number, height: number): Promise<Record<string, number | string>> {
  const server = await startLive(scene, width, height, fps);
  const { pipeline } = server.app;
  const cap = Math.ceil(seconds * fps * 1.2) + 64;
  const times = new Float64Array(cap);
  const stages = {
    render: new Float64Array(cap),
    composite: new Float64Array(cap),
    convert: new Float64Array(cap),
    rc: new Float64Array(cap),
  };
  let n = 0;
  try {
    await sleep(1000);
    const onFrame = (_f: unknown, t: FrameTimes): void => {
      if (n >= cap) return;
      stages.render[n] = t.renderMs;
      stages.composite[n] = t.compositeMs;
      stages.convert[n] = t.convertMs;
      stages.rc[n] = t.renderMs + t.compositeMs;
      times[n++] = t.totalMs;
    };
    pipeline.on('frame', onFrame);
    const s0 = pipeline.status();
    const c0 = pipeline.counters;
    const cpu0 = process.cpuUsage();
    const ff0 = cpuSeconds(pipeline.encoderPid);
    const t0 = performance.now();
    await sleep(SETTLE_S * 1000);
    const rssSettled = process.memoryUsage().rss;
    await sleep((seconds - SETTLE_S) * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = process.cpuUsage(cpu0);
    const ff1 = cpuSeconds(pipeline.encoderPid);
    const rssEnd = process.memoryUsage().rss;
    pipeline.off('frame', onFrame);
    const s1 = pipeline.status();
    const c1 = pipeline.counters;
    const dropped = s1.droppedFrames - s0.droppedFrames;
    const byReason = Object.entries(c1.dropped)
      .map(([k, v]) => [k, v - c0.dropped[k as keyof typeof c0.dropped]] as const)
      .filter(([, v]) => v > 0);
    const sorted = times.slice(0, n).sort();
    const p50 = (a: Float64Array): number => percentile(a.slice(0, n).sort(), 50);
    const rc = stages.rc.slice(0, n).sort();
    return {
      scene,
      size: `${width}x${height}`,
      frames: n,
      fps: n / elapsed,
      dropped,
      'dropped by reason': byReason.map(([k, v]) => `${k}:${v}`).join(' ') || '-',
      'r+c p50 ms': percentile(rc, 50),
      'r+c p95 ms': percentile(rc, 95),
      'r+c p99 ms': percentile(rc, 99),
      'frame p99 ms': percentile(sorted, 99),
      'render p50': p50(stages.render),
      'composite p50': p50(stages.composite),
      'i420 p50': p50(stages.convert),
      'cpu ours %': (cpu1.user + cpu1.system) / 1e4 / elapsed,
      'cpu ffmpeg %': (100 * (ff1 - ff0)) / elapsed,
      'rss 10s MB': rssSettled / 2 ** 20,
      'rss end MB': rssEnd / 2 ** 20,
      'rss growth %': (100 * (rssEnd - rssSettled)) / rssSettled,
    };
  } finally {
    await server.close();
  }
}

const rows: Record<string, number | string>[] = [];
for (const [w, h] of sizes)
  for (const scene of scenes) {
    const r = await once(scene, w, h);
    rows.push(r);
    process.stderr.write(`${scene} ${w}x${h}: ${JSON.stringify(r)}\n`);
  }
printTable(rows);
const goals = rows
  .filter((r) => r['size'] === '1920x1080')
  .map((r) => ({
    scene: r['scene'],
    dropped: r['dropped'] === 0,
    p99: (r['r+c p99 ms'] as number) < 10,
    rss: Math.abs(r['rss growth %'] as number) <= 5,
  }));
const pass = goals.length > 0 && goals.every((g) => g.dropped && g.p99 && g.rss);
for (const g of goals)
  process.stdout.write(
    `1080p${fps} ${g.scene}: 0 dropped ${g.dropped ? 'yes' : 'NO'}, p99 < 10 ms ${g.p99 ? 'yes' : 'NO'}, RSS within 5% ${g.rss ? 'yes' : 'NO'}\n`,
  );
process.stdout.write(
  `-> ${pass ? 'PASS' : 'FAIL'}\nwrote ${writeResult('live', { bench: 'live', machine: machineFacts(), seconds, fps, rows, goals, pass })}\n`,
);
