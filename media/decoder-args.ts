import type { VideoFit } from '../shared/media.js';

/**
 * Where a video layer's picture goes: the box (transform `width`/`height` x `scale`; a missing side
 * keeps the source's aspect ratio, both missing: the source's natural size x `scale`) and how the
 * picture fills it.
 */
export interface VideoBox {
  /** Box width before `scale`, pixels; undefined: from the source's aspect ratio or natural size. */
  width?: number | undefined;
  height?: number | undefined;
  /** Multiplies both sides (default 1). */
  scale?: number | undefined;
  fit: VideoFit;
}

/** What one decoder run decodes: the input, where in it to start, and the picture it makes. */
export interface DecoderSpec {
  /** A file path (absolute) or a live URL, already checked by shared/media.ts `mediaSrcProblem`. */
  input: string;
  /** A live feed (paced by its own clock) rather than a file (paced by the reader, through backpressure). */
  live: boolean;
  /** Files: where the run starts, ms of media time. */
  startMs: number;
  /** Files: playback speed (frames are made at the program rate from media time x rate). */
  rate: number;
  /** Files: play again from the start at the end (`-stream_loop -1`). */
  loop: boolean;
  /** Files: decode only the last few pictures (`-sseof`; `startMs` and `loop` are ignored). */
  tail?: boolean | undefined;
  /** The program's frame rate: one picture per frame interval. */
  fps: number;
  box: VideoBox;
}

/**
 * Microseconds a live input's network read may block before ffmpeg gives up on the connection
 * (`-rw_timeout`): a dead socket ends the run instead of hanging it. Long enough for an RTMP
 * server that holds a player until its publisher comes back (the run then takes the feed at once).
 */
export const LIVE_RW_TIMEOUT_US = 15_000_000;

/** Microseconds of a live feed that ffmpeg analyses before decoding (`-analyzeduration`; its default is 5 s). */
export const LIVE_ANALYZE_US = 1_000_000;
/** Bytes of a live feed ffmpeg reads to find its streams (`-probesize`). */
export const LIVE_PROBE_BYTES = 1_000_000;

/** A box side in whole pixels (at least 1). */
function side(v: number): number {
  return Math.max(1, Math.round(v));
}

/**
 * The ffmpeg filter that turns decoded frames into the layer's picture: speed (`setpts`), the
 * program rate (`fps`), the box and fit (`scale`, `crop`), square pixels, RGBA.
 * contain: fitted inside the box (the compositor centres it; the rest stays transparent); cover:
 * scaled to cover the box, centre-cropped to it; fill: stretched to it.
 */
export function videoFilter(spec: Pick<DecoderSpec, 'rate' | 'fps' | 'live' | 'box'>): string {
  const f: string[] = [];
  if (!spec.live && spec.rate !== 1) f.push(`setpts=PTS/${spec.rate}`);
  f.push(`fps=${spec.fps}`);
  const { width, height, fit } = spec.box;
  const s = spec.box.scale ?? 1;
  const flags = 'flags=bilinear';
  if (width !== undefined && height !== undefined) {
    const w = side(width * s);
    const h = side(height * s);
    if (fit === 'fill') f.push(`scale=${w}:${h}:${flags}`);
    else if (fit === 'contain') f.push(`scale=${w}:${h}:force_original_aspect_ratio=decrease:${flags}`);
    else f.push(`scale=${w}:${h}:force_original_aspect_ratio=increase:${flags}`, `crop=${w}:${h}`);
  } else if (width !== undefined) f.push(`scale=${side(width * s)}:-1:${flags}`);
  else if (height !== undefined) f.push(`scale=-1:${side(height * s)}:${flags}`);
  else if (s !== 1) f.push(`scale=iw*${s}:ih*${s}:${flags}`);
  f.push('setsar=1', 'format=rgba');
  return f.join(',');
}

/** Options that go before a live URL's `-i`, by scheme. */
export function liveInputOptions(input: string): string[] {
  const scheme = input.slice(0, input.indexOf(':')).toLowerCase();
  // A feed shows within about a second of connecting: ffmpeg's default 5 s of stream analysis is cut to 1 s.
  const o = [
    '-rw_timeout',
    String(LIVE_RW_TIMEOUT_US),
    '-fflags',
    'nobuffer',
    '-analyzeduration',
    String(LIVE_ANALYZE_US),
    '-probesize',
    String(LIVE_PROBE_BYTES),
  ];
  // HLS and progressive files over HTTP are read at their own pace, as a feed.
  if (scheme === 'http' || scheme === 'https') o.push('-re');
  if (scheme === 'rtsp') o.push('-rtsp_transport', 'tcp');
  return o;
}

/**
 * The ffmpeg arguments of one decoder run (an argument array, never a shell line): the input last
 * among the input options and right after `-i`, so nothing in it can read as an option; the first
 * video stream only; raw RGBA pictures on stdout. The output stream's picture size is read from
 * ffmpeg's log (media/ffmpeg-log.ts), so the log level stays `info`.
 */
export function decoderArgs(spec: DecoderSpec): string[] {
  const input: string[] = [];
  if (spec.live) input.push(...liveInputOptions(spec.input));
  else if (spec.tail) input.push('-sseof', (-(3 * spec.rate) / spec.fps).toFixed(3));
  else {
    if (spec.loop) input.push('-stream_loop', '-1');
    if (spec.startMs > 0) input.push('-ss', (spec.startMs / 1000).toFixed(3));
  }
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    ...input,
    '-i',
    spec.input,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    videoFilter(spec),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    'pipe:1',
  ];
}
