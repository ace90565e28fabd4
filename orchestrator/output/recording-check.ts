import { execFile } from 'node:child_process';
import { stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';

/**
 * Recordings at most this big are probed after their ffmpeg exits, bytes (1 MiB: under 4 s of
 * the default 2.5 Mbit/s). Bigger ones hold real video and are kept: every container we write
 * (fragmented MP4, MKV, MPEG-TS, FLV) stays readable when cut short, so only a file whose header
 * itself was cut (an ffmpeg that died starting, on a full disk) is unreadable.
 */
export const PROBE_MAX_BYTES = 1024 * 1024;
/** How long one ffprobe may take, ms. */
const PROBE_TIMEOUT_MS = 10_000;

/** The ffprobe beside an ffmpeg: `/opt/ff/ffmpeg` gives `/opt/ff/ffprobe`, `ffmpeg` gives `ffprobe`. */
export function ffprobeFor(ffmpegPath: string): string {
  const name = basename(ffmpegPath).replace(/ffmpeg/i, 'ffprobe');
  const probe = name === basename(ffmpegPath) ? 'ffprobe' : name;
  return ffmpegPath.includes('/') ? join(dirname(ffmpegPath), probe) : probe;
}

/**
 * Whether ffprobe can open `path` and finds a video stream in it: true, false (ffprobe ran and
 * refused it, or found no video), or null when that could not be told (ffprobe missing, killed
 * by the timeout, failed to spawn), in which case the file is kept.
 */
function hasVideo(ffprobePath: string, path: string): Promise<boolean | null> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', `file:${path}`];
  return new Promise((resolve) => {
    execFile(ffprobePath, args, { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout) => {
      if (!err) return resolve(stdout.includes('video'));
      // A numeric code is ffprobe's own exit status: it ran and could not read the file.
      resolve(typeof (err as { code?: unknown }).code === 'number' && !(err as { killed?: boolean }).killed ? false : null);
    });
  });
}

/**
 * Removes recordings that an ffmpeg left unreadable: called when an encoder or file muxer exits
 * (a clean stop, a crash, a restart on a full disk). A file of 0 bytes is removed; one of up to
 * {@link PROBE_MAX_BYTES} is removed when ffprobe cannot open it or finds no video stream in it
 * (an MP4 cut inside its header, a muxer that never got input); bigger files are kept. A
 * fragmented MP4 with its header but no fragment yet (an encoder killed in its first GOP) opens
 * and is kept. Never throws.
 */
export class RecordingJanitor {
  /** Files removed so far. */
  removed = 0;

  constructor(
    private readonly ffprobePath: string,
    private readonly log: Logger,
    private readonly onRemoved?: (path: string) => void,
  ) {}

  /**
   * Looks at the recording `path` once its ffmpeg has exited.
   * @returns `removed`, `kept`, or `gone` (no file there)
   */
  async afterExit(path: string): Promise<'removed' | 'kept' | 'gone'> {
    try {
      const st = await stat(path);
      if (!st.isFile()) return 'kept';
      if (st.size > PROBE_MAX_BYTES) return 'kept';
      const readable = st.size === 0 ? false : await hasVideo(this.ffprobePath, path);
      // No verdict (no ffprobe, a timeout): only an empty file is known to be unreadable.
      if (readable !== false) return 'kept';
      await unlink(path);
      this.removed++;
      this.onRemoved?.(path);
      this.log.warn({ path, bytes: st.size }, 'removed an unreadable recording (its ffmpeg exited before writing playable video)');
      return 'removed';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      this.log.error({ err, path }, 'could not check a recording');
      return 'kept';
    }
  }
}
