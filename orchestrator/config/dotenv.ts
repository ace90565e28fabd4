/**
 * `.env` support: variables from a file in the working directory, for whatever the environment
 * does not set. Parsed by Node's own `util.parseEnv` (the `--env-file` format: `NAME=value`,
 * `#` comments, quotes, `export ` prefixes), which needs Node 20.12 or later.
 */
import { readFileSync } from 'node:fs';
import * as util from 'node:util';
import type { ErrorCode } from '../../shared/errors.js';

/** The file {@link loadEnvFile} read, and the variables it set (names only: values may be secrets). */
export interface EnvFileResult {
  path: string;
  names: string[];
}

/** The env file cannot be read or parsed, or this Node cannot parse it. */
export class EnvFileError extends Error {
  readonly code = 'SM_ERR_ENV_FILE' satisfies ErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvFileError';
  }
}

/**
 * Reads `ENV_FILE` (default `.env`, relative to the working directory; `none`: no file) and sets
 * each variable it names that `env` does not hold yet: a variable already in the environment,
 * even empty, is never overridden.
 * @returns what was read (names sorted), or null when the default `.env` is absent or ENV_FILE is `none`
 * @throws EnvFileError when ENV_FILE names a file that is missing, any env file that cannot be
 *   read (EACCES, a folder) or, on Node older than 20.12, when there is a file to read
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): EnvFileResult | null {
  const chosen = env['ENV_FILE'] || undefined;
  if (chosen === 'none') return null;
  const path = chosen ?? '.env';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && chosen === undefined) return null;
    throw new EnvFileError(`ENV_FILE ${path} cannot be read (${code ?? (err as Error).message})`, { cause: err });
  }
  // util.parseEnv: Node 20.12+ (package.json allows any Node 20).
  const parseEnv = (util as { parseEnv?: (content: string) => NodeJS.Dict<string> }).parseEnv;
  if (typeof parseEnv !== 'function')
    throw new EnvFileError(
      `${path} cannot be read by Node ${process.version} (needs 20.12 or later): upgrade Node, or export its variables`,
    );
  const names: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (value === undefined || Object.hasOwn(env, name)) continue;
    env[name] = value;
    names.push(name);
  }
  return { path, names: names.sort() };
}
