import { z } from 'zod';
import { EncoderSettingsSchema } from './stream-config.js';
import { OutputStatusSchema } from './output-status.js';
import { outputUrlProblem } from './output-url.js';

/**
 * Extra outputs (`/stream/outputs`): one render sent to several destinations. Each output has an
 * id, a kind, where it goes, whether it is enabled, and optional encoder overrides. Outputs whose
 * effective encoder settings are equal share one encode.
 */

/**
 * `rtmp`: rtmp(s):// (FLV); `srt`: srt:// (MPEG-TS); `file`: a recording; `hls`: a live playlist
 * served at `/stream/hls/:id/index.m3u8`; `webrtc`: WebRTC viewers by WHEP at `/stream/whep/:id`
 * (H.264 video only, always at `low` encoder latency: WebRTC players take no B-frames).
 */
export const OutputKindSchema = z.enum(['rtmp', 'srt', 'file', 'hls', 'webrtc']);
export type OutputKind = z.infer<typeof OutputKindSchema>;

/** An output id: 1-64 characters of `[A-Za-z0-9_-]`; `main` is the config's own output. */
export const OutputIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected 1-64 characters of A-Z, a-z, 0-9, "_" or "-"')
  .refine((id) => id !== 'main', { message: '"main" is the output of PATCH /config (output.url)' });

/**
 * Encoder overrides: outputs with other settings than the config's get an encode of their own.
 * `latency` has no default here: left out, the config's applies.
 */
export const OutputEncoderSchema = z
  .strictObject({
    bitrateKbps: EncoderSettingsSchema.shape.bitrateKbps,
    preset: EncoderSettingsSchema.shape.preset,
    latency: EncoderSettingsSchema.shape.latency.unwrap(),
  })
  .partial();

/**
 * The URL (or path) a kind needs (see `outputUrlProblem`): rtmp(s):// for `rtmp`, srt:// for
 * `srt`, a file path ending in .mp4/.mkv/.flv/.ts for `file` (each start records
 * `<name>-<ISO time>.<ext>` beside it, under RECORDINGS_DIR or an OUTPUT_DIRS folder), none for
 * `hls` (its files go under `DATA_DIR/hls/<id>/`) and `webrtc`.
 */
function urlProblem(kind: OutputKind, url: string | null | undefined): string | null {
  if (kind === 'hls')
    return url === null || url === undefined ? null : 'an hls output takes no url (its playlist is served at /stream/hls/:id/index.m3u8)';
  if (kind === 'webrtc')
    return url === null || url === undefined ? null : 'a webrtc output takes no url (viewers connect by WHEP at /stream/whep/:id)';
  if (!url) return `a${kind === 'rtmp' ? 'n rtmp' : kind === 'srt' ? 'n srt' : ' file'} output needs a url`;
  return outputUrlProblem(kind, url);
}

const OutputFields = {
  kind: OutputKindSchema,
  url: z.string().min(1).max(2048).nullable().default(null),
  enabled: z.boolean().default(true),
  encoder: OutputEncoderSchema.default({}),
};

/** One output as stored and returned (with its url redacted). */
export const OutputSpecSchema = z.strictObject({ id: OutputIdSchema, ...OutputFields }).superRefine((o, ctx) => {
  const p = urlProblem(o.kind, o.url);
  if (p) ctx.addIssue({ code: 'custom', path: ['url'], message: p });
  if (o.kind === 'webrtc' && o.encoder.latency === 'normal')
    ctx.addIssue({
      code: 'custom',
      path: ['encoder', 'latency'],
      message: 'a webrtc output encodes at low latency (WebRTC players take no B-frames)',
    });
});
export type OutputSpec = z.infer<typeof OutputSpecSchema>;

/** `POST /stream/outputs`: an output; the id may be left to the server. */
export const OutputCreateSchema = z.strictObject({ id: OutputIdSchema.optional(), ...OutputFields });

