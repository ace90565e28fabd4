import { InvalidArgumentError } from 'commander';
import type { DataValue } from '../shared/data-binding.js';
import { UsageError } from './errors.js';

/**
 * Parsers of the command line's values: numbers, booleans, JSON objects (option parsers: they
 * throw commander's InvalidArgumentError, which commander reports) and `key=value` data (parsed
 * by its command: a UsageError). Both are usage errors, exit code 2, naming what was wanted.
 */

/** A finite number (`--x 12.5`, `--opacity 0.4`). */
export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`Expected a number, got ${JSON.stringify(value)}.`);
  return n;
}

/** A whole number of milliseconds, 0 or more (`--crossfade 800`). */
export function milliseconds(value: string): number {
  const n = number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`Expected whole milliseconds (0 or more), got ${JSON.stringify(value)}.`);
  return n;
}

/** `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`). */
export function boolean(value: string): boolean {
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InvalidArgumentError(`Expected true or false, got ${JSON.stringify(value)}.`);
}

/** A JSON object (`--json '{"opacity":0.5}'`). */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`Expected a JSON object: ${(err as Error).message}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError('Expected a JSON object ({...}).');
  return parsed as Record<string, unknown>;
}

/**
 * One `key=value` of `data`: the value is a number when it reads as one (`2.0` is 2), `true` or
 * `false` a boolean, `null` removes the key, a JSON string (`"2.0"`, with its quotes) a string, and
 * anything else the text as it is.
 * @throws UsageError without `=` or with an empty key
 */
export function dataPair(pair: string): [string, DataValue | null] {
  const i = pair.indexOf('=');
  if (i <= 0) throw new UsageError(`Expected key=value, got ${JSON.stringify(pair)}`);
  const key = pair.slice(0, i);
  const raw = pair.slice(i + 1);
  if (raw === 'null') return [key, null];
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return [key, Number(raw)];
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    try {
      return [key, JSON.parse(raw) as string];
    } catch {
      // Not a JSON string: the text as it is.
    }
  }
  return [key, raw];
}
