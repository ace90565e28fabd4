import t from 'tap';
import { openApiDocument } from '../orchestrator/http/openapi/document.js';
import { cli } from './helpers/cli.js';
import { findOperation, issuesOf, responseSchema, validatorFor, type Json } from './helpers/openapi.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * The `stream-manager` CLI, run as its built binary (dist/cli/main.js, a child process) against a
 * real server: `--json` output equal to the API's answers (and valid against the OpenAPI
 * document), each command's effect on the server's state (and, for a patch, on the composited
 * frame). Exit codes: test/cli-exit-codes.test.ts; `watch`: test/cli-watch.test.ts.
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
  const machine = await cli(['patch', 'overlay', '--json', '{"zIndex":21}', '--output', 'json'], env);
  t.equal(machine.code, 0);
  t.equal(JSON.parse(machine.stdout).zIndex, 21, 'patch --json <patch> --output json: the answer as JSON');
  const overlay = (await s.call('GET', '/stream/layers/overlay')).body;
  t.equal(overlay.content.content, 'Sold!');
  t.equal(overlay.opacity, 0.5);

  // Text from the server cannot drive the terminal: control characters come out escaped.
  await s.call('POST', '/stream/layers', {
    id: 'esc',
    content: { type: 'text', content: 'x\u001b[2Jy', style: { fontSize: 10, color: '#fff' } },
  });
  const listed = await cli(['layers'], env);
  t.notOk(listed.stdout.includes('\u001b'), 'no raw ESC in human output');
  t.match(listed.stdout, /x\\u001b\[2Jy/, 'it is shown escaped');
  t.match((await cli(['layer', 'esc', '--json'], env)).stdout, /\\u001b/, '--json escapes it as JSON does');

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
