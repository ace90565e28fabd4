import { AppError } from '../../shared/errors.js';
import { MAX_JSON_DEPTH } from '../../shared/json-depth.js';

/** A JSON value as parsed from a request body. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything else
 * replaces. Returns a new value; neither input is mutated. The recursion is bounded on its own
 * (not only by the body parser's depth limit), so no input can overflow the stack.
 * @throws AppError SM_ERR_VALIDATION when `patch` nests objects deeper than {@link MAX_JSON_DEPTH}
 */
export function mergePatch(target: unknown, patch: unknown, depth = 0): unknown {
  if (!isObject(patch)) return patch;
  if (depth >= MAX_JSON_DEPTH) throw new AppError('SM_ERR_VALIDATION', `The patch nests objects more than ${MAX_JSON_DEPTH} levels deep`);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value, depth + 1);
  }
  return out;
}
