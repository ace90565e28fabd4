import { z } from 'zod';
import { ColorSchema } from './color.js';
import { ASSET_ID } from './asset-ref.js';

/**
 * Video layers: what a `video` content says, the state of its source as the API reports it, and
 * the media actions (`POST /stream/layers/:id/media`). The wire contract of issue 29; the
 * decoding lives in `media/` (the reader thread) and `orchestrator/media/` (supervision, clock).
 */

/** Characters of a video layer's `src` (an asset id, a path under `assets/`, or a live URL). */
export const MEDIA_SRC_CHARS = 2048;

/** URL schemes a live source may use; everything else (and every ffmpeg pseudo-protocol) is refused. */
export const LIVE_SCHEMES = ['rtmp:', 'rtmps:', 'srt:', 'rtsp:', 'http:', 'https:'] as const;

/**
 * Why `src` is not an acceptable video source, or null when it is: an uploaded asset's id, a
 * relative path under `assets/` without `..` segments, or an absolute URL whose scheme is one
 * of {@link LIVE_SCHEMES}, written `scheme://` in lower case, with a host. Refused: any other scheme (`file:`, `concat:`, `subfile:`,
 * `pipe:`, `data:`, `lavfi`...), a value starting with `-` (it would read as an ffmpeg option),
 * control characters, whitespace (Unicode spaces too) and invisible format characters anywhere
 * (ffmpeg and some servers split on them; a person reading the value would not see them).
 */
export function mediaSrcProblem(src: string): string | null {
  if (src.startsWith('-')) return 'A source may not start with "-"';
  // Controls, Unicode spaces and separators, and invisible format characters (bidi overrides, zero widths).
  if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(src)) return 'A source may not hold whitespace, control or invisible format characters';
  if (ASSET_ID.test(src)) return null;
  if (src.startsWith('assets/')) return src.split(/[\\/]/).includes('..') ? 'A path under assets/ may not hold ".." segments' : null;
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    return 'Expected an uploaded video id, a path under assets/, or a URL (rtmp, rtmps, srt, rtsp, http, https)';
  }
  if (!(LIVE_SCHEMES as readonly string[]).includes(url.protocol))
    return `The scheme "${url.protocol}" is not allowed; use rtmp, rtmps, srt, rtsp, http or https`;
  // ffmpeg picks its protocol by the exact (case-sensitive) letters before the first ":", and reads
  // `http:host` or `https:file:...` its own way: only the plain lower-case `scheme://` form is taken,
  // so that what was checked here is what ffmpeg opens.
  if (!src.startsWith(`${url.protocol}//`) || src.startsWith(`${url.protocol}///`))
    return `A live source URL starts with "${url.protocol}//" in lower case, then its host`;
  if (!url.hostname) return 'A live source URL needs a host';
  return null;
}

/** True when `src` is a live URL (not an asset id or a path under `assets/`). Assumes it passed {@link mediaSrcProblem}. */
export function isLiveSrc(src: string): boolean {
  return !ASSET_ID.test(src) && !src.startsWith('assets/');
}

/** A video layer's source, checked by {@link mediaSrcProblem}. */
export const MediaSrcSchema = z
  .string()
  .min(1)
  .max(MEDIA_SRC_CHARS)
  .superRefine((src, ctx) => {
    const problem = mediaSrcProblem(src);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** How the picture fills the layer box: inside it (letterboxed), covering it (cropped), or stretched to it. */
export const VideoFitSchema = z.enum(['contain', 'cover', 'fill']);
export type VideoFit = z.infer<typeof VideoFitSchema>;

/** What a non-looping file does at its end: hold its last frame, hide the layer's pixels, or start again. */
export const VideoOnEndSchema = z.enum(['hold', 'hide', 'loop']);

/** The longest `startMs` or seek position accepted, ms (24 h). */
export const MEDIA_MAX_POSITION_MS = 86_400_000;

/**
 * A moving picture: a file (uploaded or under `assets/`) or a live feed, decoded by one ffmpeg
 * per layer to the layer box at the program's FPS. `loop`: play a file again and again; `playing`:
 * false holds the current frame; `startMs`: where a file starts when the layer is created, its
 * scene is activated, or it is restarted, ms; `rate`: playback speed (files only, 0.25..4);
 * `slate`: the colour shown while a live feed has no picture yet (none: transparent, or the last frame held).
 */
export const VideoContentSchema = z.strictObject({
  type: z.literal('video'),
  src: MediaSrcSchema,
  loop: z.boolean().default(false),
  playing: z.boolean().default(true),
  startMs: z.number().int().min(0).max(MEDIA_MAX_POSITION_MS).default(0),
  rate: z.number().min(0.25).max(4).default(1),
  fit: VideoFitSchema.default('contain'),
  onEnd: VideoOnEndSchema.default('hold'),
  slate: ColorSchema.optional(),
});
export type VideoContent = z.infer<typeof VideoContentSchema>;

/**
 * A source's state: `loading` (decoder starting, no frame yet), `playing`, `paused`, `ended` (a
 * non-looping file reached its end), `stalled` (no new frame for a while; the last one shows),
 * `reconnecting` (a live feed dropped; retried with the restart policy), `error` (given up on,
 * or a file that cannot be decoded).
 */
export const MediaStateSchema = z.enum(['loading', 'playing', 'paused', 'ended', 'stalled', 'reconnecting', 'error']);
export type MediaState = z.infer<typeof MediaStateSchema>;

/**
 * A video layer's source as the API reports it (the layer's `media`, WS `mediaUpdate`).
 * `positionMs`: where in the file the frame on screen is (live: ms since the feed connected);
 * `durationMs`: null for live feeds and files not probed yet; `width`, `height`: the decoded
 * picture, pixels (0 until known); `fps`: the source's own frame rate (0 until known).
 */
export const MediaStatusSchema = z.strictObject({
  state: MediaStateSchema,
  positionMs: z.number().nonnegative(),
  durationMs: z.number().nonnegative().nullable(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  fps: z.number().nonnegative(),
  lastError: z.string().nullable(),
});
export type MediaStatus = z.infer<typeof MediaStatusSchema>;

/** `POST /stream/layers/:id/media`: play, pause, restart (from `startMs`) or seek (to `positionMs`, required). */
export const MediaActionSchema = z
  .strictObject({
    action: z.enum(['play', 'pause', 'restart', 'seek']),
    positionMs: z.number().int().min(0).max(MEDIA_MAX_POSITION_MS).optional(),
  })
  .refine((a) => a.action !== 'seek' || a.positionMs !== undefined, { message: 'seek needs positionMs', path: ['positionMs'] });
export type MediaAction = z.infer<typeof MediaActionSchema>;

/**
 * One entry of `VIDEO_LIVE_HOSTS`: a host name or IP address (`cams.example.com`, `10.0.0.7`,
 * `[2001:db8::1]`), a wildcard for every name under a domain (`*.example.com`, not the domain
 * itself), either with an optional `:port`. Host names compare case-insensitively, as DNS does.
 */
export const LIVE_HOST_PATTERN = /^(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:\d{1,5})?$/i;
