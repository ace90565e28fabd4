import { AppError } from '../../shared/errors.js';
import { execFile, spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';

/**
 * The two ffmpeg runs an upload needs besides the probe: measuring a file whose header does not
 * say its length, and cutting its poster frame. Both take a path under the data dir (given as
 * `file:<absolute path>`, so nothing in it reads as an option or another protocol), run at a
 * lower CPU priority than the program's encoders, and are killed (SIGKILL) past their timeout.
 */

/**
 * Longest a packet read may take, ms, for a file of `bytes`: 30 s, and 30 s more per GiB (it
 * demuxes every packet: I/O bound, about 1 s per GB from the page cache).
 */
export function measureTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil((30_000 * bytes) / 2 ** 30);
}
/** Longest a poster frame may take to cut, ms. */
export const POSTER_TIMEOUT_MS = 20_000;
/** Niceness of these children (the program's encoders run at 0). */
const NICE = 10;

function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, NICE);
  } catch {
    // Already gone, or not permitted: it runs at normal priority.
  }
}

/** The time span a file's packets cover, seconds: from the earliest timestamp to the end of the latest packet. */
export interface PacketSpan {
  startS: number;
  endS: number;
}

/**
 * Reads every packet of every stream of a file (timestamps only; nothing is decoded) and returns
 * the span they cover. It tells a file's length when its header does not say it (WebM as
 * browsers' MediaRecorder writes it, MKV written to a pipe), a header that claims less than the
 * file holds, and a file cut short (its packets end long before its header's duration: the demuxer
 * stops at the cut). Stops early once the span passes `stopAfterS` (the answer is then "over
 * the limit" anyway).
 * @param input `file:<absolute path>`
 * @param fps the video's frame rate: when no packet says its duration, the last one lasts one frame
 * @returns the span, or null when no packet could be read (ffprobe failed, or ran past `timeoutMs` and was killed)
 * @throws Error when ffprobe cannot be started (ENOENT)
 */
export function packetSpan(ffprobePath: string, input: string, fps: number, stopAfterS: number, timeoutMs: number): Promise<PacketSpan | null> {
  const args = ['-v', 'quiet', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', '-i', input];
  return new Promise((resolve, reject) => {
    const child = spawn(ffprobePath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    lowerPriority(child.pid);
    let start = Infinity;
    let lastPts = -Infinity;
    let end = -Infinity;
    let over = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const [pts, dur] = line.split(',').map((v) => (v === '' ? NaN : Number(v)));
      if (pts === undefined || !Number.isFinite(pts)) return;
      start = Math.min(start, pts);
      lastPts = Math.max(lastPts, pts);
      if (dur !== undefined && Number.isFinite(dur) && dur > 0) end = Math.max(end, pts + dur);
      if (Math.max(end, lastPts) - start > stopAfterS && !over) {
        over = true;
        child.kill('SIGKILL');
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (!Number.isFinite(start)) return resolve(null);
      const span = { startS: start, endS: Math.max(end, lastPts + (fps > 0 ? 1 / fps : 0)) };
      resolve(over || (code === 0 && signal === null) ? span : null);
    });
  });
}

/**
 * Cuts one frame of a video at `atS` seconds into a JPEG at the picture's own size (the
 * dashboard's poster), and fsyncs it. ffmpeg writes nothing when `atS` lies past the last frame;
 * then the first frame is taken.
 * @param input `file:<absolute path>` of the video
 * @param output absolute path of the JPEG to write (replaced)
 * @returns true when a frame was decoded and written, false when none could be (the file does not decode, or the timeout passed)
 * @throws Error when ffmpeg cannot be started (ENOENT)
 */
export async function cutPoster(ffmpegPath: string, input: string, output: string, atS: number, timeoutMs = POSTER_TIMEOUT_MS): Promise<boolean> {
  for (const at of atS > 0 ? [atS, 0] : [0]) {
    const args = [
      '-nostdin', '-hide_banner', '-v', 'error', '-threads', '1',
      '-ss', at.toFixed(3), '-i', input,
      '-map', '0:v:0', '-frames:v', '1', '-an', '-sn', '-dn',
      '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '2', '-y', `file:${output}`,
    ]; // prettier-ignore
    const ok = await new Promise<boolean>((resolve, reject) => {
      const child = execFile(ffmpegPath, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 }, (err) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
        resolve(!err);
      });
      lowerPriority(child.pid);
    });
    if (!ok) return false;
    const written = await open(output, 'r+').catch(() => null);
    if (!written) continue;
    try {
      if ((await written.stat()).size === 0) continue;
      await written.sync();
      return true;
    } finally {
      await written.close();
    }
  }
  return false;
}

/**
 * A file whose packets end this much before its header's duration is cut short: 0.5 s, or 5 %
 * of the duration (audio and video end a little apart; a cut loses the whole tail).
 */
const TRUNCATION_SLACK_S = 0.5;
const TRUNCATION_SLACK = 0.05;

/**
 * An uploaded media file's duration, s: the header's unless the packets run on past it (a header
 * that undersells the file), checked against MAX_VIDEO_DURATION_S and for a cut-short file.
 * @param what `audio` or `video`, for the messages
 * @param header the header's duration, s (null: none)
 * @param packetsS how long the packets last, s
 * @throws AppError SM_ERR_VIDEO_LIMIT (too long), SM_ERR_UNDECODABLE (packets end well before the header says)
 */
export function checkedDurationS(what: 'audio' | 'video', header: number | null, packetsS: number, maxDurationS: number): number {
  const durationS = header !== null && packetsS <= header + 1 ? header : packetsS;
  if (durationS > maxDurationS) {
    throw new AppError(
      'SM_ERR_VIDEO_LIMIT',
      `The ${what} is ${durationS.toFixed(1)} s long; at most ${maxDurationS} s are accepted (MAX_VIDEO_DURATION_S)`,
      { limit: 'MAX_VIDEO_DURATION_S', value: durationS, max: maxDurationS },
    );
  }
  if (header !== null && packetsS + Math.max(TRUNCATION_SLACK_S, header * TRUNCATION_SLACK) < header) {
    throw new AppError(
      'SM_ERR_UNDECODABLE',
      `The ${what} is cut short: its header says ${header.toFixed(2)} s, its packets end at ${packetsS.toFixed(2)} s`,
    );
  }
  return durationS;
}
