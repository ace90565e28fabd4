import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OutputSpec } from '../../shared/outputs.js';
import { muxerFor } from './ffmpeg-args.js';
import { ffmpegTarget, type OutputPolicy } from './output-path.js';

/** HLS: target segment length (s; segments are cut at keyframes, so at least one GOP) and playlist length (segments). */
const HLS_TIME_S = 1;
const HLS_LIST_SIZE = 6;

/** A file name for this start: `<name>-<ISO time>.<ext>` beside the configured path. */
export function timestamped(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.replace(/(\.[a-z0-9]+)$/i, `-${stamp}$1`);
}

/**
 * The muxer's ffmpeg arguments for one start of an output (after the common `-c copy` input part),
 * and where it writes: a file output gets a fresh timestamped file (folders created; see
 * `OutputPolicy.claim`: throws AppError SM_ERR_OUTPUT_URL outside the allowed folders); an HLS output
 * starts a fresh playlist folder `<dataDir>/hls/<id>/` (old segments removed) and is served at
 * `/stream/hls/<id>/index.m3u8`. MP4/MKV/FLV take AAC from the TS through `aac_adtstoasc`.
 * @throws Error for a `webrtc` output (it has no muxer)
 */
export function muxerArgs(spec: OutputSpec, dirs: { dataDir: string; paths: OutputPolicy }): { args: string[]; location: string | null } {
  switch (spec.kind) {
    case 'rtmp':
      return {
        args: ['-bsf:a', 'aac_adtstoasc', '-f', 'flv', '-flvflags', 'no_duration_filesize', ffmpegTarget(spec.url!)],
        location: null,
      };
    case 'srt':
      return { args: ['-f', 'mpegts', ffmpegTarget(spec.url!)], location: null };
    case 'file': {
      // Claimed (created empty, never through a symlink) under RECORDINGS_DIR or OUTPUT_DIRS, else it throws.
      const path = dirs.paths.claim(timestamped(spec.url!));
      const aac = /\.ts$/i.test(path) ? [] : ['-bsf:a', 'aac_adtstoasc'];
      return { args: [...aac, ...muxerFor(path), '-y', ffmpegTarget(path)], location: path };
    }
    case 'hls': {
      // Absolute, so it can be read neither as an option nor as a protocol.
      const dir = resolve(dirs.dataDir, 'hls', spec.id);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      return {
        args: [
          '-f',
          'hls',
          '-hls_time',
          String(HLS_TIME_S),
          '-hls_list_size',
          String(HLS_LIST_SIZE),
          '-hls_flags',
          'delete_segments+independent_segments+temp_file',
          '-hls_segment_filename',
          join(dir, 'seg-%05d.ts'),
          join(dir, 'index.m3u8'),
        ],
        location: `/stream/hls/${spec.id}/index.m3u8`,
      };
    }
    case 'webrtc':
      throw new Error('a webrtc output has no muxer: its WHEP viewers are fed in process (webrtc/whep-feed.ts)');
  }
}
