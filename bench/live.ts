/**
 * `live`: the real pipeline, live for BENCH_SECONDS (60) at 1080p30 and 720p30 with libx264
 * (X264_PRESET, default veryfast) recording to a temp file, scenes S1 and S2. Reports achieved
 * fps, dropped frames by reason, p50/p95/p99 of render + composite per frame (and p99 of the
 * whole frame with its I420 conversion, plus each stage's median), the CPU of our process and of ffmpeg (% of one core), and RSS after the
 * first 10 s and at the end. Checks the acceptance figures at 1080p30: 0 dropped frames, p99 <
 * 10 ms, RSS at the end within 5% of RSS at 10 s.
 *
 * Scenes `video` and `video4` (bench/video-clips.ts) add looping H.264 clips to S1 and report the
 * CPU of their decoders (`cpu decode %`, all of them together, % of one core) beside ours and the
 * encoder's; issue 29 runs `video` at 1920x1080 and `video4` at 1280x720.
 *
 * Env: BENCH_SECONDS (60), BENCH_SIZES ("1920x1080,1280x720"), BENCH_SCENES ("S1,S2"; also S3,
 * video, video4), FPS (30).
 * Run: `npm run build && npm run bench:live`; the video cases: `npm run bench:video`.
 */
import type { FrameTimes } from '../orchestrator/render/frame-producer.js';
import { startLive } from './live-server.js';
import { machineFacts, percentile, printTable, writeResult } from './report.js';
import type { BenchScene } from './scenes.js';
import { cpuSeconds } from './proc-cpu.js';
import { decoderPids, isVideoScenario, videoLayers } from './video-clips.js';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 60);
const sizes = (process.env['BENCH_SIZES'] ?? '1920x1080,1280x720').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const scenes = (process.env['BENCH_SCENES'] ?? 'S1,S2').split(',') as Array<BenchScene | 'video' | 'video4'>;
const fps = Number(process.env['FPS'] ?? 30);
/** RSS is compared from this many seconds in (caches and pools filled by then). */
const SETTLE_S = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of the video sources' decoders so far (those alive now). */
function decodeSeconds(encoderPid: number | undefined): number {
  return decoderPids([encoderPid]).reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
}

/** Adds the video layers of a video scenario and waits (up to 15 s) until every one plays. */
async function addVideos(server: Awaited<ReturnType<typeof startLive>>, name: 'video' | 'video4', w: number, h: number): Promise<void> {
  const layers = videoLayers(name, w, h, fps);
  for (const layer of layers) {
    const res = await fetch(`${server.base}/stream/layers`, { method: 'POST', headers: server.headers, body: JSON.stringify(layer) });
    if (!res.ok) throw new Error(`adding ${layer.id}: ${res.status} ${await res.text()}`);
  }
  const until = performance.now() + 15_000;
  for (;;) {
    const states = await Promise.all(
      layers.map(
        async (l) => ((await (await fetch(`${server.base}/stream/layers/${l.id}`)).json()) as { media?: { state: string } }).media?.state,
      ),
    );
    if (states.every((s) => s === 'playing')) return;
    if (performance.now() > until) throw new Error(`video layers not playing after 15 s: ${states.join(', ')}`);
    await sleep(200);
  }
}

async function once(scene: BenchScene | 'video' | 'video4', width: number, height: number): Promise<Record<string, number | string>> {
  const server = await startLive(isVideoScenario(scene) ? 'S1' : scene, width, height, fps);
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
    if (isVideoScenario(scene)) await addVideos(server, scene, width, height);
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
    const dec0 = decodeSeconds(pipeline.encoderPid);
    const t0 = performance.now();
    await sleep(SETTLE_S * 1000);
    const rssSettled = process.memoryUsage().rss;
    await sleep((seconds - SETTLE_S) * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = process.cpuUsage(cpu0);
    const ff1 = cpuSeconds(pipeline.encoderPid);
    const dec1 = decodeSeconds(pipeline.encoderPid);
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
      'cpu decode %': (100 * (dec1 - dec0)) / elapsed,
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
// The acceptance figures: at 1080p, 0 dropped, p99 < 10 ms and RSS within 5%; the video
// scenarios (issue 29) at any size: 0 dropped.
const goals = rows
  .filter((r) => r['size'] === '1920x1080' || isVideoScenario(String(r['scene'])))
  .map((r) => {
    const video = isVideoScenario(String(r['scene']));
    return {
      scene: r['scene'],
      size: r['size'],
      dropped: r['dropped'] === 0,
      p99: video || (r['r+c p99 ms'] as number) < 10,
      rss: video || Math.abs(r['rss growth %'] as number) <= 5,
    };
  });
const pass = goals.length > 0 && goals.every((g) => g.dropped && g.p99 && g.rss);
for (const g of goals)
  process.stdout.write(
    `${String(g.size)}@${fps} ${String(g.scene)}: 0 dropped ${g.dropped ? 'yes' : 'NO'}, p99 < 10 ms ${g.p99 ? 'yes' : 'NO'}, RSS within 5% ${g.rss ? 'yes' : 'NO'}\n`,
  );
process.stdout.write(
  `-> ${pass ? 'PASS' : 'FAIL'}\nwrote ${writeResult('live', { bench: 'live', machine: machineFacts(), seconds, fps, rows, goals, pass })}\n`,
);
