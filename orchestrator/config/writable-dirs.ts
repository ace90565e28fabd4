/**
 * The folders the server writes (state, recordings, uploads), checked before anything starts: a
 * folder this user cannot write (a root-owned Docker bind mount, a read-only file system) stops
 * the start with one clear line, instead of a stack trace from deep inside the first write.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ErrorCode } from '../../shared/errors.js';
import type { ServerConfig } from './env.js';

/** A folder named by the configuration cannot be created or written by this process. */
export class DirNotWritableError extends Error {
  readonly code = 'SM_ERR_DIR_NOT_WRITABLE' satisfies ErrorCode;
  /**
   * @param setting the variable that names the folder (`DATA_DIR`, `RECORDINGS_DIR`, `ASSET_STORAGE_PATH`)
   * @param dir     the folder, absolute
   * @param reason  the system's code: `EACCES`, `EPERM`, `EROFS`, `ENOTDIR`, `ENOSPC`, ...
   */
  constructor(
    readonly setting: string,
    readonly dir: string,
    readonly reason: string,
  ) {
    const uid = process.getuid?.();
    const who = uid === undefined ? 'this user' : `uid ${uid}`;
    super(
      `${setting} ${dir} is not writable by ${who} (${reason}): make it writable by that user ` +
        `(Docker: a named volume, or chown ${uid ?? '<uid>'} the bind-mounted host folder) or set ${setting} to another folder`,
    );
    this.name = 'DirNotWritableError';
  }
}

/** Creates `dir` if needed and writes, then removes, a probe file in it. @throws DirNotWritableError */
function probe(setting: string, dir: string): void {
  const abs = resolve(dir);
  const file = join(abs, `.sm-write-probe-${process.pid}`);
  try {
    mkdirSync(abs, { recursive: true });
    writeFileSync(file, '');
    rmSync(file, { force: true });
  } catch (err) {
    throw new DirNotWritableError(setting, abs, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

/**
 * Checks that every folder the server writes can be written: `RECORDINGS_DIR`,
 * `ASSET_STORAGE_PATH`, and `DATA_DIR` when the state is kept in files; each is created when
 * missing.
 * @throws DirNotWritableError for the first that cannot be
 */
export function checkWritableDirs(config: Pick<ServerConfig, 'recordingsDir' | 'assets' | 'state'>): void {
  if (config.state.store === 'file') probe('DATA_DIR', config.state.dataDir);
  probe('RECORDINGS_DIR', config.recordingsDir);
  probe('ASSET_STORAGE_PATH', config.assets.storagePath);
}
