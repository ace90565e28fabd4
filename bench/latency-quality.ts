/**
 * `latency quality`: what `encoder.latency: "low"` costs in picture quality. Each bench scene is
 * rendered by the compositor (bench/offline.ts, moving layers moving) to BENCH_FRAMES raw I420
 * frames at 720p30, then encoded from that file with the pipeline's own arguments (`encodeArgs`)
 * at `normal` and `low` (same preset, target bitrate, keyframe interval), and once more at `low`
 * with its target scaled so that it writes as many bits as `normal` did: quality at equal
 * bitrate. PSNR (average over the planes, dB) and SSIM (all planes) against the source, by
 * ffmpeg's psnr and ssim filters. A last row adds x264's periodic intra refresh to `low`.
 *
 * Env: BENCH_FRAMES (300), WIDTH x HEIGHT (1280x720), VIDEO_BITRATE_KBPS (2500), X264_PRESET
 * (veryfast), QUALITY_SCENES (S1,S2,S3).
 * Run: `npm run build && npm run bench:latency -- quality`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../orchestrator/config/env.js';
import { encodeArgs } from '../orchestrator/output/ffmpeg-args.js';
import type { EncoderSettings } from '../shared/stream-config.js';
import { openRig } from './offline.js';
import { machineFacts, printTable, writeResult } from './report.js';
import type { BenchScene } from './scenes.js';

const frames = Number(process.env['BENCH_FRAMES'] ?? 300);
const width = Number(process.env['WIDTH'] ?? 1280);
const height = Number(process.env['HEIGHT'] ?? 720);
const fps = 30;
const scenes = (process.env['QUALITY_SCENES'] ?? 'S1,S2,S3').split(',') as BenchScene[];
const config = loadConfig({ ...process.env, AUDIO: 'none' });
const ffmpeg = config.ffmpegPath;

/** Renders `scene` to a raw I420 file of `frames` frames. */
async function render(scene: BenchScene, path: string): Promise<void> {
  const rig = await openRig({ scene, width, height, fps, workers: 2, yuv: true, poolFrames: 4 });
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < frames; i++) {
      const f = await rig.next();
      if (!f) throw new Error('frame pool ran dry');
      writeSync(fd, f.yuv);
      rig.frames.release(f);
    }
  } finally {
    closeSync(fd);
    await rig.close();
  }
}

/** Encodes the raw file with the pipeline's codec arguments for `encoder`, plus `extra` x264 options. */
function encode(src: string, out: string, encoder: EncoderSettings, extra: string[] = []): { kbps: number } {
  const all = encodeArgs({ width, height, targetFPS: fps, encoder });
  const codec = all.slice(all.indexOf('-c:v')).filter((a) => a !== '-shortest');
  const input = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${width}x${height}`, '-framerate', String(fps), '-i', src];
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', ...input, ...codec, ...extra, '-f', 'mp4', '-y', out]);
  return { kbps: (statSync(out).size * 8) / (frames / fps) / 1000 };
}

/** PSNR (average over the planes, dB) and SSIM (All) of `out` against the raw source, from the filters' summaries on stderr. */
function measure(src: string, out: string): { psnr: number; ssim: number } {
  const run = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-nostats', '-i', out, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${width}x${height}`],
      ...['-framerate', String(fps), '-i', src, '-lavfi', '[0:v]split[a][b];[1:v]split[c][d];[a][c]psnr;[b][d]ssim', '-f', 'null', '-'],
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`ffmpeg psnr/ssim: ${run.stderr}`);
  return {
    psnr: Number(/PSNR .*average:([\d.]+|inf)/.exec(run.stderr)?.[1]),
    ssim: Number(/SSIM .*All:([\d.]+)/.exec(run.stderr)?.[1]),
  };
}

const base: EncoderSettings = { ...config.stream.encoder, audio: 'none', latency: 'normal' };
const dir = mkdtempSync(join(tmpdir(), 'sm-quality-'));
const rows: Record<string, string | number>[] = [];
try {
  for (const scene of scenes) {
    const src = join(dir, `${scene}.yuv`);
    process.stdout.write(`${scene}: rendering ${frames} frames...\n`);
    await render(scene, src);
    const runs: [string, EncoderSettings, string[]][] = [
      ['normal', base, []],
      ['low', { ...base, latency: 'low' }, []],
    ];
    const results: Record<string, { kbps: number; psnr: number; ssim: number }> = {};
    for (const [name, enc, extra] of runs) {
      const out = join(dir, `${scene}-${name}.mp4`);
      results[name] = { ...encode(src, out, enc, extra), ...measure(src, out) };
    }
    // x264 keeps under the target on these mostly still scenes, `normal` more than `low` (whose
    // small VBV buffer makes it spread bits evenly): `low` again with its target scaled so that
    // it writes what `normal` wrote, for the quality at equal bitrate.
    const scaled = Math.max(100, Math.round((base.bitrateKbps * results['normal']!.kbps) / results['low']!.kbps));
    const eq = join(dir, `${scene}-low-eq.mp4`);
    results[`low, target ${scaled}k`] = { ...encode(src, eq, { ...base, latency: 'low', bitrateKbps: scaled }), ...measure(src, eq) };
    const ir = join(dir, `${scene}-low-ir.mp4`);
    results['low + intra-refresh'] = {
      ...encode(src, ir, { ...base, latency: 'low' }, ['-x264-params', 'intra-refresh=1']),
      ...measure(src, ir),
    };
    for (const [name, r] of Object.entries(results)) {
      rows.push({ scene, encode: name, 'kbit/s': Math.round(r.kbps), 'PSNR dB': r.psnr.toFixed(2), SSIM: r.ssim.toFixed(5) });
    }
    rmSync(src, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
printTable(rows);
process.stdout.write(
  `\n${width}x${height}@${fps}, ${frames} frames per scene, ${base.preset}, ${base.bitrateKbps} kbit/s, GOP ${base.keyframeIntervalSeconds} s\n`,
);
process.stdout.write(
  `wrote ${writeResult('latency-quality', { bench: 'latency-quality', machine: machineFacts(ffmpeg), width, height, fps, frames, rows })}\n`,
);
