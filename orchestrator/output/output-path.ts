import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** True for network outputs (RTMP), false for files. */
export function isNetworkOutput(url: string): boolean {
  return /^rtmps?:\/\//i.test(url);
}

/**
 * The output an encoder writes to: the configured URL, or a new recording
 * `<recordingsDir>/stream-<ISO time>.mp4` when none is set. A file that already exists is never
 * overwritten: `name.mp4` becomes `name-1.mp4`, `name-2.mp4`... The folder is created.
 *
 * @param now time used in the recording name (ms since epoch)
 */
export function resolveOutput(url: string | null, recordingsDir: string, now = Date.now()): string {
  if (url && isNetworkOutput(url)) return url;
  const path = url ?? join(recordingsDir, `stream-${new Date(now).toISOString().replace(/[:.]/g, '-')}.mp4`);
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) return path;
  const dot = path.lastIndexOf('.');
  for (let n = 1; ; n++) {
    const candidate = `${path.slice(0, dot)}-${n}${path.slice(dot)}`;
    if (!existsSync(candidate)) return candidate;
  }
}
