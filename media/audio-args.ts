import { AUDIO_CHANNELS, AUDIO_RATE_HZ } from '../shared/audio.js';
import { liveInputOptions } from './decoder-args.js';

/** What one audio decoder run decodes: the input and where in it to start. */
export interface AudioDecodeSpec {
  /** A file path (absolute) or a live URL, already checked by shared/media.ts `mediaSrcProblem`. */
  input: string;
  /** A live feed (read at its own pace) rather than a file (paced by the mixer, through backpressure). */
  live: boolean;
  /** Files: where the run starts in the file, ms. */
  startMs: number;
  /** Files: play again from the start at the end (`-stream_loop -1`). */
  loop: boolean;
}

/**
 * The ffmpeg arguments of one audio decoder run (an argument array, never a shell line): the
 * first audio stream only, resampled to the program's 48 kHz stereo float, raw (`f32le`) on
 * stdout. The input comes right after `-i` (nothing in it can read as an option). A looping file
 * started past its beginning is trimmed after decoding (`atrim`) instead of sought: ffmpeg's
 * `-stream_loop` with `-ss` would lose the part before the seek point in every loop.
 */
export function audioDecoderArgs(spec: AudioDecodeSpec): string[] {
  const input: string[] = [];
  const filters = [`aresample=${AUDIO_RATE_HZ}`, `aformat=sample_fmts=flt:channel_layouts=stereo`];
  if (spec.live) input.push(...liveInputOptions(spec.input));
  else if (spec.loop) {
    input.push('-stream_loop', '-1');
    if (spec.startMs > 0) filters.unshift(`atrim=start=${(spec.startMs / 1000).toFixed(3)}`, 'asetpts=PTS-STARTPTS');
  } else if (spec.startMs > 0) input.push('-ss', (spec.startMs / 1000).toFixed(3));
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'error',
    ...input,
    '-i',
    spec.input,
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    filters.join(','),
    '-f',
    'f32le',
    '-ac',
    String(AUDIO_CHANNELS),
    '-ar',
    String(AUDIO_RATE_HZ),
    'pipe:1',
  ];
}
