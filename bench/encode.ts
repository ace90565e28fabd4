/**
 * `encode`: frames/s as fast as they go into libx264 (X264_PRESET, default veryfast) at 1080p for
 * S2, ours vs the FFmpeg filter graph, with the same encoder arguments (`encodeArgs`, the
 * pipeline's own) and ffmpeg writing to `-f null`. Ours in two forms: I420 converted by us
 * (what the pipeline does: only the damaged blocks, pixels/yuv.ts) and raw RGBA that ffmpeg
 * converts (what it did before). Frames/s are measured the same way for every contender: from
 * ffmpeg's progress reports after a warm-up (bench/ffmpeg-graph.ts `runFfmpeg`).
 *
 * Env: BENCH_FRAMES (450) per run, BENCH_RUNS (5), WIDTH x HEIGHT (1920x1080), WORKERS (cores).
 * Run: `npm run build && npm run bench:encode`.
 */
import type { Writable } from 'node:stream';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../orchestrator/config/env.js';
import { encodeArgs } from '../orchestrator/output/ffmpeg-args.js';
import { graphArgs, runFfmpeg, type FfmpegRun } from './ffmpeg-graph.js';
import { PIPELINE_DEPTH } from '../orchestrator/render/frame-composer.js';
import { openRig } from './offline.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';

const config = loadConfig({ ...process.env, AUDIO: 'none' });
const frames = Number(process.env['BENCH_FRAMES'] ?? 450);
const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const width = Number(process.env['WIDTH'] ?? 1920);
const height = Number(process.env['HEIGHT'] ?? 1080);
const workers = Number(process.env['WORKERS'] ?? availableParallelism());
const fps = 30;
const job = { width, height, targetFPS: fps, encoder: { ...config.stream.encoder, audio: 'none' as const } };
const OUT = ['-f', 'null', '-'];

/** The codec part of our encode arguments (from `-c:v` on), shared by every contender. */
function codecArgs(): string[] {
  const all = encodeArgs(job);
  return all.slice(all.indexOf('-c:v')).filter((a) => a !== '-shortest');
}

/**
 * Our frames into an ffmpeg that reads them on stdin: up to 3 frames written and not yet read,
 * as live, and PIPELINE_DEPTH frames in the making (frame n+1 renders while frame n composites).
 */
async function ours(input: 'yuv420p' | 'rgba'): Promise<FfmpegRun> {
  const rig = await openRig({ scene: 'S2', width, height, fps, workers, yuv: input === 'yuv420p', poolFrames: 6 });
  const all = encodeArgs(job, input);
  const args = [...all.slice(0, all.indexOf('-c:v')), ...codecArgs(), ...OUT];
  let stdin: Writable | null = null;
  const result = runFfmpeg(config.ffmpegPath, args, 0.5, (s) => (stdin = s));
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const making = [rig.next()];
  for (let i = 0; i < frames; i++) {
    while (inFlight >= 3) await new Promise<void>((r) => (wake = r));
    while (making.length < PIPELINE_DEPTH && i + making.length < frames) making.push(rig.next());
    const frame = await making.shift()!;
    if (!frame) throw new Error('frame pool ran dry');
    inFlight++;
    stdin!.write(input === 'yuv420p' ? frame.yuv : frame.bytes, () => {
      rig.frames.release(frame);
      inFlight--;
      wake?.();
      wake = null;
    });
  }
  stdin!.end();
  const r = await result;
  await rig.close();
  return r;
}

const contenders: [string, () => Promise<FfmpegRun>][] = [
  ['ours, I420 by us (pipeline)', () => ours('yuv420p')],
  ['ours, RGBA converted by ffmpeg', () => ours('rgba')],
  [
    'ffmpeg decoded-once-yuv',
    async () =>
      runFfmpeg(config.ffmpegPath, [
        ...(await graphArgs('S2', 'decoded-once-yuv', width, height, fps)),
        '-frames:v',
        String(frames),
        ...codecArgs(),
        ...OUT,
      ]),
  ],
  [
    'ffmpeg decoded-once',
    async () =>
      runFfmpeg(config.ffmpegPath, [
        ...(await graphArgs('S2', 'decoded-once', width, height, fps)),
        '-frames:v',
        String(frames),
        ...codecArgs(),
        ...OUT,
      ]),
  ],
];
const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
// Interleaved, so a noisy neighbour hits every contender alike.
for (let r = 0; r < runs; r++) {
  for (const [name, run] of contenders) {
    const res = await run();
    samples.get(name)!.push(res.fps);
    process.stderr.write(`run ${r + 1} ${name}: ${res.fps.toFixed(1)} fps\n`);
  }
}
const rows = [...samples].map(([contender, v]) => ({ contender, fps: summary(v) }));
const best = (name: string): number => rows.find((r) => r.contender === name)!.fps.median;
const ratios = {
  'ours/ffmpeg decoded-once-yuv': best('ours, I420 by us (pipeline)') / best('ffmpeg decoded-once-yuv'),
  'ours/ffmpeg decoded-once': best('ours, I420 by us (pipeline)') / best('ffmpeg decoded-once'),
  'I420 by us / RGBA to ffmpeg': best('ours, I420 by us (pipeline)') / best('ours, RGBA converted by ffmpeg'),
};
printTable(rows.map((r) => ({ contender: r.contender, 'fps (median)': r.fps.median, min: r.fps.min, max: r.fps.max, runs: r.fps.runs })));
process.stdout.write('\n');
printTable(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })));
const pass = ratios['ours/ffmpeg decoded-once-yuv'] >= 1;
process.stdout.write(
  `\nS2 ${width}x${height} ${job.encoder.preset}: ours/ffmpeg decoded-once-yuv = ${ratios['ours/ffmpeg decoded-once-yuv'].toFixed(2)} -> ${pass ? 'PASS' : 'FAIL'} (goal >= 1.0)\n`,
);
process.stdout.write(
  `wrote ${writeResult('encode', { bench: 'encode', machine: machineFacts(config.ffmpegPath), width, height, frames, workers, encoder: job.encoder, args: codecArgs(), rows, ratios, pass })}\n`,
);
