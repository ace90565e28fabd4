import { Agent, request } from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { startServer, type TestServer } from './helpers/server.js';

// ~15,000 bodies with a state check around each. The check reads the server's state in process
// (a refused body costs one request, not six): ~35 s on the 2-core CI machine.
t.setTimeout(360_000);

/** Bodies per route (the acceptance asks for 1000). */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1000);

/** Anything JSON can say, biased towards the shapes our schemas look at so validation goes deep. */
const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(-1e308, 1e308, -0, 0.5, '', '#fff', 'red', 'assets/x.png', '../../etc/passwd'),
);
const loose = fc.oneof(value, fc.array(value, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }));
const transform = fc.record({ x: loose, y: loose, width: loose, height: loose, scale: loose, rotation: loose }, { requiredKeys: [] });
const content = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom('color', 'image', 'text', 'character', 'video', ''),
      color: loose,
      src: loose,
      content: loose,
      style: fc.oneof(loose, fc.record({ font: loose, fontSize: loose, color: loose }, { requiredKeys: [] })),
      modelUrl: loose,
    },
    { requiredKeys: [] },
  ),
  loose,
);
const easing = fc.oneof(
  loose,
  fc.constantFrom('linear', 'ease', 'ease-in-out-elastic', 'cubic-bezier(0,0,1,1)', 'cubic-bezier(2,0,1,1)', 'cubic-bezier(0.1,-5,0.9,9)'),
);
const tween = fc.oneof(
  loose,
  fc.record(
    {
      durationMs: loose,
      easing,
      delayMs: loose,
      type: fc.constantFrom('fade', 'slide', 'cut', 'wipe'),
      edge: fc.constantFrom('left', 'top', 'up'),
    },
    { requiredKeys: [] },
  ),
);
const layerish = fc.record(
  {
    id: fc.oneof(loose, fc.string({ maxLength: 70 })),
    name: loose,
    visible: loose,
    opacity: loose,
    zIndex: loose,
    transform: fc.oneof(transform, loose),
    content,
    transition: tween,
    transitions: fc.oneof(loose, fc.record({ show: tween, hide: tween }, { requiredKeys: [] })),
    extra: loose,
  },
  { requiredKeys: [] },
);
const configish = fc.record(
  {
    width: loose,
    height: loose,
    targetFPS: loose,
    background: loose,
    encoder: fc.oneof(
      loose,
      fc.record({ preset: loose, bitrateKbps: loose, keyframeIntervalSeconds: loose, audio: loose }, { requiredKeys: [] }),
    ),
    output: fc.oneof(loose, fc.record({ url: loose }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const outputish = fc.record(
  {
    id: fc.oneof(loose, fc.constantFrom('o1', 'o2', 'main', 'x y')),
    kind: fc.oneof(loose, fc.constantFrom('rtmp', 'srt', 'file', 'hls', 'ndi')),
    url: fc.oneof(loose, fc.constantFrom('rtmp://h/app/key', 'srt://h:9000', 'take.mp4', '../x.mp4', 'rtmp://h')),
    enabled: loose,
    encoder: fc.oneof(loose, fc.record({ bitrateKbps: loose, preset: loose, audio: loose }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);
const sceneish = fc.record(
  { version: loose, canvas: fc.oneof(loose, configish), layers: fc.oneof(loose, fc.array(layerish, { maxLength: 3 })) },
  { requiredKeys: [] },
);

/** Deepest JSON nesting the server accepts (shared/json-depth.ts). */
const MAX_DEPTH = 64;

/**
 * Deeply nested JSON: arrays or objects `depth` levels deep (65 to 20 000, past the limit), bare
 * or put where the route looks (at a random key of a body of the route's shape). Built as text.
 */
const deep = (shape: fc.Arbitrary<unknown>): fc.Arbitrary<{ text: string; type: string; deep: true }> =>
  fc
    .record({
      depth: fc.oneof(fc.integer({ min: MAX_DEPTH + 1, max: 200 }), fc.integer({ min: 200, max: 20_000 })),
      kind: fc.constantFrom('[', '{"a":', '{"content":'),
      key: fc.option(fc.constantFrom('content', 'transform', 'style', 'layers', 'data', 'operations', 'x'), { nil: null }),
      base: shape,
    })
    .map(({ depth, kind, key, base }) => {
      const close = kind === '[' ? ']' : '}';
      const nested = kind.repeat(depth) + '0' + close.repeat(depth);
      if (key === null || typeof base !== 'object' || base === null || Array.isArray(base))
        return { text: nested, type: 'application/json', deep: true as const };
      const text = JSON.stringify({ ...base, [key]: '__DEEP__' }).replace('"__DEEP__"', nested);
      return { text, type: 'application/json', deep: true as const };
    });

/** A request body: structured JSON, any JSON, bytes that are not JSON at all, or JSON nested too deep. */
const body = (shape: fc.Arbitrary<unknown>): fc.Arbitrary<{ text: string; type: string; deep?: true }> =>
  fc.oneof(
    { weight: 6, arbitrary: shape.map((v) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json' })) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text, type: 'application/json' })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text, type: 'application/json' })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text, type: 'text/plain' })) },
    { weight: 1, arbitrary: deep(shape) },
  );

const ROUTES: {
  name: string;
  method: string;
  path: fc.Arbitrary<string>;
  body: fc.Arbitrary<{ text: string; type: string; deep?: true }>;
}[] = [
  { name: 'POST /layers', method: 'POST', path: fc.constant('/stream/layers'), body: body(layerish) },
  { name: 'PUT /layers/:id', method: 'PUT', path: fc.constantFrom('/stream/layers/a', '/stream/layers/b'), body: body(layerish) },
  {
    name: 'PATCH /layers/:id',
    method: 'PATCH',
    path: fc.constantFrom('/stream/layers/a', '/stream/layers/b', '/api/stream/layers/a'),
    body: body(layerish),
  },
  {
    name: 'PATCH /layers/:id/visibility',
    method: 'PATCH',
    path: fc.constantFrom('/stream/layers/a/visibility', '/stream/layers/zz/visibility'),
    body: body(fc.record({ visible: loose }, { requiredKeys: [] })),
  },
  {
    name: 'POST /layers/:id/visibility',
    method: 'POST',
    path: fc.constant('/stream/layers/b/visibility'),
    body: body(fc.record({ visible: loose }, { requiredKeys: [] })),
  },
  { name: 'PATCH /config', method: 'PATCH', path: fc.constant('/stream/config'), body: body(configish) },
  { name: 'PUT /scene', method: 'PUT', path: fc.constant('/stream/scene'), body: body(sceneish) },
  { name: 'POST /outputs', method: 'POST', path: fc.constant('/stream/outputs'), body: body(outputish) },
  {
    name: 'PATCH /outputs/:id',
    method: 'PATCH',
    path: fc.constantFrom('/stream/outputs/o1', '/stream/outputs/main', '/stream/outputs/nope'),
    body: body(outputish),
  },
  {
    name: 'PATCH /layers/:id/visibility + transition',
    method: 'PATCH',
    path: fc.constant('/stream/layers/a/visibility'),
    body: body(fc.record({ visible: loose, transition: tween }, { requiredKeys: [] })),
  },
  {
    name: 'POST /layers/:id/animation',
    method: 'POST',
    path: fc.constantFrom('/stream/layers/host/animation', '/stream/layers/a/animation'),
    body: body(fc.record({ name: fc.oneof(loose, fc.constantFrom('idle', 'talking')), durationMs: loose }, { requiredKeys: [] })),
  },
  {
    name: 'POST /chat',
    method: 'POST',
    path: fc.constant('/stream/chat'),
    body: body(
      fc.record(
        { user: fc.oneof(loose, fc.string({ maxLength: 40 })), text: fc.oneof(loose, fc.string({ maxLength: 300 })) },
        { requiredKeys: [] },
      ),
    ),
  },
  {
    name: 'PUT /scenes/:name',
    method: 'PUT',
    path: fc.constantFrom('/stream/scenes/s1', '/stream/scenes/bad%20name', '/stream/scenes/saved'),
    body: body(fc.record({ layers: fc.oneof(loose, fc.array(layerish, { maxLength: 3 })) }, { requiredKeys: [] })),
  },
  {
    name: 'POST /scenes/:name/activate',
    method: 'POST',
    path: fc.constantFrom('/stream/scenes/saved/activate', '/stream/scenes/nope/activate'),
    body: body(
      fc.record({ transition: fc.oneof(loose, fc.constantFrom('cut', 'crossfade')), durationMs: loose, easing }, { requiredKeys: [] }),
    ),
  },
  {
    name: 'DELETE /layers/:id',
    method: 'DELETE',
    path: fc.string({ maxLength: 12 }).map((id) => `/stream/layers/${encodeURIComponent(id)}`),
    body: body(loose),
  },
];

/** One keep-alive connection for the fuzzed requests: node:http costs a fraction of fetch's CPU per request. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Sends `text` as `type` and resolves with the status and the answer's text. */
function send(base: string, method: string, path: string, type: string, text: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      { method, agent, headers: { 'content-type': type, 'content-length': Buffer.byteLength(text) } },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (answer += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: answer }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** What must not change when a request is refused. */
async function snapshot(s: TestServer): Promise<{ scene: unknown; config: unknown; outputs: unknown; saved: unknown }> {
  const [scene, config, outputs, saved] = await Promise.all([
    s.call('GET', '/stream/scene'),
    s.call('GET', '/stream/config'),
    s.call('GET', '/stream/outputs'),
    s.call('GET', '/stream/scenes/saved'),
  ]);
  // The version may move (a restore after an accepted body bumps it); the content may not.
  return {
    scene: { canvas: scene.body.canvas, layers: scene.body.layers },
    config: config.body,
    outputs: outputs.body.outputs,
    saved: saved.body,
  };
}

/**
 * The same as {@link snapshot}, read from the server's objects in this process: what the GET
 * routes answer from, without four requests per body. The test starts and ends with the HTTP one.
 */
function stateNow(s: TestServer): string {
  const { state, pipeline, scenes } = s.app;
  const doc = state.sceneDocument();
  let saved: unknown;
  try {
    saved = scenes.get('saved');
  } catch (err) {
    saved = String(err);
  }
  return JSON.stringify({ canvas: doc.canvas, layers: doc.layers, config: state.config, outputs: pipeline.hub.list(), saved });
}

/** The latest chat message (chat is not state: checked on its own). */
function lastChat(s: TestServer): string {
  return JSON.stringify(s.app.chat.recent(1));
}

/** Puts the outputs back as `original` had them: removes new ones, re-creates changed ones. */
async function restoreOutputs(s: TestServer, original: { id: string }[]): Promise<void> {
  const now = (await s.call('GET', '/stream/outputs')).body.outputs as { id: string }[];
  const keep = new Map(original.map((o) => [o.id, JSON.stringify(o)]));
  for (const o of now) {
    if (o.id === 'main' || keep.get(o.id) === JSON.stringify(o)) continue;
    await s.call('DELETE', `/stream/outputs/${o.id}`);
  }
  if (!(await s.call('GET', '/stream/outputs/o1')).body.id) await s.call('POST', '/stream/outputs', O1);
}

const O1 = { id: 'o1', kind: 'file', url: 'fuzz/o1.mp4', enabled: false };

t.test('1000 random bodies per mutating route: never a 5xx, nothing changed by a refusal', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  t.teardown(() => agent.destroy());
  await s.call('POST', '/stream/layers', {
    id: 'a',
    content: { type: 'color', color: '#ff0000' },
    transform: { x: 0, y: 0, width: 20, height: 20 },
  });
  await s.call('POST', '/stream/layers', {
    id: 'b',
    content: { type: 'text', content: 'Current Bid: 1.5 ETH', style: { font: 'Arial', fontSize: 12, color: '#fff' } },
  });
  await s.call('POST', '/stream/outputs', O1);
  await s.call('POST', '/stream/layers', {
    id: 'host',
    transform: { x: 0, y: 0, width: 40 },
    content: { type: 'character', modelUrl: 'assets/characters/auctioneer.png', animations: { idle: 'idle', talking: 'talking' } },
  });
  await s.call('PUT', '/stream/scenes/saved', {});
  const original = await snapshot(s);
  const originalState = stateNow(s);
  const originalScene = (await s.call('GET', '/stream/scene')).body;

  for (const route of ROUTES) {
    const started = performance.now();
    let accepted = 0;
    let refused = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(route.path, route.body, async (path, b) => {
        const chatBefore = lastChat(s);
        const res = await send(s.base, route.method, path, b.type, b.text);
        const answer = res.text;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const shown = b.text.length > 300 ? `${b.text.slice(0, 300)}... (${b.text.length} chars)` : b.text;
        if (res.status >= 500) throw new Error(`${route.method} ${path} ${shown} -> ${res.status}`);
        if (b.deep && (res.status !== 400 || !answer.includes('SM_ERR_VALIDATION')))
          throw new Error(`${route.method} ${path} ${shown}: nested too deep, but ${res.status} ${answer}`);
        if (res.status >= 400) {
          refused++;
          if (stateNow(s) !== originalState)
            throw new Error(`${route.method} ${path} ${shown} was refused (${res.status}) but changed the state`);
          if (lastChat(s) !== chatBefore)
            throw new Error(`${route.method} ${path} ${shown} was refused (${res.status}) but stored a chat message`);
        } else {
          // Accepted: put everything back for the next body.
          accepted++;
          const put = await s.call('PUT', '/stream/scene', { canvas: originalScene.canvas, layers: originalScene.layers });
          const cfg = await s.call('PATCH', '/stream/config', original.config);
          await restoreOutputs(s, original.outputs as { id: string }[]);
          await s.call('DELETE', '/stream/scenes/s1');
          await s.call('PUT', '/stream/scenes/saved', { layers: (original.saved as { layers: unknown[] }).layers });
          if (put.status !== 200 || cfg.status !== 200) throw new Error(`restore failed: ${put.status} ${cfg.status}`);
          if (stateNow(s) !== originalState) throw new Error(`restore after ${route.method} ${path} ${shown} left the state changed`);
        }
      }),
      { numRuns: RUNS },
    );
    t.pass(
      `${route.name}: ${RUNS} bodies, ${refused} refused, ${accepted} accepted, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    t.ok(refused > RUNS / 2, 'most random bodies are refused (the test reaches validation)');
  }
  t.same(await snapshot(s), original, 'the scene and config end as they began');
});
