import type { Middleware } from 'koa';
import { AppError } from '../../shared/errors.js';
import type { HostPolicy } from '../auth/host-policy.js';
import type { OriginPolicy } from '../auth/origin-policy.js';

/**
 * Refuses, before anything else runs, a request whose `Host` this server does not answer to
 * ({@link HostPolicy}: DNS rebinding), and, while the host check is enforced, one whose `Origin`
 * is neither this server's own nor listed in CORS_ORIGINS (a foreign page's form post or fetch:
 * with auth off every caller is admin).
 * @throws AppError SM_ERR_HOST_FORBIDDEN or SM_ERR_ORIGIN_FORBIDDEN (403)
 */
export function hostCheck(hosts: HostPolicy, origins: OriginPolicy): Middleware {
  return async (ctx, next) => {
    if (hosts.enforced) {
      const host = ctx.get('Host') || undefined;
      if (!hosts.allows(host)) throw new AppError('SM_ERR_HOST_FORBIDDEN');
      const origin = ctx.get('Origin');
      if (origin && !origins.allows(origin, host)) throw new AppError('SM_ERR_ORIGIN_FORBIDDEN');
    }
    await next();
  };
}
