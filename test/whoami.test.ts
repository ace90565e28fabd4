import t from 'tap';
import { WhoAmISchema } from '../shared/responses.js';
import { startServer } from './helpers/server.js';

/**
 * `GET /stream/whoami` (and `/api/stream/whoami`): each caller learns its own role, as the server
 * then enforces it; no token or a wrong one is a 401; with auth off the caller is the local admin.
 */

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

t.test('auth on: each token gets its own role; none or a wrong one, 401', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}` });
  t.teardown(() => s.close());
  for (const [token, role] of [
    [VIEWER, 'viewer'],
    [OPERATOR, 'operator'],
    [ADMIN, 'admin'],
  ] as const) {
    for (const prefix of ['/stream', '/api/stream']) {
      const res = await s.call('GET', `${prefix}/whoami`, undefined, bearer(token));
      t.equal(res.status, 200, `${role} ${prefix}/whoami: 200`);
      t.same(WhoAmISchema.parse(res.body), { role, name: res.body.name, auth: true }, `${role}: ${JSON.stringify(res.body)}`);
      t.match(res.body.name, new RegExp(`^${role}`), 'the name of its own token');
      t.notOk(JSON.stringify(res.body).includes(token.slice(8)), 'the token is not in the answer');
      t.equal(res.headers.get('cache-control'), 'no-store');
    }
  }
  // The role it names is the one the server enforces: a viewer may not start, an operator may
  // not change the config (admin only), an admin may.
  t.equal((await s.call('POST', '/stream/reset', undefined, bearer(VIEWER))).status, 403, 'viewer: reset refused');
  t.equal((await s.call('PATCH', '/stream/config', {}, bearer(OPERATOR))).status, 403, 'operator: config refused');
  t.equal((await s.call('PATCH', '/stream/config', {}, bearer(ADMIN))).status, 200, 'admin: config accepted');
  for (const headers of [{}, bearer('w'.repeat(24)), { authorization: `Basic ${ADMIN}` }]) {
    const res = await s.call('GET', '/stream/whoami', undefined, headers);
    t.equal(res.status, 401, `${JSON.stringify(headers).slice(0, 40)}: 401`);
    t.equal(res.body.error.code, 'SM_ERR_UNAUTHORIZED');
    t.notOk('role' in res.body, 'no role named');
  }
});

t.test('auth off: the local admin', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const res = await s.call('GET', '/stream/whoami');
  t.equal(res.status, 200);
  t.same(res.body, { role: 'admin', name: 'local', auth: false });
  t.equal((await s.call('GET', '/stream/whoami', undefined, bearer('w'.repeat(24)))).body.role, 'admin', 'any token is ignored');
});
