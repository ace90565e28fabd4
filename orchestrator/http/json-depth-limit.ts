import type { Middleware } from 'koa';
import { AppError } from '../../shared/errors.js';
import { MAX_JSON_DEPTH, deeperThan } from '../../shared/json-depth.js';

/**
 * Refuses a parsed JSON body that nests arrays or objects more than {@link MAX_JSON_DEPTH} levels
 * deep, before any route sees it: validation, merges and clones recurse, and 10 000 levels would
 * overflow the stack (a 500 where a 400 is due). Runs right after the body parser.
 * @throws AppError SM_ERR_VALIDATION (400)
 */
export function jsonDepthLimit(max: number = MAX_JSON_DEPTH): Middleware {
  return async (ctx, next) => {
    const body: unknown = (ctx.request as { body?: unknown }).body;
    if (deeperThan(body, max))
      throw new AppError('SM_ERR_VALIDATION', `The JSON body nests arrays or objects more than ${max} levels deep`, { maxDepth: max });
    await next();
  };
}
