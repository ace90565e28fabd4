import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Pixels, TestServer } from './server.js';

const run = promisify(execFile);

/** What ffprobe says of the first video stream of a file or URL. */
export interface VideoProbe {
  codec: string;
  width: number;
  height: number;
  /** Frames decoded (ffprobe -count_frames), when asked for. */
  frames?: number;
}

/**
 * Runs ffprobe on `input`. With `countFrames`, decodes the whole stream to count its frames.
 * @throws Error with ffprobe's stderr when it fails
 */
export async function probeVideo(input: string, countFrames = false, timeoutMs = 20_000): Promise<VideoProbe> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json'];
  if (countFrames) args.push('-count_frames');
  const { stdout } = await run('ffprobe', [...args, input], { timeout: timeoutMs });
  const s = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams[0];
  if (!s) throw new Error(`ffprobe found no video stream in ${input}`);
  return {
    codec: String(s['codec_name']),
    width: Number(s['width']),
    height: Number(s['height']),
    ...(countFrames ? { frames: Number(s['nb_read_frames']) } : {}),
  };
}

/** Options of {@link makeClip}. */
export interface ClipOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Seconds each colour shows (default 1). */
  secondsEach?: number;
  /** Keyframe interval, frames (default: one a second). */
  gop?: number;
}

/**
 * Writes an H.264 MP4 at `path` made with lavfi `color` sources: each of `colors` (ffmpeg colour
 * names or `0xRRGGBB`) for `secondsEach` seconds in turn, `width` x `height` (default 320x180) at
 * `fps` (default 30). Nothing is a binary fixture: the clip is made at test time.
 * @throws Error with ffmpeg's stderr when it fails
 */
export async function makeClip(path: string, colors: readonly string[], o: ClipOptions = {}): Promise<void> {
  const w = o.width ?? 320;
  const h = o.height ?? 180;
  const fps = o.fps ?? 30;
  const d = o.secondsEach ?? 1;
  const inputs = colors.flatMap((c) => ['-f', 'lavfi', '-i', `color=c=${c}:s=${w}x${h}:r=${fps}:d=${d}`]);
  const filter = `${colors.map((_, i) => `[${i}:v]`).join('')}concat=n=${colors.length}:v=1[v]`;
  await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      ...inputs,
      '-filter_complex',
      filter,
      '-map',
      '[v]',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(o.gop ?? fps),
      path,
    ],
    { timeout: 30_000 },
  );
}

/**
 * Pids of this process's ffmpeg children that hold `needle` in their command line (the process
 * table, /proc): video decoders spawned by reader threads are children of the process too.
 */
export function ffmpegChildren(needle = ''): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !stat.includes('(ffmpeg)')) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** True while process `pid` exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A test feed: ffmpeg publishing a solid colour, live paced (`-re`), until killed. */
export interface Publisher {
  /** Kills it (SIGKILL: the connection drops as on a crash) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again with the same arguments. */
  restart(): void;
}

/**
 * Publishes a `width` x `height` lavfi `color` feed at `fps` as H.264 to `url` (`flv` for RTMP,
 * `mpegts` for SRT; an SRT URL with `mode=listener` waits for its caller).
 */
export function startPublisher(
  url: string,
  format: 'flv' | 'mpegts',
  color: string,
  o: { width?: number; height?: number; fps?: number } = {},
): Publisher {
  const size = `${o.width ?? 320}x${o.height ?? 180}`;
  const fps = o.fps ?? 30;
  const args = [
    '-v',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `color=c=${color}:s=${size}:r=${fps}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps),
    '-f',
    format,
    url,
  ];
  let proc: ChildProcess;
  const start = (): void => {
    proc = spawn('ffmpeg', args, { stdio: 'ignore' });
  };
  start();
  return {
    async kill() {
      const p = proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
    restart: start,
  };
}

/**
 * Snapshots until `ok` holds for one (or `ms` passed), and returns the last: with a ManualClock a
 * stopped stream's snapshot is the frame at a fixed scene time, so it changes only while its
 * video pictures are still being decoded (each snapshot waits for them a bounded time; a machine
 * under heavy load can take longer). The caller asserts on the result.
 */
export async function snapshotUntil(s: TestServer, ok: (p: Pixels) => boolean, ms = 20_000): Promise<Pixels> {
  const t0 = Date.now();
  for (;;) {
    const p = await s.snapshot();
    if (ok(p) || Date.now() - t0 > ms) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when the RGB of `p` at `x`,`y` is within `tolerance` of `rgb` on every channel. */
export function pixelNear(p: Pixels, x: number, y: number, rgb: readonly number[], tolerance: number): boolean {
  const got = p.at(x, y);
  return rgb.every((v, i) => Math.abs(v - got[i]!) <= tolerance);
}

/** Every frame of a recording downscaled to 32x18, RGB24 (one Buffer of 32 x 18 x 3 bytes a frame). */
export async function recordedFrames(file: string): Promise<Buffer[]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', 'scale=32:18', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const size = 32 * 18 * 3;
  return Array.from({ length: Math.floor(stdout.length / size) }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}

/** The RGB of pixel (x, y) of a {@link recordedFrames} frame. */
export const rgbAt = (f: Buffer, x: number, y: number): number[] => [...f.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)];

/** A recorded frame's centre: R red, B blue, M a mix of both (a crossfade), ? anything else. */
export function frameKind(f: Buffer): string {
  const [r, , b] = rgbAt(f, 16, 12);
  if (r! > 200 && b! < 50) return 'R';
  if (b! > 200 && r! < 50) return 'B';
  if (r! > 40 && b! > 40) return 'M';
  return '?';
}
