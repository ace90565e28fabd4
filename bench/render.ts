/**
 * `render`: frames/s without encoding. Each frame is composited into the frame pool and
 * released (discarded). Scenes S1-S3 at 720p and 1080p with 1..N render workers, plus the
 * single-thread baseline (every layer drawn on the main thread, no pool), plus S2 as an FFmpeg
 * filter graph to `-f null` in its three input forms (bench/ffmpeg-graph.ts). Reports ratios
 * ours / FFmpeg at each size, the frame-time breakdown (render vs composite, medians), the main
 * thread's CPU time per frame (what bounds the fps at many workers) and the scaling efficiency
 * per worker count. PIPELINE_DEPTH frames (3) are kept in flight, as many as frame-composer.ts
 * pipelines.
 *
 * Env: BENCH_SECONDS (2) per run, BENCH_RUNS (5), BENCH_WORKERS ("1,2,...,cores"),
 * BENCH_SIZES ("1280x720,1920x1080"), BENCH_SCENES ("S1,S2,S3"), FFMPEG_PATH (ffmpeg).
 * Run: `npm run build && npm run bench:render`.
 */
import { availableParallelism } from 'node:os';
import { GRAPH_FORMS, graphArgs, runFfmpeg } from './ffmpeg-graph.js';
import { PIPELINE_DEPTH } from '../orchestrator/render/frame-composer.js';
import { openRig } from './offline.js';
import { cpuSeconds } from './proc-cpu.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';
import type { BenchScene } from './scenes.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 2);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const cores = availableParallelism();
const workerCounts = (process.env['BENCH_WORKERS'] ?? Array.from({ length: cores }, (_, i) => i + 1).join(',')).split(',').map(Number);
const sizes = (process.env['BENCH_SIZES'] ?? '1280x720,1920x1080').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const scenes = (process.env['BENCH_SCENES'] ?? 'S1,S2,S3').split(',') as BenchScene[];
const ffmpegPath = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
const FPS = 30;

/** One contender's result at one scene and size. */
interface Row {
  scene: BenchScene;
  size: string;
  /** `ours` with `workers` threads (0: the single-thread baseline), or `ffmpeg:<form>`. */
  contender: string;
  workers: number | null;
  fps: ReturnType<typeof summary>;
  renderMs?: number;
  compositeMs?: number;
  /** Share of the run the main thread's event loop was busy (0..1, median of runs). */
  mainBusy?: number;
  /**
   * The main thread's own CPU time per frame, µs (median of runs; /proc, Linux). Unlike
   * `mainBusy` it leaves out time the thread waited for a core, so it holds with more threads
   * than cores; 1e6 / it bounds the fps any worker count can reach.
   */
  mainCpuUs?: number;
}

/** Frames/s of our render path over `seconds`, and median stage times. */
async function ours(scene: BenchScene, width: number, height: number, workers: number): Promise<Omit<Row, 'contender' | 'scene' | 'size'>> {
  const rig = await openRig({ scene, width, height, fps: FPS, workers });
  const fps: number[] = [];
  const render: number[] = [];
  const composite: number[] = [];
  const busy: number[] = [];
  const mainCpu: number[] = [];
  try {
    // Warm-up: JIT, caches, first renders.
    for (let i = 0; i < 30; i++) {
      const f = await rig.next();
      if (f) rig.frames.release(f);
    }
    for (let r = 0; r < runs; r++) {
      let frames = 0;
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = cpuSeconds(process.pid, process.pid);
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      // PIPELINE_DEPTH frames in flight: frame n+1 renders while frame n composites (frame-composer.ts).
      const inFlight = [rig.next()];
      while (inFlight.length) {
        while (inFlight.length < PIPELINE_DEPTH && performance.now() < end) inFlight.push(rig.next());
        const f = await inFlight.shift()!;
        if (!f) throw new Error('frame pool ran dry');
        rig.frames.release(f);
        frames++;
        render.push(rig.timing.renderMs);
        composite.push(rig.timing.compositeMs);
      }
      fps.push((frames * 1000) / (performance.now() - t0));
      busy.push(performance.eventLoopUtilization(elu0).utilization);
      mainCpu.push(((cpuSeconds(process.pid, process.pid) - cpu0) * 1e6) / frames);
    }
  } finally {
    await rig.close();
  }
  return {
    workers,
    fps: summary(fps),
    renderMs: summary(render).median,
    compositeMs: summary(composite).median,
    mainBusy: summary(busy).median,
    mainCpuUs: summary(mainCpu).median,
  };
}

