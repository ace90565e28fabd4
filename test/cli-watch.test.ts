import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import t from 'tap';
import { CLI, cli } from './helpers/cli.js';
import { startServer } from './helpers/server.js';
import { childEnv } from './helpers/child-env.js';

/**
 * `stream-manager watch`, the built binary against a real server: the WebSocket's messages as
 * JSON lines (a PATCH shows up as its layerUpdate, a second channel's messages too), ended by
 * ctrl-c with exit 0, or after `--count` messages.
 */

t.test('watch prints the event stream, one JSON message per line, and ends on ctrl-c', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const child = spawn(process.execPath, [CLI, 'watch', '--channels', 'state,chat', '--url', s.base], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(),
  });
  t.teardown(() => child.kill('SIGKILL'));
  const lines: any[] = [];
  const waiters: { test: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line);
    lines.push(m);
    for (const w of waiters.splice(0))
      if (w.test(m)) w.resolve(m);
      else waiters.push(w);
  });
  const next = (test: (m: any) => boolean, what: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const found = lines.find(test);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no ${what} within 10 s; got ${lines.map((l) => l.type).join(',')}`)), 10_000);
      waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  t.equal((await next((m) => m.type === 'welcome', 'welcome')).type, 'welcome');
  await next((m) => m.type === 'subscribed', 'subscribed (chat)');
  await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Watched' } });
  const update = await next((m) => m.type === 'layerUpdate' && m.payload.id === 'overlay', 'layerUpdate');
  t.equal(update.payload.layer.content.content, 'Watched', 'the PATCH as a layerUpdate line');
  await s.call('POST', '/stream/chat', { user: 'bo', text: 'hi' });
  t.equal((await next((m) => m.type === 'chat', 'chat')).payload.text, 'hi', 'the second channel too');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  t.equal(await exited, 0, 'ctrl-c: exit 0');

  const counted = await cli(['watch', '--count', '2', '--url', s.base]);
  t.equal(counted.code, 0);
  t.same(
    counted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).type),
    ['welcome', 'stateUpdate'],
    '--count 2: the first two messages, then exit',
  );
});
