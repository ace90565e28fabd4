/**
 * Layer renders through the job ring (pool/render-ring-codec.ts): real worker threads draw
 * each layer, sent as JSON in shared memory, into the same pixels and report the same result as
 * a drawer on this thread; a layer that throws fails alone with its message; a buffer too small
 * asks to grow; a changed layer is drawn as changed; more renders than fit one slot go as
 * several jobs, and a layer whose JSON is too long for a slot in a buffer of its own; a job past
 * the timeout fails as a timed-out layer render.
 */
import t from 'tap';
import { LayerSchema, type Layer } from '../shared/scene.js';
import type { RenderResult, RenderTask } from '../pool/messages.js';
import { createDrawer } from '../workers/draw.js';
import { Metrics } from '../orchestrator/metrics/metrics.js';
import { WorkerTimeoutError } from '../pool/pool-errors.js';
import { INLINE_LAYER_BYTES } from '../pool/render-ring-codec.js';
import { ringPool } from './helpers/ring-pool.js';

const W = 640;
const H = 360;
const layer = (l: unknown): Layer => LayerSchema.parse(l);
const LAYERS: Layer[] = [
  layer({ id: 'bg', content: { type: 'image', src: 'assets/backgrounds/studio.png' }, transform: { x: 0, y: 0, width: W, height: H } }),
  layer({
    id: 'host',
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation: 'talking',
    },
    transform: { x: 20, y: 40, scale: 0.6 },
  }),
  layer({
    id: 'bid',
    content: {
      type: 'text',
      content: 'Current Bid: 1.5 ETH ✓',
      style: { font: 'Arial', fontSize: 24, color: '#ffffff', background: 'rgba(0,0,0,0.6)' },
    },
    transform: { x: 300, y: 30, rotation: 12 },
  }),
  layer({ id: 'box', content: { type: 'color', color: '#ff000080' }, transform: { x: 10, y: 10, width: 120, height: 60 } }),
];

const task = (l: Layer, timeMs: number, bytes = 4 * W * H): RenderTask => ({
  layer: l,
  canvasWidth: W,
  canvasHeight: H,
  timeMs,
  buffer: new SharedArrayBuffer(bytes),
});

t.test('renders through the ring equal the same renders drawn on this thread', async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 2 }, metrics);
  const here = createDrawer({ assetRoot: '.', assetStorage: './data/assets', imageCacheBytes: 64 << 20 });
  const jobs0 = pool.ring.jobs;
  let compared = 0;
  for (const timeMs of [0, 140, 1010]) {
    const mine = LAYERS.map((l) => task(l, timeMs));
    const theirs = LAYERS.map((l) => task(l, timeMs));
    const expected = await Promise.all(mine.map((m) => here.render(m)));
    // The batch (several workers claim its renders) and a single render.
    const batch = await pool.renderBatch({ tasks: theirs.slice(1) });
    const single = await pool.render(theirs[0]!);
    const got = [single, ...batch.results];
    for (let k = 0; k < LAYERS.length; k++) {
      const e = expected[k]!;
      const g = got[k]!;
      t.match(g, { ...e, runMs: Number }, `${LAYERS[k]!.id} at ${timeMs} ms: the same result`);
      if (e.status !== 'ok') continue;
      const bytes = e.width * e.height * 4;
      t.equal(
        Buffer.compare(Buffer.from(mine[k]!.buffer, 0, bytes), Buffer.from(theirs[k]!.buffer, 0, bytes)),
        0,
        `${LAYERS[k]!.id} at ${timeMs} ms: the same pixels`,
      );
      compared++;
    }
  }
  t.equal(compared, 12, 'every layer drew');
  t.equal(pool.ring.jobs - jobs0, 6, 'every job went through the ring');
  const done = (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
    (v) => v.labels.task === 'render' && v.labels.result === 'completed',
  )?.value;
  t.equal(done, 12, 'each render is counted as a completed render task');
});

t.test('the host animates and a changed layer is drawn changed (no stale layer kept by a worker)', async (t) => {
  const pool = await ringPool(t, { threads: 1 });
  const host = LAYERS[1]!;
  const a = task(host, 0);
  const b = task(host, 180);
  const ra = await pool.render(a);
  const rb = await pool.render(b);
  t.ok(ra.status === 'ok' && rb.status === 'ok', 'both drew');
  const n = ra.status === 'ok' ? ra.width * ra.height * 4 : 0;
  t.not(
    Buffer.compare(Buffer.from(a.buffer, 0, n), Buffer.from(b.buffer, 0, n)),
    0,
    'the same layer object at another time: other pixels (the mouth moved)',
  );
  const red = layer({ id: 'c', content: { type: 'color', color: '#ff0000' }, transform: { width: 4, height: 4 } });
  const blue = { ...red, content: { ...red.content, color: '#0000ff' } } as Layer;
  const r1 = task(red, 0);
  const r2 = task(blue, 0);
  await pool.render(r1);
  await pool.render(r2);
  t.equal(new Uint32Array(r1.buffer)[0], 0xff0000ff, 'red as premultiplied RGBA (little-endian word)');
  t.equal(new Uint32Array(r2.buffer)[0], 0xffff0000, 'then the changed layer in blue');
});

