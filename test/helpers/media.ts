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
