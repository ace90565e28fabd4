import type { EncoderLatency, EncoderSettings } from '../../shared/stream-config.js';
import { colorTags, resolveMatrix } from '../../pixels/yuv.js';
import { ffmpegTarget, isNetworkOutput } from './output-path.js';

/** Everything the encoder command depends on. */
export interface EncodeJob {
  /** Frame size in pixels and rate in frames per second of the raw I420 frames on stdin. */
  width: number;
  height: number;
  targetFPS: number;
  encoder: EncoderSettings;
  /** An `rtmp(s)://` URL or a file path (passed to ffmpeg as `file:<path>`). */
  output: string;
  /**
   * With `audio: silent`: the track carries the program audio, raw 48 kHz stereo f32le on the
   * encoder's `pipe:3` (output/audio-feed.ts), instead of a silent source. Absent: the silent track.
   */
  programAudio?: boolean | undefined;
}

/**
 * `low` latency: the VBV buffer in frame intervals (bufsize = bitrate x frames / targetFPS; 4 at
 * 30 fps is 133 ms of bitrate, against 2 s in `normal`). A frame may then be at most this many
 * frame intervals' worth of bits, so on a link of exactly the bitrate no frame waits longer than
 * that behind the ones before it. Measured on the bench scenes in docs/latency.md.
 */
export const LOW_VBV_FRAMES = 4;

/** Audio of the silent track: AAC-LC at 44.1 kHz stereo, what RTMP ingest servers expect. */
const AUDIO_RATE_HZ = 44100;
/** Audio of the program track: AAC-LC at the mix's 48 kHz stereo (shared/audio.ts). */
const PROGRAM_RATE_HZ = 48000;
const AUDIO_BITRATE = '128k';

/**
 * Muxer options of a `low` latency output (none in `normal`): every packet is written out at
 * once (`-flush_packets 1`) and the container adds no start delay (`-muxdelay 0 -muxpreload 0`:
 * MPEG-TS and FLV otherwise hold packets back up to 0.7 s and shift timestamps by 0.5 s).
 */
export function lowLatencyMuxArgs(latency: EncoderLatency): string[] {
  return latency === 'low' ? ['-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0'] : [];
}

/** The muxer and its options for an output, from its scheme or file extension. */
export function muxerFor(output: string): string[] {
  if (isNetworkOutput(output)) return ['-f', 'flv', '-flvflags', 'no_duration_filesize'];
  const ext = /\.([a-z0-9]+)$/i.exec(output)?.[1]?.toLowerCase();
  switch (ext) {
    case 'mp4':
      // Fragmented MP4: playable after a clean stop and also after a crash (no moov to write last).
      return ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof'];
    case 'flv':
      return ['-f', 'flv'];
    case 'ts':
      return ['-f', 'mpegts'];
    case 'mkv':
      return ['-f', 'matroska'];
    default:
      throw new Error(`No container for output "${output}": expected rtmp://, .mp4, .flv, .ts or .mkv`);
  }
}

/**
 * The ffmpeg argument array (never a shell string) for one encode: raw I420 frames on stdin
 * (converted by the compositor, pixels/yuv.ts, so ffmpeg runs no colour conversion),
 * H.264 (libx264, yuv420p) at the configured preset and bitrate, GOP = keyframe interval x targetFPS
 * with scene-cut keyframes off so keyframes land exactly on the interval, plus an AAC track
 * when `audio` is `silent`: the program audio from `pipe:3` with `programAudio`, else silence. A second input (the silent source) also makes ffmpeg read stdin on a
 * thread of its own; with `audio: none` it is still opened but not mapped, for that reason alone.
 * `latency: low` adds {@link encodeArgs}' low-latency options and {@link lowLatencyMuxArgs}.
 *
 * @throws Error when the output has no known container
 */
export function buildFfmpegArgs(job: EncodeJob): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    '-progress',
    'pipe:1',
    '-stats_period',
    '1',
    ...encodeArgs(job),
    ...muxerFor(job.output),
    ...lowLatencyMuxArgs(job.encoder.latency),
    '-y',
    // `file:<path>`, never a bare path: ffmpeg would read `-x.mp4` as an option, `a:b.ts` as a protocol.
    ffmpegTarget(job.output),
  ];
}

