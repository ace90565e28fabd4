import type { Context } from 'koa';
import { AppError } from '../../shared/errors.js';

/** Sets `ETag: "<version>"` (state versions are the entity tags). */
export function setEtag(ctx: Context, version: number): void {
  ctx.set('ETag', `"${version}"`);
}

/**
 * The version in the request's `If-Match` header: undefined when absent or `*` (any current
 * version matches). Accepts `"17"`, `W/"17"` and `17`.
 * @throws AppError SM_ERR_PRECONDITION_FAILED for a tag that is not a version (it can never match)
 */
export function ifMatch(ctx: Context): number | undefined {
  const raw = ctx.get('If-Match').trim();
  if (!raw || raw === '*') return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(raw);
  if (!m) throw new AppError('SM_ERR_PRECONDITION_FAILED', `If-Match "${raw}" is not a version tag`);
  return Number(m[1]);
}
