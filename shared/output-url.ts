/**
 * What an output URL may look like, before the server decides where a file may go (see
 * `OutputPolicy` in orchestrator/output/output-path.ts). Output URLs end up as ffmpeg arguments,
 * so anything ffmpeg could read as an option (`-y.mp4`) or as another protocol (`file:`, `tcp://`,
 * `http://`, `concat:`, `pipe:`, `data:`, `subfile,,...:`) is refused here, as are control and
 * invisible characters (a newline, NUL, bidi overrides) that could split a log line or hide a name.
 */

/** Schemes an output may send to: RTMP (FLV) and SRT (MPEG-TS). Everything else is refused. */
export const NETWORK_SCHEMES = ['rtmp', 'rtmps', 'srt'] as const;
export type NetworkScheme = (typeof NETWORK_SCHEMES)[number];

/** Extensions of file outputs; the extension picks the container. */
export const FILE_EXTENSIONS = ['mp4', 'mkv', 'flv', 'ts'] as const;

/** Longest name of one path segment, bytes (Linux NAME_MAX is 255; 40 are kept for `-<ISO time>` and `-<n>`). */
export const MAX_SEGMENT_BYTES = 215;
/** Measures names in bytes as the file system does (UTF-8); shared code, so no Node Buffer. */
const UTF8 = new TextEncoder();

/** Control (Cc), format (Cf: bidi overrides, zero-width) and line/paragraph separator characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Anything before a `:` made of URL scheme characters (ffmpeg's `URL_SCHEME_CHARS`) reads as a protocol. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const FILE_EXT = new RegExp(`\\.(${FILE_EXTENSIONS.join('|')})$`, 'i');

/** The scheme of a network URL in lower case (`RTMP://` is `rtmp`), or null for a file path. */
export function schemeOf(url: string): string | null {
  return SCHEME.exec(url)?.[1]?.toLowerCase() ?? null;
}

/** True when `url` goes to the network (rtmp, rtmps, srt; any case) rather than to a file. */
export function isNetworkUrl(url: string): boolean {
  const s = schemeOf(url);
  return s !== null && (NETWORK_SCHEMES as readonly string[]).includes(s);
}

/**
 * Why `url` is not a valid output of `kind`, or null when it is. `rtmp`: `rtmp(s)://host[:port]/app/key`;
 * `srt`: `srt://host:port[?options]`; `file`: a relative or absolute path ending in .mp4, .mkv, .flv
 * or .ts, without `..`, `:` or `\`, no segment starting with `-` or longer than 215 bytes (whether
 * it may be written is the server's `OutputPolicy`'s call). Schemes are matched in any case.
 */
export function outputUrlProblem(kind: 'rtmp' | 'srt' | 'file', url: string): string | null {
  if (INVISIBLE.test(url)) return 'control or invisible characters (newline, NUL, bidi marks) are not allowed in an output URL';
  const scheme = schemeOf(url);
  if (kind === 'file') {
    if (scheme !== null)
      return `"${scheme}:" is not a file path: file outputs are paths under RECORDINGS_DIR (network outputs use rtmp://, rtmps:// or srt://)`;
    if (url.includes(':')) return 'a file output path may not contain ":" (ffmpeg would read it as a protocol)';
    if (url.includes('\\')) return 'a file output path may not contain "\\"';
    if (!FILE_EXT.test(url)) return 'a file output needs a path ending in .mp4, .mkv, .flv or .ts';
    for (const seg of url.split('/')) {
      if (seg === '..') return 'a file output path may not contain ".." segments';
      if (seg.startsWith('-')) return 'a file output path may not have a name starting with "-" (ffmpeg would read it as an option)';
      if (UTF8.encode(seg).length > MAX_SEGMENT_BYTES)
        return `a file output path may not have a name longer than ${MAX_SEGMENT_BYTES} bytes`;
    }
    return null;
  }
  if (/\s/.test(url)) return 'an output URL may not contain whitespace';
  if (kind === 'rtmp') {
    return (scheme === 'rtmp' || scheme === 'rtmps') && /^rtmps?:\/\/[^/]+\/\S+$/i.test(url)
      ? null
      : 'an rtmp output needs url rtmp://host[:port]/app/key (or rtmps://)';
  }
  return scheme === 'srt' && /^srt:\/\/[^/]+/i.test(url) ? null : 'an srt output needs url srt://host:port[?streamid=...]';
}

/** Why `url` is not a valid main output (`config.output.url`: rtmp(s):// or a file path), or null. */
export function mainOutputUrlProblem(url: string): string | null {
  const scheme = schemeOf(url);
  if (scheme === null || scheme === 'rtmp' || scheme === 'rtmps') return outputUrlProblem(scheme === null ? 'file' : 'rtmp', url);
  return `"${scheme}:" is not an allowed output: use rtmp://, rtmps:// or a file path under RECORDINGS_DIR`;
}
