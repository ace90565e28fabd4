import type { Router } from '@koa/router';
import type { WhoAmI } from '../../shared/responses.js';
import type { TokenSet } from '../auth/tokens.js';
import type { AuthState } from './auth-middleware.js';

/**
 * `GET /whoami` (under the API prefixes): the caller's role and token name, and whether auth is on
 * (`{ role, name, auth }`, shared/responses.ts `WhoAmISchema`). Like every read it needs a viewer
 * token when auth is on (401 without a valid one, before this runs); with auth off the answer is
 * the local admin. It names no other token and no secret.
 */
export function whoamiRoute(router: Router, tokens: TokenSet): void {
  router.get('/whoami', (ctx) => {
    const principal = (ctx.state as AuthState).principal;
    // authorize() let only a caller with a principal through.
    if (!principal) throw new Error('whoami without a principal');
    const body: WhoAmI = { role: principal.role, name: principal.name, auth: tokens.size > 0 };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
}
