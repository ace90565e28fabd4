/**
 * Where file outputs may be written: RECORDINGS_DIR and the OUTPUT_DIRS folders. The config reads
 * them and checks OUTPUT_URL against them at start; the outputs check every path again before
 * they write (output/output-path.ts).
 */
import { closeSync, lstatSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import type { StreamConfig } from '../../shared/stream-config.js';
import { isNetworkUrl, mainOutputUrlProblem, schemeOf } from '../../shared/output-url.js';

/** `child` is `root` or inside it (both absolute and normalised). */
function within(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of `path`'s deepest existing ancestor (itself when it exists). */
function realAncestor(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      return join(realpathSync(p), relative(p, path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
      if (dirname(p) === p) return path;
    }
  }
}

/** True when something (a file, folder, or a symlink even dangling) is at `path`. */
function occupied(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where file outputs may be written: under RECORDINGS_DIR, and under each OUTPUT_DIRS folder
 * (absolute paths only). A relative path is taken under RECORDINGS_DIR; an absolute one must lie
 * inside one of these folders; neither may leave its folder through `..` (refused by the schema)
 * or a symlink (checked on the real path of the deepest existing folder, at the request and
 * again before each start). Network URLs pass through (their scheme is checked by the schema).
 */
export class OutputPolicy {
  /** RECORDINGS_DIR, absolute. */
  readonly recordingsDir: string;
  /** RECORDINGS_DIR and the OUTPUT_DIRS folders, absolute. */
  readonly roots: readonly string[];

  /**
   * @param recordingsDir RECORDINGS_DIR (relative to the working directory, or absolute)
   * @param outputDirs OUTPUT_DIRS: further folders absolute file outputs may be written under
   */
  constructor(recordingsDir: string, outputDirs: readonly string[] = []) {
    this.recordingsDir = resolve(recordingsDir);
    this.roots = [this.recordingsDir, ...outputDirs.map((d) => resolve(d))];
  }

  /**
   * The absolute path a file output goes to, after checking that it may be written there.
   * @throws AppError SM_ERR_VALIDATION for a malformed path; SM_ERR_OUTPUT_URL for a path outside
   *   RECORDINGS_DIR and OUTPUT_DIRS, or one that leads out of them through a symlink
   */
  filePath(url: string): string {
    const problem = mainOutputUrlProblem(url);
    if (problem || schemeOf(url) !== null) throw new AppError('SM_ERR_VALIDATION', `Invalid output url: ${problem ?? 'not a file path'}`);
    const path = resolve(this.recordingsDir, url);
    const root = this.roots.find((r) => within(r, path));
    if (!root) {
      throw new AppError(
        'SM_ERR_OUTPUT_URL',
        `File outputs are written under RECORDINGS_DIR${this.roots.length > 1 ? ' or an OUTPUT_DIRS folder' : ''}; "${url}" is outside`,
      );
    }
    this.#assertReal(root, path, url);
    return path;
  }

  /**
   * Checks an output URL (or null: the default recording) as a request gives it.
   * @throws AppError as {@link filePath}
   */
  check(url: string | null): void {
    if (url !== null && !isNetworkUrl(url)) this.filePath(url);
  }

  /**
   * Makes the folders of a file output and claims a fresh file for it (created empty with
   * O_EXCL, so a symlink planted at the name is never followed), checking again that no symlink
   * leads out of its folder. A name that is taken becomes `name-1.ext`, `name-2.ext`...
   * @returns the absolute path of the claimed file
   * @throws AppError SM_ERR_OUTPUT_URL as {@link filePath}; Error from mkdir/open (disk full...)
   */
  claim(url: string): string {
    const path = this.filePath(url);
    const root = this.roots.find((r) => within(r, path))!;
    mkdirSync(dirname(path), { recursive: true });
    this.#assertReal(root, path, url);
    const dot = path.lastIndexOf('.');
    for (let n = 0; ; n++) {
      const candidate = n === 0 ? path : `${path.slice(0, dot)}-${n}${path.slice(dot)}`;
      if (occupied(candidate)) continue;
      try {
        closeSync(openSync(candidate, 'wx'));
        return candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /**
   * The output an encoder writes to: a network URL as is, else a claimed file (see {@link claim}):
   * the configured path, or `<RECORDINGS_DIR>/stream-<ISO time>.mp4` when none is set.
   * @param now time used in the recording name (ms since epoch)
   * @throws AppError as {@link claim}
   */
  resolveOutput(url: string | null, now = Date.now()): string {
    if (url && isNetworkUrl(url)) return url;
    return this.claim(url ?? `stream-${new Date(now).toISOString().replace(/[:.]/g, '-')}.mp4`);
  }

  #assertReal(root: string, path: string, url: string): void {
    const realRoot = realAncestor(root);
    const real = realAncestor(dirname(path));
    if (!within(realRoot, real)) throw new AppError('SM_ERR_OUTPUT_URL', `"${url}" leads out of its output folder through a symlink`);
  }
}

/**
 * Sets aside a stored main output that may not be written (a file outside RECORDINGS_DIR and
 * OUTPUT_DIRS, stored by an older version or edited in the store): the config's `output.url`
 * becomes null (the stream records under RECORDINGS_DIR) and one error is logged. Nothing is
 * spawned for the refused path.
 * @returns true when the stored output was set aside
 */
export function confineStoredOutput(
  state: { config: StreamConfig; setConfig(config: StreamConfig): unknown },
  paths: OutputPolicy,
  log: Logger,
): boolean {
  try {
    paths.check(state.config.output.url);
    return false;
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'stored output url is not allowed; recording under RECORDINGS_DIR instead');
    state.setConfig({ ...state.config, output: { url: null } });
    return true;
  }
}
