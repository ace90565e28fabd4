import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
