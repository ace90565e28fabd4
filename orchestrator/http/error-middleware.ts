import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';

/**
 * Turns every error into `{ error: { code, message, details? } }` with its status. AppErrors keep
 * their code; a bodiless 405/501 from a router's allowedMethods becomes SM_ERR_METHOD_NOT_ALLOWED /
 * SM_ERR_NOT_IMPLEMENTED (`details.allow`; the `Allow` header kept); a body the parser refused becomes SM_ERR_INVALID_JSON; anything else is a 500
 * SM_ERR_INTERNAL whose body carries no stack or internal message (the log has them).
 */
export function errorMiddleware(fallback: Logger): Middleware<{ log?: Logger }> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('SM_ERR_NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
      }
      // The routers' allowedMethods() set 405/501 and the Allow header but no body (Koa would send
      // the status text as text/plain): the same JSON error shape as every other error.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        const allow = ctx.response.get('Allow');
        const allowed = allow ? allow.split(/,\s*/) : [];
        throw ctx.status === 405
          ? new AppError('SM_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allowed.join(', ')}`, {
              allow: allowed,
            })
          : new AppError('SM_ERR_NOT_IMPLEMENTED', `${ctx.method} is not implemented; allowed on ${ctx.path}: ${allowed.join(', ')}`, {
              allow: allowed,
            });
      }
    } catch (err) {
      let app: AppError;
      if (err instanceof AppError) {
        app = err;
      } else {
        const { status, headers } = err as { status?: unknown; headers?: Record<string, string | number> };
        if (status === 429) {
          // koa-ratelimit's throw: keep its headers; Retry-After is whole seconds, at least 1.
          const retryAfter = Math.max(1, Math.ceil(Number(headers?.['Retry-After'] ?? 1)));
          ctx.set('Retry-After', String(retryAfter));
          app = new AppError('SM_ERR_RATE_LIMITED', `Too many requests; retry in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
        } else if (typeof status === 'number' && status >= 400 && status < 500) {
          const code = status === 413 ? 'SM_ERR_BODY_TOO_LARGE' : status === 404 ? 'SM_ERR_NOT_FOUND' : 'SM_ERR_INVALID_JSON';
          app = new AppError(code, (err as Error).message);
        } else {
          (ctx.state.log ?? fallback).error({ err, method: ctx.method, path: ctx.path }, 'request failed');
          app = new AppError('SM_ERR_INTERNAL');
        }
      }
      ctx.status = app.status;
      ctx.body = app.toJSON();
    }
  };
}
