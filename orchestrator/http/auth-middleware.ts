import type { Middleware } from 'koa';
import { AppError } from '../../shared/errors.js';
import { BEARER_CHALLENGE, bearerToken } from '../auth/credentials.js';
import { requiredAccess } from '../auth/policy.js';
import { roleAllows, type Principal, type TokenSet } from '../auth/tokens.js';
import type { Metrics } from '../metrics/metrics.js';

/** What {@link authenticate} puts on `ctx.state`. */
export interface AuthState {
  /** The caller, or null when it sent no valid token. With auth off, everyone is `local` admin. */
  principal: Principal | null;
}

/**
 * Finds who is calling from `Authorization: Bearer <token>`; rejects nothing (the rate limiter
 * runs next, keyed by the principal or the IP, so wrong guesses are limited too).
 */
export function authenticate(tokens: TokenSet): Middleware<AuthState> {
  return async (ctx, next) => {
    ctx.state.principal = tokens.authenticate(bearerToken(ctx.get('Authorization') || undefined));
    await next();
  };
}

/**
 * Lets the request on only when its principal may call the route ({@link requiredAccess}).
 * @throws AppError SM_ERR_UNAUTHORIZED (401, with `WWW-Authenticate`) without a valid token;
 *   SM_ERR_FORBIDDEN (403) when the token's role is too weak
 */
export function authorize(tokens: TokenSet, metrics?: Metrics): Middleware<AuthState> {
  const unauthorized = (ctx: { set(k: string, v: string): void }): never => {
    metrics?.authFailures.inc({ transport: 'http' });
    ctx.set('WWW-Authenticate', BEARER_CHALLENGE);
    throw new AppError('SM_ERR_UNAUTHORIZED');
  };
  return async (ctx, next) => {
    const access = requiredAccess(ctx.method, ctx.path);
    const principal = ctx.state.principal;
    if (access === 'metrics') {
      if (!tokens.mayReadMetrics(bearerToken(ctx.get('Authorization') || undefined))) unauthorized(ctx);
    } else if (access !== 'open') {
      if (!principal) return unauthorized(ctx);
      if (!roleAllows(principal.role, access)) {
        throw new AppError('SM_ERR_FORBIDDEN', `Role "${principal.role}" may not ${ctx.method} ${ctx.path}; it needs "${access}"`);
      }
    }
    await next();
  };
}
