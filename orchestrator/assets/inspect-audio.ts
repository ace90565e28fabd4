import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { AudioAssetInfo } from '../../shared/state-doc.js';
import { probeMedia } from '../media/probe.js';
import type { VideoLimits, VideoTools } from './inspect-video.js';
import { checkedDurationS, measureTimeoutMs, packetSpan } from './video-tools.js';

/** A file whose packets end this much before its header's duration is cut short: 0.5 s, or 5 % of the duration. */
/** How long decoding the first second may take, ms. */
const DECODE_TIMEOUT_MS = 20_000;

/** True when ffmpeg decodes the first second of `input`'s first audio stream without an error. */
function decodesFirstSecond(ffmpegPath: string, input: string): Promise<boolean> {
  const args = ['-v', 'error', '-xerror', '-nostdin', '-t', '1', '-i', input, '-map', '0:a:0', '-f', 'null', '-'];
  return new Promise((done) => {
    execFile(ffmpegPath, args, { timeout: DECODE_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err) => done(err === null));
  });
}

/**
 * Probes a received audio file (WAV, MP3, AAC/M4A, Ogg/Opus, FLAC; by its path under the data
 * dir, never a string from the client) as videos are (orchestrator/assets/inspect-video.ts): it
 * must hold an audio stream, last at most `MAX_VIDEO_DURATION_S`, not be cut short (its packets
 * end well before its header's duration, e.g. an MP3 whose Xing header counts more frames than
 * it has), and its first second must decode.
 * @throws AppError SM_ERR_UNDECODABLE (422), SM_ERR_VIDEO_LIMIT (422: longer than `MAX_VIDEO_DURATION_S`)
 */
export async function inspectAudio(tools: VideoTools, file: string, limits: VideoLimits): Promise<AudioAssetInfo> {
  const input = `file:${resolve(file)}`;
  const probe = await probeMedia(tools.ffprobePath, input);
  if (!probe) throw new AppError('SM_ERR_UNDECODABLE', 'ffprobe cannot read this audio file (truncated, damaged, or not audio)');
  const a = probe.audio;
  if (!a) throw new AppError('SM_ERR_UNDECODABLE', 'The file holds no audio stream');
  const { size } = await stat(file);
  const span = await packetSpan(tools.ffprobePath, input, 0, limits.maxDurationS, measureTimeoutMs(size));
  if (!span) throw new AppError('SM_ERR_UNDECODABLE', 'The packets of this audio file cannot be read (damaged, or it took too long)');
  const packetsS = span.endS - span.startS;
  const durationS = checkedDurationS('audio', probe.durationS, packetsS, limits.maxDurationS);
  if (!(await decodesFirstSecond(tools.ffmpegPath, input))) throw new AppError('SM_ERR_UNDECODABLE', 'The audio could not be decoded');
  return {
    container: probe.format.slice(0, 128),
    codec: a.codec.slice(0, 64),
    durationMs: Math.round(durationS * 1000),
    sampleRate: Math.round(a.sampleRate),
    channels: Math.round(a.channels),
  };
}
