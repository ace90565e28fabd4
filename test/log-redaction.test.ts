import t from 'tap';
import { WebSocket } from 'ws';
import { scrubUrl } from '../orchestrator/redact-url.js';
import { startChild } from './helpers/child-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('scrubUrl', async (t) => {
  t.equal(scrubUrl('/stream/ws?token=abc&target=state'), '/stream/ws?token=[REDACTED]&target=state');
  t.equal(scrubUrl('/x?a=1&TOKEN=abc#frag'), '/x?a=1&TOKEN=[REDACTED]#frag', 'any case');
  t.equal(scrubUrl('/x?to%6Ben=abc'), '/x?to%6Ben=[REDACTED]', 'an encoded name (URLSearchParams decodes it)');
  t.equal(scrubUrl('/x?access_token=abc&token'), '/x?access_token=[REDACTED]&token=[REDACTED]');
  t.equal(scrubUrl('/x?tokens=1&mytoken=2'), '/x?tokens=1&mytoken=2', 'other names untouched');
  t.equal(scrubUrl('/x'), '/x');
  t.equal(scrubUrl(42), 42);
});

t.test('a token in ?token= never reaches the log', async (t) => {
  const ADMIN = 'adminSecret0123456789abcdef';
  const VIEWER = 'viewerSecret0123456789abcd';
  const WRONG = 'wrongGuess0123456789abcdef';
  const s = await startChild({
    STATE_STORE: 'memory',
    AUTOSTART: 'false',
    AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}`,
    LOG_LEVEL: 'debug',
    RATE_LIMIT_MAX: '0',
  });
  t.teardown(() => s.stop('SIGKILL'));
  // HTTP: the query is not a way to authenticate (401), but the URL is logged all the same.
  for (const q of [`token=${ADMIN}`, `TOKEN=${ADMIN}`, `to%6Ben=${ADMIN}`, `a=1&token=${VIEWER}&b=2`, `access_token=${ADMIN}`]) {
    await fetch(`${s.base}/stream/status?${q}`).then((r) => r.arrayBuffer());
    await fetch(`${s.base}/stream/nope?${q}`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.arrayBuffer());
  }
  // WebSocket: accepted, refused for a wrong token, refused for a bad query.
  const url = s.base.replace('http', 'ws');
  for (const q of [`token=${VIEWER}`, `token=${WRONG}`, `token=${VIEWER}&target=nope`, `TOKEN=${WRONG}`]) {
    await new Promise<void>((resolve) => {
      const sock = new WebSocket(`${url}/stream/ws?${q}`);
      sock.once('open', () => (sock.close(), resolve()));
      sock.once('unexpected-response', (_q, res) => (res.resume(), resolve()));
      sock.once('error', () => resolve());
    });
  }
  await sleep(300);
  const out = s.output();
  t.ok(out.includes('"url":"/stream/status?token=[REDACTED]"'), 'request lines carry the scrubbed url');
  t.ok(/"msg":"upgrade refused"/.test(out) && /"msg":"upgrade"/.test(out), 'upgrades are logged (debug)');
  for (const secret of [ADMIN, VIEWER, WRONG])
    t.notOk(out.includes(secret), `${secret.slice(0, 6)}... never appears in ${out.split('\n').length} log lines`);
});
