import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { VideoAssetInfo } from '../../shared/state-doc.js';
import { probeMedia } from '../media/probe.js';
import { checkedDurationS, cutPoster, measureTimeoutMs, packetSpan } from './video-tools.js';


/** What a video upload may be: the most pixels (width x height) and seconds. */
export interface VideoLimits {
  /** `MAX_VIDEO_PIXELS`. */
  maxPixels: number;
  /** `MAX_VIDEO_DURATION_S`. */
  maxDurationS: number;
}

/** The ffmpeg and ffprobe binaries. */
export interface VideoTools {
  ffmpegPath: string;
  ffprobePath: string;
}

/** An accepted video: its picture's size, pixels, and what else ffprobe found. */
export interface InspectedVideo {
  width: number;
  height: number;
  info: VideoAssetInfo;
}

/** Where the poster is cut, seconds: 1 s in, or half-way through a shorter clip. */
export function posterTimeS(durationS: number): number {
  return Math.min(1, durationS / 2);
}

/**
 * Probes a received video file (by its path under the data dir, never a string from the client)
 * with ffprobe, checks it against `limits`, and cuts its poster frame to `posterPath` (which also
 * proves that a frame decodes: a file whose header reads but whose pictures do not is refused).
 * Every packet's timestamp is read (nothing decoded): a file whose header has no duration is
 * measured from them, and one whose packets end well before its header's duration is cut short.
 * Every child runs with a timeout and is killed past it.
 * @throws AppError SM_ERR_UNDECODABLE (422: ffprobe cannot read it, no video stream, cut short,
 *   no frame decodes, or a child ran past its timeout), SM_ERR_VIDEO_LIMIT (422: over `MAX_VIDEO_PIXELS` or
 *   `MAX_VIDEO_DURATION_S`; `details: { limit, value, max }`)
 */
export async function inspectVideo(tools: VideoTools, file: string, posterPath: string, limits: VideoLimits): Promise<InspectedVideo> {
  const input = `file:${resolve(file)}`;
  const probe = await probeMedia(tools.ffprobePath, input);
  if (!probe) throw new AppError('SM_ERR_UNDECODABLE', 'ffprobe cannot read this video (truncated, damaged, or not a video)');
  const v = probe.video;
  if (!v || v.width <= 0 || v.height <= 0) throw new AppError('SM_ERR_UNDECODABLE', 'The file holds no video stream with a picture size');
  const pixels = v.width * v.height;
  if (pixels > limits.maxPixels) {
    throw new AppError(
      'SM_ERR_VIDEO_LIMIT',
      `The video is ${v.width}x${v.height} (${pixels} pixels); at most ${limits.maxPixels} pixels are accepted (MAX_VIDEO_PIXELS)`,
      { limit: 'MAX_VIDEO_PIXELS', value: pixels, max: limits.maxPixels },
    );
  }
  const { size } = await stat(file);
  const span = await packetSpan(tools.ffprobePath, input, v.fps, limits.maxDurationS, measureTimeoutMs(size));
  if (!span) throw new AppError('SM_ERR_UNDECODABLE', 'The packets of this video cannot be read (damaged, or it took too long)');
  const packetsS = span.endS - span.startS;
  const durationS = checkedDurationS('video', probe.durationS, packetsS, limits.maxDurationS);
  if (!(await cutPoster(tools.ffmpegPath, input, posterPath, posterTimeS(durationS)))) {
    throw new AppError('SM_ERR_UNDECODABLE', 'No frame of this video could be decoded');
  }
  return {
    width: v.width,
    height: v.height,
    info: {
      container: probe.format.slice(0, 128),
      codec: v.codec.slice(0, 64),
      durationMs: Math.round(durationS * 1000),
      fps: Math.round(v.fps * 1000) / 1000,
      audio: probe.audio
        ? { codec: probe.audio.codec.slice(0, 64), sampleRate: Math.round(probe.audio.sampleRate), channels: Math.round(probe.audio.channels) }
        : null,
    },
  };
}
