import t from 'tap';
import { WebSocket } from 'ws';
import { z } from 'zod';
import * as messages from '../shared/ws-messages.js';
import { asyncApiDocument } from '../orchestrator/http/openapi/asyncapi.js';
import { issuesOf, validatorFor, type Json } from './helpers/openapi.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * The WebSocket protocol against its AsyncAPI document (`GET /asyncapi.json`) and the design
 * documents (issue 33, item 5): every message schema of shared/ws-messages.ts is in the document;
 * what real sockets receive on each channel is listed for that channel and validates against the
 * document's schema; the aliases `frame`/`previewFrame` and `streamState` rename `preview` and
 * `stateUpdate` for the sockets that use them (and no others); `metricsUpdate` carries
 * encoderLatency, bufferHealth, cpuUsage and memoryUsage measured for real; a reset zeroes fps.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A socket that keeps every JSON message it gets. */
interface Recorder {
  ws: WebSocket;
  got: Json[];
  /** The next message (from now or already got, after `from`) that passes `test`. */
  until(test: (m: Json) => boolean, what: string, timeoutMs?: number): Promise<Json>;
  send(m: unknown): void;
}

async function record(url: string): Promise<Recorder> {
  const ws = new WebSocket(url);
  const got: Json[] = [];
  ws.on('message', (raw, binary) => {
    if (!binary) got.push(JSON.parse(raw.toString()) as Json);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    got,
    async until(test, what, timeoutMs = 8000) {
      const t0 = Date.now();
      for (;;) {
        const m = got.find(test);
        if (m) return m;
        if (Date.now() - t0 > timeoutMs)
          throw new Error(`no ${what} within ${timeoutMs} ms; got ${[...new Set(got.map((x) => x['type']))].join(',')}`);
        await sleep(20);
      }
    },
    send: (m) => ws.send(JSON.stringify(m)),
  };
}

const wsUrl = (s: TestServer, query: string): string => `${s.base.replace('http', 'ws')}/stream/ws?${query}`;

t.test('every message schema of shared/ws-messages.ts is a message of the AsyncAPI document', async (t) => {
  const doc = asyncApiDocument('test') as Json;
  t.equal(doc['asyncapi'], '3.0.0');
  const documented = new Set(Object.keys(doc['components']['messages']));
  const types: string[] = [];
  for (const [name, value] of Object.entries(messages)) {
    if (!name.endsWith('MessageSchema') || !(value instanceof z.ZodObject)) continue;
    const type = (value.shape as Record<string, z.ZodType>)['type'];
    if (type instanceof z.ZodLiteral) types.push(String(type.value));
  }
  for (const option of messages.ClientMessageSchema.options) types.push(String((option.shape.type as z.ZodLiteral).value));
  t.ok(types.length >= 18, `${types.length} message types found`);
  for (const type of types) t.ok(documented.has(type), `${type} is in the document (orchestrator/http/openapi/asyncapi.ts)`);
  for (const alias of Object.keys(messages.WS_ALIASES)) t.ok(documented.has(alias), `the alias ${alias} is too`);
  for (const channel of messages.WsChannelSchema.options) t.ok(doc['channels'][channel], `channel ${channel}`);
  // Each operation's messages are messages of its channel.
  for (const [id, op] of Object.entries(doc['operations'] as Record<string, Json>)) {
    const channel = (op['channel']['$ref'] as string).split('/').pop()!;
    for (const m of op['messages'] as Json[]) t.ok(m['$ref'].startsWith(`#/channels/${channel}/messages/`), `${id}: ${m['$ref']}`);
  }
});

t.test('real messages on each channel are listed for it and validate against the document; aliases rename', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction', PREVIEW_FPS: '10', PREVIEW_WIDTHS: '96,160,320' });
  t.teardown(() => s.close());
  const doc = (await (await fetch(`${s.base}/asyncapi.json`)).json()) as Json;
  const validate = validatorFor(doc);
  const state = await record(wsUrl(s, 'target=state'));
  const layers = await record(wsUrl(s, 'target=layers'));
  const preview = await record(wsUrl(s, 'target=preview&quality=low'));
  const frame = await record(wsUrl(s, 'target=frame&quality=low'));
  const seeds = await record(wsUrl(s, 'target=streamState'));
  const chat = await record(wsUrl(s, 'target=chat'));
  t.teardown(() => [state, layers, preview, frame, seeds, chat].forEach((r) => r.ws.terminate()));
  for (const r of [state, layers, preview, frame, seeds, chat]) await r.until((m) => m['type'] === 'welcome', 'welcome');

  // Events of every kind.
  await s.call('PATCH', '/stream/layers/overlay', { transform: { x: 10 }, transition: { durationMs: 100 } });
  await s.call('PATCH', '/stream/layers/host/visibility', { visible: false });
  await s.call('PATCH', '/stream/data', { bid: 3 });
  await s.call('POST', '/stream/chat', { user: 'ann', text: 'hi' });
  const spam = (await s.call('POST', '/stream/chat', { user: 'bob', text: 'spam' })).body.id as string;
  t.equal((await s.call('DELETE', `/stream/chat/${spam}`)).status, 204);
  await s.call('POST', '/stream/outputs', { id: 'iso', kind: 'file', url: 'takes/iso.mp4', enabled: false });
  t.equal((await s.call('PUT', '/stream/scenes/doc-scene', {})).status, 200);
  t.equal((await s.call('DELETE', '/stream/scenes/doc-scene')).status, 204);
  state.send({ type: 'ping' });
  state.send({ type: 'nonsense' });
  preview.send({ type: 'quality', quality: 'low' });
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  await state.until((m) => m['type'] === 'metricsUpdate', 'metricsUpdate');
  await state.until((m) => m['type'] === 'animationEnded', 'animationEnded');
  await state.until((m) => m['type'] === 'outputUpdate', 'outputUpdate');
  await preview.until((m) => m['type'] === 'preview', 'preview');
  await frame.until((m) => m['type'] === 'frame', 'frame');
  await chat.until((m) => m['type'] === 'chat', 'chat');
  const removed = await chat.until((m) => m['type'] === 'chatRemoved', 'chatRemoved');
  t.equal(removed['payload']['id'], spam, 'chatRemoved names the deleted message');
  await layers.until((m) => m['type'] === 'dataUpdate', 'dataUpdate');
  // The scene library: saved, then deleted, each the whole list.
  const saved = await state.until((m) => m['type'] === 'scenesUpdate', 'scenesUpdate');
  const names = (m: Json): string[] => (m['payload']['scenes'] as Json[]).map((x) => x['name'] as string);
  t.ok(names(saved).includes('doc-scene'), `scenesUpdate after the save lists it: ${names(saved).join()}`);
  const gone = await state.until((m) => m['type'] === 'scenesUpdate' && !names(m).includes('doc-scene'), 'scenesUpdate, deleted');
  t.ok(gone['payload']['version'] > saved['payload']['version'], 'the delete has a later version');
  await seeds.until((m) => m['type'] === 'streamState' && m['payload']['stream']['isLive'] === true, 'streamState, live');

  /** Checks every message a socket got: listed for its channel(s), valid for the document. */
  const checkAll = (r: Recorder, channel: string): void => {
    const listed = new Set(Object.keys(doc['channels'][channel]['messages']));
    const seen = new Set<string>();
    for (const m of r.got) {
      const type = m['type'] as string;
      seen.add(type);
      t.ok(listed.has(type), `${channel}: ${type} is listed for the channel`);
      const schema = doc['components']['messages'][type]?.['payload'];
      t.ok(schema, `${type} has a schema`);
      if (schema) {
        const issues = issuesOf(validate(schema).safeParse(m));
        if (issues.length) t.fail(`${channel}: a ${type} message does not validate: ${issues.join('; ')}`);
      }
    }
    t.pass(`${channel}: ${r.got.length} messages of ${[...seen].sort().join(', ')}`);
  };
  checkAll(state, 'state');
  checkAll(layers, 'layers');
  checkAll(preview, 'preview');
  checkAll(frame, 'preview');
  checkAll(seeds, 'state');
  checkAll(chat, 'chat');
  const types = (r: Recorder): Set<string> => new Set(r.got.map((m) => m['type'] as string));
  for (const type of [
    'stateUpdate',
    'metricsUpdate',
    'layerUpdate',
    'layerVisibility',
    'dataUpdate',
    'animationEnded',
    'outputUpdate',
    'pong',
    'error',
  ])
    t.ok(types(state).has(type), `state got ${type}`);

  // Aliases: only the sockets that asked get the other names.
  t.notOk(types(frame).has('preview'), 'target=frame: no preview messages, frame instead');
  t.notOk(types(preview).has('frame'), 'target=preview: no frame messages');
  t.notOk(types(seeds).has('stateUpdate'), 'target=streamState: no stateUpdate, streamState instead');
  t.notOk(types(state).has('streamState'), 'target=state: no streamState');
  t.equal(seeds.got[1]!['type'], 'streamState', 'the whole state on connect comes as streamState too');
  t.ok(seeds.got[1]!['payload']['layers'].length > 0, 'with the layers');
  state.send({ type: 'subscribe', channels: ['previewFrame'] });
  const sub = await state.until((m) => m['type'] === 'subscribed' && m['payload']['names'], 'subscribed with names');
  t.same(sub['payload']['names'], { preview: 'previewFrame' }, 'subscribed names the alias');
  t.ok(sub['payload']['channels'].includes('preview'), 'and the channel it stands for');
  await state.until((m) => m['type'] === 'previewFrame', 'previewFrame');
  state.send({ type: 'subscribe', channels: ['preview'] });
  await state.until((m) => m['type'] === 'subscribed' && !m['payload']['names'], 'subscribed without names');
  const n = state.got.length;
  await state.until((m) => state.got.indexOf(m) >= n && m['type'] === 'preview', 'preview again after subscribing by its name');
  state.send({ type: 'unsubscribe', channels: ['frame'] });
  await state.until((m) => m['type'] === 'subscribed' && !m['payload']['channels'].includes('preview'), 'unsubscribed by the alias');
  const refused = await new Promise<number>((resolve) => {
    const w = new WebSocket(wsUrl(s, 'target=frames'));
    w.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    w.on('open', () => (w.close(), resolve(101)));
    w.on('error', () => undefined);
  });
  t.equal(refused, 400, 'an unknown target (not a channel or an alias) is refused: 400');
  await s.call('POST', '/stream/stop');
});

