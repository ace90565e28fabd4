import { execFile } from 'node:child_process';
import { z } from 'zod';

/** How long one probe may take, ms (a network source that never answers is cut off here). */
export const PROBE_TIMEOUT_MS = 10_000;
/** Bytes of ffprobe's JSON kept (a file with thousands of streams is refused, not buffered). */
const PROBE_MAX_BYTES = 1024 * 1024;

/** What ffprobe says of a media file or feed (the first video and the first audio stream). */
export interface MediaProbe {
  /** The container ffprobe found, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`. */
  format: string;
  /** Seconds, or null when unknown (a live feed, a file without a duration). */
  durationS: number | null;
  video: { codec: string; width: number; height: number; fps: number } | null;
  audio: { codec: string; sampleRate: number; channels: number } | null;
}

const StreamSchema = z.object({
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  sample_rate: z.string().optional(),
  channels: z.number().optional(),
  disposition: z.object({ attached_pic: z.number().optional() }).optional(),
});
const ProbeJsonSchema = z.object({
  streams: z.array(StreamSchema).default([]),
  format: z.object({ format_name: z.string().optional(), duration: z.string().optional() }).optional(),
});

/** `30000/1001` as 29.97..., 0 for `0/0` or anything unreadable. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [n, d] = rate.split('/').map(Number);
  const v = d === undefined ? n! : n! / d;
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** Reads ffprobe's `-print_format json -show_format -show_streams` output. @throws Error when it is not such JSON */
export function parseProbe(json: string): MediaProbe {
  const p = ProbeJsonSchema.parse(JSON.parse(json));
  const v = p.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = p.streams.find((s) => s.codec_type === 'audio');
  const duration = Number(p.format?.duration);
  return {
    format: p.format?.format_name ?? '',
    durationS: Number.isFinite(duration) && duration > 0 ? duration : null,
    video: v
      ? {
          codec: v.codec_name ?? '',
          width: v.width ?? 0,
          height: v.height ?? 0,
          fps: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
        }
      : null,
    audio: a ? { codec: a.codec_name ?? '', sampleRate: Number(a.sample_rate) || 0, channels: a.channels ?? 0 } : null,
  };
}

/**
 * Probes `input` (a file path, or a URL already checked by shared/media.ts `mediaSrcProblem`)
 * with ffprobe, arguments as an array (no shell); the input is given after `-i` so that nothing
 * in it reads as an option. Resolves null when ffprobe cannot read it (it ran and refused, or
 * ran past {@link PROBE_TIMEOUT_MS}, when it is killed with SIGKILL).
 * @param ffprobePath the ffprobe binary (output/recording-check.ts `ffprobeFor`)
 * @throws Error when ffprobe cannot be started at all (not installed)
 */
export function probeMedia(ffprobePath: string, input: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<MediaProbe | null> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-i', input];
  return new Promise((resolve, reject) => {
    execFile(
      ffprobePath,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: PROBE_MAX_BYTES, encoding: 'utf8' },
      (err, stdout) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
        if (err) return resolve(null);
        try {
          resolve(parseProbe(stdout));
        } catch {
          resolve(null);
        }
      },
    );
  });
}
