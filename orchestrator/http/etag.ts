import type { Context } from 'koa';
import { AppError } from '../../shared/errors.js';
import type { IfMatch } from '../scene/scene-store.js';

/** Sets `ETag: "<version>"` (state versions are the entity tags). */
export function setEtag(ctx: Context, version: number): void {
  ctx.set('ETag', `"${version}"`);
}

/** One entity-tag of a list (RFC 9110 section 8.8.3: `[W/] DQUOTE *etagc DQUOTE`), then OWS and `,` or the end. */
const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"[ \t]*(?:,|$)/y;
/** OWS and empty list elements, which a recipient must accept (RFC 9110 section 5.6.1.2). */
const SEPARATORS = /[ \t,]*/y;

/**
 * Parses an `If-Match` field value that is not `*`: a comma-separated list of entity-tags.
 * @returns the tags, or null when the value is not such a list
 */
export function parseEntityTags(value: string): { weak: boolean; opaque: string }[] | null {
  const tags: { weak: boolean; opaque: string }[] = [];
  let i = 0;
  for (;;) {
    SEPARATORS.lastIndex = i;
    SEPARATORS.exec(value);
    i = SEPARATORS.lastIndex;
    if (i >= value.length) return tags;
    ENTITY_TAG.lastIndex = i;
    const m = ENTITY_TAG.exec(value);
    if (!m) return null;
    tags.push({ weak: m[1] !== undefined, opaque: m[2]! });
    i = ENTITY_TAG.lastIndex;
  }
}

/**
 * The request's `If-Match` precondition (RFC 9110 section 13.1.1): undefined when absent or `*`
 * (the resource exists, so any current version matches), else the versions named by its strong
 * tags: `"17"`, or a list `"17", "18"`. Strong comparison: a weak tag (`W/"17"`) or one that is
 * not a version never matches, so a header of only such tags gives `[]` (412 from the change).
 * @throws AppError SM_ERR_VALIDATION (400) for a value that is not `*` or a list of quoted tags
 *   (e.g. `17` without quotes)
 */
export function ifMatch(ctx: Context): IfMatch | undefined {
  const raw = ctx.get('If-Match').trim();
  if (!raw || raw === '*') return undefined;
  const tags = parseEntityTags(raw);
  if (!tags) {
    throw new AppError(
      'SM_ERR_VALIDATION',
      `If-Match must be * or a list of quoted entity tags such as "17", got ${JSON.stringify(raw.slice(0, 80))}`,
      [{ path: 'If-Match', message: 'Expected * or "<etag>"[, "<etag>"...]' }],
    );
  }
  return tags.filter((t) => !t.weak && /^\d{1,15}$/.test(t.opaque)).map((t) => Number(t.opaque));
}
