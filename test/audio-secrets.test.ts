import t from 'tap';
import { WebSocket } from 'ws';
import { startServer } from './helpers/server.js';

/**
 * An `audio` layer's live URL carries secrets as a video layer's does (an RTMP stream key, user
 * info, a token in the query): only admins see it, in answers and WebSocket messages.
 */

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const OPERATOR = 'o'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const KEY = 'AUDKEY_7f6e5d4c';
const PASSWORD = 'AUDPASS_3b2a1908';
const TOKEN = 'AUDTOK_a1b2c3d4';

t.test('audio sources: only admins see their secrets', async (t) => {
  const s = await startServer({
    AUTH_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER}`,
    WIDTH: '160',
    HEIGHT: '90',
    FPS: '15',
  });
  t.teardown(() => s.close());
  const ws = new WebSocket(`ws://127.0.0.1:${s.app.port}/stream/ws`, { headers: bearer(VIEWER) });
  const messages: string[] = [];
  ws.on('message', (raw) => messages.push(raw.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  t.teardown(() => ws.terminate());
  const src = `rtmp://bob:${PASSWORD}@127.0.0.1:1/live/${KEY}?token=${TOKEN}`;
  const created = await s.call('POST', '/stream/layers', { id: 'voice', content: { type: 'audio', src } }, bearer(OPERATOR));
  t.equal(created.status, 201);
  const leaks = (text: string): string[] => [KEY, PASSWORD, TOKEN].filter((x) => text.includes(x));
  t.same(leaks(JSON.stringify(created.body)), [], 'the operator who added it gets it redacted');
  for (const token of [OPERATOR, VIEWER]) {
    for (const path of ['/stream/layers', '/stream/layers/voice', '/stream/status']) {
      const r = await s.call('GET', path, undefined, bearer(token));
      t.same(leaks(JSON.stringify(r.body)), [], `${token === VIEWER ? 'viewer' : 'operator'} GET ${path} (${r.status}): no secret`);
    }
  }
  t.equal((await s.call('GET', '/stream/layers/voice', undefined, bearer(ADMIN))).body.content.src, src, 'an admin sees the URL as set');
  await new Promise((r) => setTimeout(r, 300));
  t.ok(messages.join('\n').includes('voice'), 'the viewer socket got messages about the layer');
  t.same(leaks(messages.join('\n')), [], 'viewer WS: no secret');
});
