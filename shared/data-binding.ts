import { z } from 'zod';
import { LIMITS } from './limits.js';
import { ownRecord } from './own-record.js';

/**
 * Live data for text layers (issue: data-bound text). A text layer's `content` may hold
 * placeholders that `PATCH /stream/data` fills in, so a bid updates without re-posting the layer:
 *
 *   `{bid}`      the value as is (`1.7`)
 *   `{bid:.2}`   a number with exactly 2 decimals (`1.70`)
 *   `{bid:,.2}`  the same with thousands separators (`12,345.70`, en-US grouping)
 *   `{bid:,}`    thousands separators, decimals as they are
 *
 * A placeholder whose key has no value stays as written, so a missing value shows instead of
 * silently vanishing. `{{` and `}}` write literal braces.
 */

/**
 * A data key: a letter or `_`, then up to 63 letters, digits or `_`; not `__proto__` (JSON bodies
 * carrying that key are refused by the body parser, so it could never be set).
 */
export const DataKeySchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'Expected a letter or "_" then up to 63 letters, digits or "_"')
  .refine((k) => k !== '__proto__', '"__proto__" is not a data key');

/** A data value: a finite number, a string of up to 256 characters, or a boolean. */
export const DataValueSchema = z.union([z.number().finite(), z.string().max(LIMITS.dataStringChars), z.boolean()]);
export type DataValue = z.infer<typeof DataValueSchema>;

/** The data set: at most `LIMITS.dataKeys` keys (an object without prototype: `constructor` is a key like any other). */
export const DataSetSchema = ownRecord(DataKeySchema, DataValueSchema).refine((d) => Object.keys(d).length <= LIMITS.dataKeys, {
  message: `At most ${LIMITS.dataKeys} keys`,
});
export type DataSet = z.infer<typeof DataSetSchema>;

/** `PATCH /stream/data`: a JSON Merge Patch of the data set (`null` removes a key). */
export const DataPatchSchema = ownRecord(DataKeySchema, DataValueSchema.nullable());

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})(?::(,)?(?:\.(\d{1,2}))?)?\}/g;

/** True when `text` has at least one placeholder. */
export function hasPlaceholders(text: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  for (const m of text.matchAll(PLACEHOLDER)) if (m[1]) return true;
  return false;
}

/** The keys `text` refers to. */
export function placeholderKeys(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].flatMap((m) => (m[1] ? [m[1]] : []));
}

function format(value: DataValue, grouped: boolean, decimals: string | undefined): string {
  if (typeof value !== 'number' || (!grouped && decimals === undefined)) return String(value);
  const digits = decimals === undefined ? undefined : Number(decimals);
  return new Intl.NumberFormat('en-US', {
    useGrouping: grouped,
    ...(digits === undefined ? { maximumFractionDigits: 20 } : { minimumFractionDigits: digits, maximumFractionDigits: digits }),
  }).format(value);
}

/** `text` with its placeholders filled from `data` (see the module comment for the syntax). */
export function fillTemplate(text: string, data: Readonly<Record<string, DataValue>>): string {
  return text.replace(PLACEHOLDER, (whole, key: string | undefined, comma: string | undefined, decimals: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    if (!key || !Object.hasOwn(data, key)) return whole;
    return format(data[key]!, comma === ',', decimals);
  });
}
