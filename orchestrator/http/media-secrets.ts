import type { Middleware } from 'koa';
import { redactMediaSecrets } from '../../shared/media-secrets.js';
import { seesSecrets } from '../auth/policy.js';
import type { AuthState } from './auth-middleware.js';

/**
 * Live video sources carry secrets as output URLs do (an RTMP stream key, user info, a token in
 * the query): every JSON answer to a caller without the admin role has each video content's live
 * `src` redacted (shared/media-secrets.ts), whatever the route (layers, scenes, batches).
 */
export function mediaSecrets(): Middleware<AuthState> {
  return async (ctx, next) => {
    await next();
    if (seesSecrets(ctx.state.principal)) return;
    // Assigned only when something was redacted: setting a body (even the same undefined one)
    // marks the answer as having one, and an unmatched route would answer 204 instead of 404.
    const body: unknown = ctx.body;
    const redacted = redactMediaSecrets(body);
    if (redacted !== body) ctx.body = redacted;
  };
}
