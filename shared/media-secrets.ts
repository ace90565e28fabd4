import { isLiveSrc } from './media.js';
import { redactUrl } from './outputs.js';

/** A plain JSON object or array (not a Buffer, stream or class instance), the only values walked. */
function isPlain(v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true;
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * `value` as a caller without the admin role may see it: every video or audio content in it (an
 * object with `type: "video"` or `"audio"` and a string `src`, at any depth: a layer, a scene's layers, a batch
 * answer, a WS message) whose `src` is a live URL has it redacted with shared/outputs.ts
 * `redactUrl` (an RTMP stream key, user info, query values and fragment become `***`), as output
 * URLs are. Asset ids and `assets/` paths are kept. Values are copied only where something
 * changes; anything that is not a plain object or array (a Buffer, a stream) is returned as is.
 */
export function redactMediaSecrets<T>(value: T): T {
  return walk(value, 0) as T;
}

/** Deeper than any valid document (shared/json-depth.ts limits requests far below this). */
const MAX_DEPTH = 64;

function walk(value: unknown, depth: number): unknown {
  if (!isPlain(value) || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    value.forEach((item, i) => {
      const next = walk(item, depth + 1);
      if (next !== item) (out ??= [...value])[i] = next;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | null = null;
  if ((value['type'] === 'video' || value['type'] === 'audio') && typeof value['src'] === 'string' && isLiveSrc(value['src'])) {
    const src = redactUrl(value['src']);
    if (src !== value['src']) out = { ...value, src };
  }
  for (const [k, item] of Object.entries(value)) {
    const next = walk(item, depth + 1);
    if (next !== item) (out ??= { ...value })[k] = next;
  }
  return out ?? value;
}
