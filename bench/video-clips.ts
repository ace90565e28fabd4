/**
 * The video scenarios of the live bench (issue 29): `video` is the default scene (S1) plus one
 * full-frame H.264 clip at the program's size; `video4` is S1 plus four 640x360 clips in a 2x2
 * grid. The clips are made here with ffmpeg's `testsrc2` (moving, so every frame is new: the
 * decoder and the compositor both work every frame) under `assets/bench/generated/` (ignored by
 * git), once per size and reused. They loop, so any BENCH_SECONDS works.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerCreate } from '../shared/scene.js';

/** Scenario names of the live bench that add video layers to the default scene. */
export const VIDEO_SCENARIOS = ['video', 'video4'] as const;
export type VideoScenario = (typeof VIDEO_SCENARIOS)[number];

/** True when `name` is a video scenario. */
export function isVideoScenario(name: string): name is VideoScenario {
  return (VIDEO_SCENARIOS as readonly string[]).includes(name);
}

/** Seconds of each generated clip (looped by the layer). */
const CLIP_SECONDS = 20;
const GENERATED = 'assets/bench/generated';

/**
 * A `width` x `height` @ `fps` H.264 (yuv420p, libx264 veryfast, 2 s GOP) clip of `testsrc2`
 * under assets/bench/generated/, made on first use.
 * @returns its path relative to the repository (a video layer's `src`)
 * @throws Error when ffmpeg fails
 */
export function benchClip(width: number, height: number, fps: number, ffmpeg = 'ffmpeg'): string {
  const rel = `${GENERATED}/testsrc2-${width}x${height}-${fps}.mp4`;
  if (existsSync(rel)) return rel;
  mkdirSync(GENERATED, { recursive: true });
  execFileSync(
    ffmpeg,
    [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${CLIP_SECONDS}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(fps * 2), '-an', rel],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return rel;
}

/** The video layers scenario `name` adds to a `width` x `height` program at `fps`. */
export function videoLayers(name: VideoScenario, width: number, height: number, fps: number): LayerCreate[] {
  if (name === 'video') {
    const src = benchClip(width, height, fps);
    return [{ id: 'bench-video', zIndex: 5, transform: { x: 0, y: 0, width, height }, content: { type: 'video', src, loop: true } }];
  }
  const src = benchClip(640, 360, fps);
  return [0, 1, 2, 3].map((i) => ({
    id: `bench-video-${i}`,
    zIndex: 5,
    transform: { x: (i % 2) * 640, y: Math.floor(i / 2) * 360, width: 640, height: 360 },
    content: { type: 'video', src, loop: true },
  }));
}

/**
 * Pids of the ffmpeg processes that are children of this process, but `except` (the program's
 * encoder): the video sources' decoders. Read from /proc (Linux only; [] elsewhere).
 */
export function decoderPids(except: ReadonlyArray<number | undefined>): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (except.includes(pid)) continue;
    try {
      const stat = readFileSync(join('/proc', name, 'stat'), 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('ffmpeg')) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
