import { z } from 'zod';

/**
 * Name-keyed collections (saved scenes, data keys, the asset index) as plain JSON objects whose
 * keys are chosen by users. Two traps of plain objects are closed here:
 *
 * - zod 4's `z.record` silently drops a `__proto__` key (it builds its result with `{}` and skips
 *   the key so the assignment cannot replace the prototype), so a scene saved as `__proto__`
 *   vanished on the next load;
 * - a lookup `obj[name]` on an object with a prototype finds `constructor`, `toString`, ...
 *   that nobody saved.
 *
 * {@link ownRecord} keeps every own key of the input, `__proto__` included, and returns an object
 * without a prototype; callers still test membership with `Object.hasOwn` (an object made with a
 * spread, `{...a}`, has `Object.prototype` again).
 */

/** True for `{...}` objects (prototype `Object.prototype` or none), not arrays, class instances or null. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A new object without a prototype: `o[k] = v` makes an own property for every `k`, `__proto__` too. */
export function emptyRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** `record`'s own entry `key`, or undefined: never an inherited `constructor` or `toString`. */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Like `z.record(key, value)` for JSON objects, but every own enumerable key is kept (also
 * `__proto__`, which `JSON.parse` makes an own key) and the result has no prototype. Issues carry
 * the path `[key, ...]` as `z.record`'s do.
 */
export function ownRecord<K extends z.ZodType<string, string>, V extends z.ZodType>(key: K, value: V) {
  return z.custom<Record<string, z.input<V>>>(isPlainObject, { message: 'Expected an object' }).transform((input, ctx) => {
    const out = emptyRecord<z.output<V>>();
    for (const k of Object.keys(input)) {
      const kr = key.safeParse(k);
      if (!kr.success) {
        for (const issue of kr.error.issues)
          ctx.addIssue({ code: 'custom', path: [k], message: `Invalid key "${k.slice(0, 80)}": ${issue.message}` });
        continue;
      }
      const vr = value.safeParse(input[k]);
      if (!vr.success) {
        for (const issue of vr.error.issues) ctx.addIssue({ code: 'custom', path: [k, ...issue.path], message: issue.message });
        continue;
      }
      out[kr.data] = vr.data as z.output<V>;
    }
    return out;
  });
}