t.test('a layer that throws fails alone; a small buffer asks to grow; a job too big for a slot goes as several', async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 2 }, metrics);
  const missing = layer({ id: 'gone', content: { type: 'image', src: 'assets/backgrounds/nothing-here.png' } });
  const jobs0 = pool.ring.jobs;
  const batch = await pool.renderBatch({ tasks: [task(LAYERS[3]!, 0), task(missing, 0), task(LAYERS[3]!, 0, 16)] });
  t.equal(pool.ring.jobs, jobs0 + 1, 'through the ring');
  t.match(batch.results[0], { status: 'ok', width: 120, height: 60 }, 'the good layer drew');
  t.match(
    batch.results[1],
    { status: 'error', message: /nothing-here/ },
    `the missing picture failed with its message: ${JSON.stringify(batch.results[1])}`,
  );
  t.match(batch.results[2], { status: 'grow', bytes: 120 * 60 * 4 }, 'the 16-byte buffer asks for 120x60x4 bytes');
  await t.rejects(pool.render(task(missing, 0)), /nothing-here/, 'a single render that throws rejects with the message');

  // 65 renders: more than a slot's 64 tasks.
  const many = Array.from({ length: 65 }, (_, i) =>
    task(layer({ id: `c${i}`, content: { type: 'color', color: '#00ff00' }, transform: { width: 2, height: 2 } }), 0, 16),
  );
  const completed = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
      (v) => v.labels.task === 'render' && v.labels.result === 'completed',
    )?.value ?? 0;
  const jobs1 = pool.ring.jobs;
  const done1 = await completed();
  const out = await pool.renderBatch({ tasks: many });
  t.equal(pool.ring.jobs, jobs1 + 2, 'through the ring, as two jobs (64 + 1)');
  t.equal(out.results.filter((r) => r.status === 'ok').length, 65, 'every one drawn');
  t.equal(new Uint32Array(many[64]!.buffer)[3], 0xff00ff00, 'in green');
  t.equal((await completed()) - done1, 65, 'each counted as a completed render');

  // A layer whose JSON is longer than a slot carries inline has a buffer of its own (a long
  // name, past the API's limit, stands in for a chat layer's many lines or a long bound text).
  const long: Layer = { ...LAYERS[3]!, id: 'long', name: 'n'.repeat(2 * INLINE_LAYER_BYTES) };
  t.ok(Buffer.byteLength(JSON.stringify(long)) > INLINE_LAYER_BYTES, 'the layer is longer than a slot carries inline');
  const here = createDrawer({ assetRoot: '.', assetStorage: './data/assets', imageCacheBytes: 64 << 20 });
  const mine = task(long, 0);
  const theirs = task(long, 0);
  const expected = await here.render(mine);
  const got = await pool.renderBatch({ tasks: [task(LAYERS[3]!, 0), theirs] });
  t.match(got.results[1], { ...expected, runMs: Number }, 'drawn through the ring with the same result');
  const bytes = expected.status === 'ok' ? expected.width * expected.height * 4 : 0;
  t.ok(bytes > 0 && Buffer.compare(Buffer.from(mine.buffer, 0, bytes), Buffer.from(theirs.buffer, 0, bytes)) === 0, 'and the same pixels');
});

t.test('a render job past the timeout fails as a timeout of a layer render', async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 1, taskTimeoutMs: 5 }, metrics);
  // The host at 4x on a canvas it fits whole: its picture scaled to ~2800x3700 for the first
  // time, far past 5 ms (on the test's 640x360 canvas only the part in view is drawn, which can
  // be quick enough to beat the timeout).
  const big = layer({ ...LAYERS[1]!, transform: { x: 0, y: 0, scale: 4 } });
  const huge = (bytes: number): RenderTask => ({ ...task(big, 0, bytes), canvasWidth: 4096, canvasHeight: 4096 });
  // Sized first if need be (a 'grow' answer is quick), then drawn.
  let err: unknown = await pool.render(huge(4)).catch((e: unknown) => e);
  if (!(err instanceof Error) && (err as RenderResult).status === 'grow')
    err = await pool.render(huge((err as { bytes: number }).bytes)).catch((e: unknown) => e);
  t.ok(err instanceof WorkerTimeoutError, `a timeout: ${(err as Error).message}`);
  t.match((err as Error).message, /layer render/, 'named as a layer render');
  const timeouts = (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
    (v) => v.labels.task === 'render' && v.labels.result === 'timeout',
  )?.value;
  t.equal(timeouts, 1, 'counted as a timed-out render');
});
