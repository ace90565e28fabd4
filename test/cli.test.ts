import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import t from 'tap';
import { openApiDocument } from '../orchestrator/http/openapi/document.js';
import { CLI, cli } from './helpers/cli.js';
import { findOperation, issuesOf, responseSchema, validatorFor, type Json } from './helpers/openapi.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * The `stream-manager` CLI, run as its built binary (dist/cli/main.js, a child process) against a
 * real server: `--json` output equal to the API's answers (and valid against the OpenAPI
 * document), each command's effect on the server's state (and, for a patch, on the composited
 * frame), and `watch`. Exit codes: test/cli-exit-codes.test.ts.
 */

t.test('--json prints the API answers; commands change the server as they say', async (t) => {
  const s: TestServer = await startServer({ DEFAULT_SCENE: 'auction', WIDTH: '320', HEIGHT: '180' });
  t.teardown(() => s.close());
  const env = { STREAM_MANAGER_URL: s.base };
  const doc = openApiDocument() as unknown as Json;
  const validate = validatorFor(doc);
  /** Runs `stream-manager --json <args>`, checks exit 0, and that the output is valid for `METHOD path` of the document. */
  const json = async (args: string[], method: string, path: string, status = 200): Promise<any> => {
    const r = await cli(['--json', ...args], env);
    t.equal(r.code, 0, `${args.join(' ')}: exit 0 ${r.stderr}`);
    const body = JSON.parse(r.stdout);
    const schema = responseSchema(findOperation(doc, method, path)!.op, status)!;
    t.same(issuesOf(validate(schema).safeParse(body)), [], `${args.join(' ')}: valid for ${method} ${path}`);
    return body;
  };

  t.same(
    await json(['status'], 'GET', '/stream/status'),
    (await s.call('GET', '/stream/status')).body,
    'status --json is GET /stream/status',
  );
  t.same(
    await json(['layers'], 'GET', '/stream/layers'),
    (await s.call('GET', '/stream/layers')).body,
    'layers --json is GET /stream/layers',
  );
  t.same(await json(['layer', 'overlay'], 'GET', '/stream/layers/overlay'), (await s.call('GET', '/stream/layers/overlay')).body);
  const after = await cli(['status', '--json'], env);
  t.same(JSON.parse(after.stdout), (await s.call('GET', '/stream/status')).body, '--json after the command works too');

  // data bid=2.0: a number, as GET shows it.
  const set = await json(['data', 'bid=2.0', 'lot="12"', 'sold=false'], 'PATCH', '/stream/data');
  t.same((await s.call('GET', '/stream/data')).body, set, 'the answer is the new data');
  t.same(set.data, { bid: 2, lot: '12', sold: false }, 'bid=2.0 is the number 2; a quoted value a string; false a boolean');
  const human = await cli(['data'], env);
  t.match(human.stdout, /^bid=2$/m);
  t.equal((await cli(['data', 'sold=null'], env)).code, 0);
  t.same((await s.call('GET', '/stream/data')).body.data, { bid: 2, lot: '12' }, 'key=null removes it');

  // patch: a red box moved with --x lands where the frame shows it.
  await s.call('POST', '/stream/layers', {
    id: 'box',
    zIndex: 50,
    transform: { x: 0, y: 0, width: 40, height: 40 },
    content: { type: 'color', color: '#ff0000' },
  });
  const before = await s.snapshot();
  t.same(before.at(20, 20).slice(0, 3), [255, 0, 0], 'the box at 0,0 first');
  const patched = await json(['patch', 'box', '--x', '200', '--y', '100', '--opacity', '1'], 'PATCH', '/stream/layers/box');
  t.equal(patched.transform.x, 200);
  t.same((await s.call('GET', '/stream/layers/box')).body.transform, { x: 200, y: 100, width: 40, height: 40 }, 'GET shows the move');
  const frame = await s.snapshot();
  t.same(frame.at(220, 120).slice(0, 3), [255, 0, 0], 'the frame shows the box at 200,100');
  t.notSame(frame.at(20, 20).slice(0, 3), [255, 0, 0], 'and no longer at 0,0');
  const text = await cli(['patch', 'overlay', '--text', 'Sold!', '--json', '{"opacity":0.5}'], env);
  t.equal(text.code, 0);
  t.match(text.stdout, /^overlay: text "Sold!", visible, opacity 0.5/, 'human output names the change');
  const overlay = (await s.call('GET', '/stream/layers/overlay')).body;
  t.equal(overlay.content.content, 'Sold!');
  t.equal(overlay.opacity, 0.5);

  // Scenes, chat, outputs.
  const activated = await json(['scene', 'activate', 'auction', '--crossfade', '50'], 'POST', '/stream/scenes/auction/activate');
  t.equal(activated.transition, 'crossfade');
  t.equal((await s.call('GET', '/stream/scenes')).body.active, 'auction');
  const posted = await json(['chat', 'post', 'ann', 'is', 'the', 'vase', 'sold?'], 'POST', '/stream/chat', 201);
  t.equal(posted.text, 'is the vase sold?');
  t.same(
    (await json(['chat', 'list'], 'GET', '/stream/chat')).messages.map((m: any) => m.id),
    [posted.id],
  );
  const added = await json(
    ['outputs', 'add', 'iso', 'file', 'takes/iso.mp4', '--disabled', '--bitrate', '900'],
    'POST',
    '/stream/outputs',
    201,
  );
  t.same([added.id, added.kind, added.enabled, added.encoder.bitrateKbps], ['iso', 'file', false, 900]);
  t.same(
    (await json(['outputs', 'list'], 'GET', '/stream/outputs')).outputs.map((o: any) => o.id),
    ['main', 'iso'],
  );
  t.equal((await cli(['outputs', 'remove', 'iso'], env)).code, 0);
  t.equal((await s.call('GET', '/stream/outputs/iso')).status, 404, 'outputs remove removed it');
  const openapi = await cli(['openapi', '--json'], env);
  t.same(JSON.parse(openapi.stdout), JSON.parse(JSON.stringify(openApiDocument())), 'openapi prints the document');
});

t.test('watch prints the event stream, one JSON message per line, and ends on ctrl-c', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const child = spawn(process.execPath, [CLI, 'watch', '--channels', 'state,chat', '--url', s.base], { stdio: ['ignore', 'pipe', 'pipe'] });
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
