import { z } from 'zod';
import { EncoderSettingsSchema } from './stream-config.js';
import { OutputStatusSchema } from './output-status.js';

/**
 * Extra outputs (`/stream/outputs`): one render sent to several destinations. Each output has an
 * id, a kind, where it goes, whether it is enabled, and optional encoder overrides. Outputs whose
 * effective encoder settings are equal share one encode.
 */

/** `rtmp`: rtmp(s):// (FLV); `srt`: srt:// (MPEG-TS); `file`: a recording; `hls`: a live playlist served at `/stream/hls/:id/index.m3u8`. */
export const OutputKindSchema = z.enum(['rtmp', 'srt', 'file', 'hls']);
export type OutputKind = z.infer<typeof OutputKindSchema>;

/** An output id: 1-64 characters of `[A-Za-z0-9_-]`; `main` is the config's own output. */
export const OutputIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected 1-64 characters of A-Z, a-z, 0-9, "_" or "-"')
  .refine((id) => id !== 'main', { message: '"main" is the output of PATCH /config (output.url)' });

/** Encoder overrides: outputs with other settings than the config's get an encode of their own. */
export const OutputEncoderSchema = EncoderSettingsSchema.pick({ bitrateKbps: true, preset: true }).partial();

const FILE_EXT = /\.(mp4|mkv|flv|ts)$/i;

/**
 * The URL (or path) a kind needs: rtmp(s):// for `rtmp`, srt:// for `srt`, a file path ending in
 * .mp4/.mkv/.flv/.ts for `file` (each start records `<name>-<ISO time>.<ext>` beside it), none for
 * `hls` (its files go under `DATA_DIR/hls/<id>/`).
 */
function urlProblem(kind: OutputKind, url: string | null | undefined): string | null {
  switch (kind) {
    case 'rtmp':
      return url && /^rtmps?:\/\/[^/\s]+\/\S+$/i.test(url) ? null : 'an rtmp output needs url rtmp://host[:port]/app/key';
    case 'srt':
      return url && /^srt:\/\/[^/\s]+/i.test(url) ? null : 'an srt output needs url srt://host:port[?streamid=...]';
    case 'file':
      return url && FILE_EXT.test(url) && !url.includes('\0') && !url.split(/[\\/]/).includes('..') ? null : 'a file output needs url: a path ending in .mp4, .mkv, .flv or .ts, without ".." segments';
    case 'hls':
      return url === null || url === undefined ? null : 'an hls output takes no url (its playlist is served at /stream/hls/:id/index.m3u8)';
  }
}

const OutputFields = {
  kind: OutputKindSchema,
  url: z.string().min(1).max(2048).nullable().default(null),
  enabled: z.boolean().default(true),
  encoder: OutputEncoderSchema.default({}),
};

/** One output as stored and returned (with its url redacted). */
export const OutputSpecSchema = z
  .strictObject({ id: OutputIdSchema, ...OutputFields })
  .superRefine((o, ctx) => {
    const p = urlProblem(o.kind, o.url);
    if (p) ctx.addIssue({ code: 'custom', path: ['url'], message: p });
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
  /** `file`: the file of the current (or last) recording; `hls`: the playlist URL path. */
  location: z.string().nullable(),
});
export type OutputView = z.infer<typeof OutputViewSchema>;

/**
 * An output URL with its secrets replaced by `***`: an RTMP URL's last path segment (the stream
 * key), and every query value (SRT `streamid`, `passphrase`, tokens). Paths are kept.
 */
export function redactUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  let out = url.replace(/([?&][^=&#]+)=[^&#]*/g, '$1=***');
  if (/^rtmps?:\/\//i.test(out)) out = out.replace(/^(rtmps?:\/\/[^?#]*\/)[^/?#]+/i, '$1***');
  return out.replace(/\/\/[^/@]*@/, '//***@');
}

/**
 * The secret parts of an output URL, longest first: an RTMP URL's stream key (last path
 * segment), query values and user info. Used to scrub ffmpeg's messages, which quote the URL.
 */
export function secretsOf(url: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return [];
  const out: string[] = [];
  const q = url.indexOf('?');
  if (q >= 0) for (const m of url.slice(q + 1).matchAll(/[^=&#]+=([^&#]+)/g)) out.push(m[1]!);
  const base = q >= 0 ? url.slice(0, q) : url;
  if (/^rtmps?:\/\//i.test(base)) {
    const key = /\/([^/]+)$/.exec(base.replace(/^rtmps?:\/\/[^/]+/i, ''))?.[1];
    if (key) out.push(key);
  }
  const user = /^[a-z][a-z0-9+.-]*:\/\/([^/@]+)@/i.exec(url)?.[1];
  if (user) out.push(user);
  return out.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