/**
 * The colour tags of an encode, for the input (what the raw frames are) and the encoder (what
 * x264 writes into the stream's VUI, and the container's colour fields): the matrix the
 * compositor converted with ({@link resolveMatrix}: the job's `colorMatrix` and height), its
 * primaries and transfer, limited range. With `rgba` input, a scale filter converts with the
 * same matrix (ffmpeg's default would be BT.601 whatever the tags say).
 */
export function colorArgs(job: Pick<EncodeJob, 'height' | 'encoder'>, input: 'yuv420p' | 'rgba'): { input: string[]; output: string[] } {
  const matrix = resolveMatrix(job.encoder.colorMatrix, job.height);
  const c = colorTags(matrix);
  const tags = ['-colorspace', c.colorspace, '-color_primaries', c.primaries, '-color_trc', c.trc, '-color_range', c.range];
  return {
    input: input === 'yuv420p' ? tags : [],
    output: [...(input === 'rgba' ? ['-vf', `scale=out_color_matrix=${matrix}:out_range=tv`] : []), ...tags],
  };
}

/**
 * The input and codec part of an encode (no muxer, no output): raw frames on stdin plus the silent
 * source, libx264 with the job's settings and colour tags ({@link colorArgs}), AAC when `audio`
 * is `silent`. `latency: low` adds: a one-frame queue on the raw input (`-thread_queue_size 1`:
 * a late encoder makes ffmpeg stop reading, so the producer drops frames instead of queueing
 * them), `-tune zerolatency` (x264: no lookahead, no B-frames, sliced threads, so a frame leaves
 * the encoder before the next comes in) and a VBV buffer of {@link LOW_VBV_FRAMES} frame
 * intervals; `normal` gives the same arguments as before the setting existed.
 * @param input the raw frames' pixel format: `yuv420p` (what the pipeline writes, `frame.yuv`)
 *   or `rgba` (ffmpeg converts; the encode bench compares the two)
 */
export function encodeArgs(job: Omit<EncodeJob, 'output'>, input: 'yuv420p' | 'rgba' = 'yuv420p'): string[] {
  const { encoder } = job;
  const gop = Math.max(1, Math.round(encoder.keyframeIntervalSeconds * job.targetFPS));
  const kbps = encoder.bitrateKbps;
  const withAudio = encoder.audio === 'silent';
  const program = withAudio && job.programAudio === true;
  const color = colorArgs(job, input);
  const low = encoder.latency === 'low';
  const bufsizeKbps = low ? Math.max(1, Math.round((kbps * LOW_VBV_FRAMES) / job.targetFPS)) : kbps * 2;
  return [
    ...color.input,
    ...(low ? ['-thread_queue_size', '1'] : []),
    '-f',
    'rawvideo',
    '-pix_fmt',
    input,
    '-video_size',
    `${job.width}x${job.height}`,
    '-framerate',
    String(job.targetFPS),
    '-i',
    'pipe:0',
    ...(program
      ? [
          '-thread_queue_size',
          '64',
          '-probesize',
          '32',
          '-analyzeduration',
          '0',
          '-f',
          'f32le',
          '-ar',
          String(PROGRAM_RATE_HZ),
          '-ac',
          '2',
          '-i',
          'pipe:3',
        ]
      : ['-f', 'lavfi', '-i', `anullsrc=channel_layout=stereo:sample_rate=${AUDIO_RATE_HZ}`]),
    '-map',
    '0:v:0',
    ...(withAudio ? ['-map', '1:a:0'] : []),
    '-c:v',
    'libx264',
    '-preset',
    encoder.preset,
    ...(low ? ['-tune', 'zerolatency'] : []),
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    `${kbps}k`,
    '-maxrate',
    `${kbps}k`,
    '-bufsize',
    `${bufsizeKbps}k`,
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    ...color.output,
    ...(withAudio ? ['-c:a', 'aac', '-b:a', AUDIO_BITRATE, '-ar', String(program ? PROGRAM_RATE_HZ : AUDIO_RATE_HZ)] : []),
    '-shortest',
  ];
}
