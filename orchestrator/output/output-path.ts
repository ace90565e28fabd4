import { isNetworkUrl } from '../../shared/output-url.js';
import { OutputPolicy } from '../config/output-dirs.js';

export { OutputPolicy } from '../config/output-dirs.js';

/** True for network outputs (rtmp, rtmps, srt in any case), false for files. */
export function isNetworkOutput(url: string): boolean {
  return isNetworkUrl(url);
}

/**
 * An output as an ffmpeg output argument that cannot be read as an option or another protocol:
 * a network URL with its scheme in lower case (ffmpeg matches protocol names case-sensitively), a
 * file as `file:<path>` (ffmpeg's file protocol takes the rest verbatim, so `-x.mp4` or `a:b.ts`
 * stay file names).
 */
export function ffmpegTarget(output: string): string {
  if (isNetworkUrl(output)) return output.replace(/^[A-Za-z]+/, (s) => s.toLowerCase());
  return `file:${output}`;
}

/**
 * The output an encoder writes to, under `recordingsDir` alone (see {@link OutputPolicy.resolveOutput}).
 * @param now time used in the recording name (ms since epoch)
 */
export function resolveOutput(url: string | null, recordingsDir: string, now = Date.now()): string {
  return new OutputPolicy(recordingsDir).resolveOutput(url, now);
}