t.test('metricsUpdate: encoderLatency, bufferHealth, cpuUsage, memoryUsage measured; a stopped encoder shows in them', async (t) => {
  const s = await startServer({ FPS: '20', ENCODER_MAX_QUEUED_FRAMES: '4' });
  t.teardown(() => s.close());
  const state = await record(wsUrl(s, 'target=state'));
  t.teardown(() => state.ws.terminate());
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  await sleep(2500);
  const settled = state.got.length;
  const steady = (
    await state.until(
      (m) => state.got.indexOf(m) >= settled && m['type'] === 'metricsUpdate' && m['payload']['fps'] > 5,
      'a metricsUpdate with frames',
    )
  )['payload'];
  t.ok(
    steady.encoderLatency > 0 && steady.encoderLatency < 100,
    `encoderLatency ${steady.encoderLatency} ms: ffmpeg reads a frame soon after it is handed over`,
  );
  t.ok(steady.bufferHealth > 0 && steady.bufferHealth <= 1, `bufferHealth ${steady.bufferHealth}`);
  t.ok(steady.cpuUsage > 0 && steady.cpuUsage < 100 * 64, `cpuUsage ${steady.cpuUsage} % of a core`);
  const rss = process.memoryUsage.rss();
  t.ok(Math.abs(steady.memoryUsage - rss) < rss * 0.5, `memoryUsage ${steady.memoryUsage} bytes is this process's RSS (${rss})`);

  // ffmpeg stopped (SIGSTOP): its queue fills (bufferHealth 0); once it goes on, the frames it
  // had not read show as a long encoderLatency.
  const pid = s.app.pipeline.encoderPid!;
  t.ok(pid > 0, 'the encoder runs');
  process.kill(pid, 'SIGSTOP');
  const mark = state.got.length;
  let full: Json;
  try {
    full = await state.until(
      (m) => state.got.indexOf(m) > mark + 1 && m['type'] === 'metricsUpdate' && m['payload']['bufferHealth'] === 0,
      'bufferHealth 0',
      6000,
    );
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  t.equal(full['payload']['bufferHealth'], 0, 'a stopped encoder: bufferHealth 0 (its queue is full)');
  const resumed = state.got.length;
  // The frames it had not read (handed over a second or more before) count in the next window's mean.
  const late = await state.until(
    (m) => state.got.indexOf(m) >= resumed && m['type'] === 'metricsUpdate' && m['payload']['encoderLatency'] > 100,
    'a long encoderLatency',
  );
  t.ok(
    late['payload']['encoderLatency'] > 100 && late['payload']['encoderLatency'] > 5 * steady.encoderLatency,
    `after it went on: encoderLatency ${late['payload']['encoderLatency']} ms (steady: ${steady.encoderLatency} ms)`,
  );

  // A reset zeroes fps, in its answer, on the socket, and after.
  const reset = await s.call('POST', '/stream/reset');
  t.match(reset.body, { isLive: false, fps: 0, frameCount: 0 });
  const after = state.got.length;
  const update = await state.until(
    (m) => state.got.indexOf(m) >= after - 2 && m['type'] === 'stateUpdate' && m['payload']['stream']['frameCount'] === 0,
    'stateUpdate after reset',
  );
  t.equal(update['payload']['stream']['fps'], 0, 'the stateUpdate after a reset: fps 0');
  await sleep(1200);
  t.equal((await s.call('GET', '/stream/status')).body.fps, 0, 'and still 0 a second later');
});