/** `PATCH /stream/outputs/:id`: fields to change (not the id or kind). */
export const OutputPatchSchema = z.strictObject({
  url: z.string().min(1).max(2048).nullable().optional(),
  enabled: z.boolean().optional(),
  encoder: OutputEncoderSchema.optional(),
});

/** An output in `GET /stream/outputs` and `/stream/status`: its spec and its live status. */
export const OutputViewSchema = OutputStatusSchema.extend({
  kind: OutputKindSchema,
  enabled: z.boolean(),
  encoder: OutputEncoderSchema,
  /** Outputs with the same value share one encode. */
  encodeGroup: z.string(),
  /** `webrtc`: WHEP viewers connected now; absent for other kinds. */
  viewers: z.number().int().nonnegative().optional(),
  /** `file`: the file of the current (or last) recording; `hls`: the playlist URL path; `webrtc`: the WHEP endpoint's path. */
  location: z.string().nullable(),
});
export type OutputView = z.infer<typeof OutputViewSchema>;

/** A URL split where secrets sit: scheme, user info, host, path, query pairs, fragment. */
function splitUrl(
  url: string,
): { scheme: string; user: string | null; host: string; path: string; query: string[] | null; fragment: string | null } | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/is.exec(url);
  if (!m) return null;
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  return {
    scheme: m[1]!,
    user: at >= 0 ? authority.slice(0, at) : null,
    host: at >= 0 ? authority.slice(at + 1) : authority,
    path: m[3]!,
    query: m[4] === undefined ? null : m[4].split('&'),
    fragment: m[5] ?? null,
  };
}

/** An RTMP URL's stream key: the last segment of its path (`rtmp://host/app/KEY`), or null. */
function rtmpKey(scheme: string, path: string): string | null {
  if (!/^rtmps?:/i.test(scheme)) return null;
  return /\/([^/]+)\/?$/.exec(path)?.[1] ?? null;
}

/**
 * An output URL with its secrets replaced by `***`: an RTMP URL's last path segment (the stream
 * key), user info (`//***@host`), every query value (SRT `streamid`, `passphrase`, tokens; a
 * bare parameter entirely) and any fragment. File paths and hosts are kept. This is the one
 * redaction of output URLs: `/status`, `/outputs` and logs always use it; `/config` and the
 * WebSocket state use it for every role but admin (see `redactConfig`).
 */
export function redactUrl(url: string): string {
  const u = splitUrl(url);
  if (!u) return url;
  const key = rtmpKey(u.scheme, u.path);
  const path = key === null ? u.path : u.path.replace(/\/[^/]+(\/?)$/, '/***$1');
  const query = u.query?.map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? (p ? '***' : p) : `${p.slice(0, i)}=***`;
  });
  return `${u.scheme}${u.user === null ? '' : '***@'}${u.host}${path}${query ? `?${query.join('&')}` : ''}${u.fragment === null ? '' : '#***'}`;
}

/** A stream config as a caller without the admin role sees it: its output URL redacted ({@link redactUrl}). */
export function redactConfig<C extends { output: { url: string | null } }>(config: C): C {
  return config.output.url === null ? config : { ...config, output: { ...config.output, url: redactUrl(config.output.url) } };
}

/**
 * The secret parts of an output URL, longest first: an RTMP URL's stream key (last path
 * segment), query values, user info and fragment. Used to scrub ffmpeg's messages, which quote the URL.
 */
export function secretsOf(url: string): string[] {
  const u = splitUrl(url);
  if (!u) return [];
  const out: string[] = [];
  for (const p of u.query ?? []) {
    const i = p.indexOf('=');
    out.push(i < 0 ? p : p.slice(i + 1));
  }
  const key = rtmpKey(u.scheme, u.path);
  if (key) out.push(key);
  if (u.user) out.push(u.user, ...u.user.split(':'));
  if (u.fragment) out.push(u.fragment);
  return [...new Set(out)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