const rows: Row[] = [];
for (const scene of scenes) {
  for (const [w, h] of sizes) {
    const size = `${w}x${h}`;
    for (const workers of [0, ...workerCounts]) {
      const r = await ours(scene, w, h, workers);
      rows.push({
        scene,
        size,
        contender: workers === 0 ? 'ours, main thread only' : `ours, ${workers} worker${workers > 1 ? 's' : ''}`,
        ...r,
      });
      process.stderr.write(`${scene} ${size} workers=${workers}: ${r.fps.median.toFixed(1)} fps\n`);
    }
    if (scene !== 'S2') continue;
    for (const form of GRAPH_FORMS) {
      const args = await graphArgs(scene, form, w, h, FPS);
      const frames = form === 'loop1' ? 90 : 600;
      const fps: number[] = [];
      for (let r = 0; r < runs; r++) {
        // A run too short for a steady-state window (NaN) is run again, 4x as long.
        let run = NaN;
        for (let n = frames, tries = 0; Number.isNaN(run) && tries < 3; n *= 4, tries++)
          run = (await runFfmpeg(ffmpegPath, [...args, '-frames:v', String(n), '-f', 'null', '-'])).fps;
        fps.push(run);
      }
      rows.push({ scene, size, contender: `ffmpeg ${form}`, workers: null, fps: summary(fps) });
      process.stderr.write(`${scene} ${size} ffmpeg ${form}: ${summary(fps).median.toFixed(1)} fps\n`);
    }
  }
}

/** Our best worker count's median fps over each FFmpeg form's, per size (S2). */
const ratios: Record<string, number> = {};
for (const [w, h] of sizes) {
  const size = `${w}x${h}`;
  const s2 = rows.filter((r) => r.scene === 'S2' && r.size === size);
  const best = Math.max(...s2.filter((r) => r.workers !== null && r.workers > 0).map((r) => r.fps.median));
  for (const r of s2.filter((x) => x.workers === null)) ratios[`S2 ${size} ours/${r.contender}`] = best / r.fps.median;
}

/**
 * Scaling: efficiency at N workers = fps(N) / (N x fps(1)), per scene and size (1.0: every added
 * worker adds a whole worker's frames).
 */
const efficiency: Array<{ scene: BenchScene; size: string; workers: number; efficiency: number }> = [];
for (const scene of scenes) {
  for (const [w, h] of sizes) {
    const size = `${w}x${h}`;
    const ofN = (n: number): number | undefined => rows.find((r) => r.scene === scene && r.size === size && r.workers === n)?.fps.median;
    const one = ofN(1);
    if (!one) continue;
    for (const n of workerCounts) efficiency.push({ scene, size, workers: n, efficiency: ofN(n)! / (n * one) });
  }
}

printTable(
  rows.map((r) => ({
    scene: r.scene,
    size: r.size,
    contender: r.contender,
    'fps (median)': r.fps.median,
    min: r.fps.min,
    max: r.fps.max,
    runs: r.fps.runs,
    'render ms': r.renderMs ?? '',
    'composite ms': r.compositeMs ?? '',
    'main busy': r.mainBusy ?? '',
    'main CPU us/frame': r.mainCpuUs ?? '',
    efficiency: efficiency.find((e) => e.scene === r.scene && e.size === r.size && e.workers === r.workers)?.efficiency ?? '',
  })),
);
process.stdout.write('\n');
printTable(Object.entries(ratios).map(([k, v]) => ({ ratio: k, value: v })));
const s3 = efficiency.find((e) => e.scene === 'S3' && e.size === '1920x1080' && e.workers === 8);
if (s3)
  process.stdout.write(
    `\nS3 1920x1080 efficiency at 8 workers = ${(s3.efficiency * 100).toFixed(0)}% -> ${s3.efficiency >= 0.7 ? 'PASS' : 'FAIL'} (goal >= 70%)\n`,
  );
const key = 'S2 1920x1080 ours/ffmpeg decoded-once-yuv';
const pass = ratios[key] !== undefined ? ratios[key] >= 1.6 : null;
if (pass !== null) process.stdout.write(`\n${key} = ${ratios[key]!.toFixed(2)} -> ${pass ? 'PASS' : 'FAIL'} (goal >= 1.6)\n`);
process.stdout.write(
  `wrote ${writeResult('render', { bench: 'render', machine: machineFacts(ffmpegPath), seconds, runs, fps: FPS, rows, ratios, efficiency, pass })}\n`,
);
