import t from 'tap';
import { cli } from './helpers/cli.js';
import { freePort } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';

/**
 * The `stream-manager` CLI's exit codes, one per class of error, with their messages, run as its
 * built binary against a real server (docs/cli.md lists them): 3 auth, 2 usage and validation,
 * 4 not found, 5 conflict, 7 no connection.
 */

const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';

t.test('exit codes and messages: auth, usage, not found, conflict, no connection', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}` });
  t.teardown(() => s.close());
  const env = { STREAM_MANAGER_URL: s.base };

  const wrong = await cli(['status', '--token', 'not-a-token-0123456789'], env);
  t.equal(wrong.code, 3, 'a wrong token: exit 3');
  t.match(wrong.stderr, /401 SM_ERR_UNAUTHORIZED: A valid token is required/, 'and says so');
  t.equal(wrong.stdout, '', 'nothing on stdout');
  t.equal((await cli(['status'], env)).code, 3, 'no token: exit 3');
  const weak = await cli(['start'], { ...env, STREAM_MANAGER_TOKEN: VIEWER });
  t.equal(weak.code, 3, "a viewer's start: exit 3");
  t.match(weak.stderr, /403 SM_ERR_FORBIDDEN: Role "viewer" may not POST/);
  const weakJson = await cli(['start', '--json'], { ...env, STREAM_MANAGER_TOKEN: VIEWER });
  t.equal(JSON.parse(weakJson.stdout).error.code, 'SM_ERR_FORBIDDEN', '--json: the error body on stdout');

  const op = { ...env, STREAM_MANAGER_TOKEN: OPERATOR };
  const notFound = await cli(['layer', 'nope'], op);
  t.equal(notFound.code, 4);
  t.match(notFound.stderr, /404 SM_ERR_LAYER_NOT_FOUND/);
  const conflict = await cli(['stop'], op);
  t.equal(conflict.code, 5, 'stop while stopped: 409, exit 5');
  t.match(conflict.stderr, /SM_ERR_STREAM_NOT_LIVE/);
  const invalid = await cli(['chat', 'post', 'ann', ' '], op);
  t.equal(invalid.code, 2, 'a body the server refuses (400): exit 2');
  t.match(invalid.stderr, /400 SM_ERR_VALIDATION/);
  for (const args of [
    ['patch', 'x'],
    ['data', 'novalue'],
    ['nope'],
    ['patch', 'x', '--opacity', 'lots'],
    ['layer', '..'],
    ['watch', '--channels', 'nope'],
  ]) {
    const r = await cli(args, op);
    t.equal(r.code, 2, `${args.join(' ')}: usage error, exit 2 (${r.stderr.trim().split('\n')[0]})`);
    t.ok(r.stderr.length > 0, 'with a message');
  }
  const take = await cli(['take'], op);
  t.equal(take.code, 5, 'take with an empty preview scene: 409, exit 5');
  t.match(take.stderr, /SM_ERR_PREVIEW_EMPTY/);

  const port = await freePort();
  const refused = await cli(['status', '--url', `http://127.0.0.1:${port}`], op);
  t.equal(refused.code, 7, 'connection refused: exit 7');
  t.match(refused.stderr, /connection refused.*ECONNREFUSED/);
  const watchRefused = await cli(['watch', '--url', `http://127.0.0.1:${port}`], op);
  t.equal(watchRefused.code, 7, 'watch, connection refused: exit 7');
  const bad = await cli(['status', '--url', 'ftp://x'], op);
  t.equal(bad.code, 2, 'a URL that is not http: exit 2');
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Exit codes:[\s\S]*7 {2}no connection/, 'help lists the exit codes');
});
