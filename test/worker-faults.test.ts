import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { decode, startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FPS = 30;

async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const escaped = series.replace(/[{}"=.]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** `stream_manager_layer_render_failures_total` of layers of `type` that failed for `reason`, from /metrics. */
async function failures(base: string, type: string, reason: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^stream_manager_layer_render_failures_total\{([^}]*)\} (\S+)$/gm)) {
    if (m[1]!.includes(`type="${type}"`) && m[1]!.includes(`reason="${reason}"`)) n += Number(m[2]);
  }
  return n;
}

/** Pool tasks of every kind (layer renders, composite bands, preview encodes) that ran past their timeout, from /metrics. */
async function timeouts(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^stream_manager_pool_tasks_total\{[^}]*result="timeout"[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

/** Frames delivered per second over `ms`, from `/stream/status`'s frameCount. */
async function measureFps(s: ChildServer, ms: number, during?: () => Promise<void>): Promise<number> {
  const before = (await s.call('GET', '/stream/status')).body.frameCount as number;
  const started = performance.now();
  await Promise.all([sleep(ms), during?.()]);
  const after = (await s.call('GET', '/stream/status')).body.frameCount as number;
  return ((after - before) * 1000) / (performance.now() - started);
}

/** The host's pixels in the snapshot (the default scene puts it at the left, bottom). */
async function hostRegion(s: ChildServer): Promise<Buffer> {
  const png = new Uint8Array(await (await fetch(`${s.base}/stream/snapshot`)).arrayBuffer());
  const img = await decode(png);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .extract({ left: 20, top: 40, width: 100, height: 140 })
    .raw()
    .toBuffer();
}

t.test('a layer that throws and workers that die: the stream keeps its fps', async (t) => {
  const faults = mkdtempSync(join(tmpdir(), 'sm-faults-'));
  const storage = join(faults, 'assets');
  const s = await startChild({
    NODE_OPTIONS: `--require ${resolve('test/fixtures/worker-faults.cjs')}`,
    SM_TEST_FAULT_DIR: faults,
    ASSET_STORAGE_PATH: storage,
    STATE_STORE: 'memory',
    AUTOSTART: 'true',
    DEFAULT_SCENE: 'auction',
    RECORDINGS_DIR: join(faults, 'rec'),
    FPS: String(FPS),
    WORKERS: '2',
    RENDER_TIMEOUT_MS: '500',
    WORKER_MAX_HEAP_MB: '48',
  });
  t.teardown(() => s.stop('SIGKILL'));
  const ws = await connect(`${s.base.replace('http', 'ws')}/stream/ws`);
  t.teardown(() => ws.close());
  await sleep(2000);
  const baseline = await measureFps(s, 3000);
  t.ok(baseline > FPS * 0.9, `baseline ${baseline.toFixed(1)} fps`);

  await t.test('a layer whose render throws keeps its last good pixels', async (t) => {
    // A real PNG, accepted at upload, then broken on disk: every render of it throws in the worker.
    const png = await sharp({ create: { width: 64, height: 64, channels: 4, background: '#00ff00' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('file', new Blob([png]), 'green.png');
    const up = (await (await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form })).json()) as { id: string };
    writeFileSync(join(storage, up.id), 'not a png any more');
    const good = await hostRegion(s);
    const failures0 = await failures(s.base, 'character', 'error');
    const patched = await s.call('PATCH', '/stream/layers/host', { content: { modelUrl: up.id } });
    t.equal(patched.status, 200);
    const fps = await measureFps(s, 4000);
    t.ok(fps > FPS * 0.9, `${fps.toFixed(1)} fps while every render of the host fails (within 10% of ${FPS})`);
    const failed = (await failures(s.base, 'character', 'error')) - failures0;
    // Retried with backoff (250 ms doubling), not every frame: ~5 tries in 4 s, not 120.
    t.ok(failed >= 3 && failed <= 10, `each retry is counted, with backoff, not every frame: ${failed} in 4 s`);
    const kept = await hostRegion(s);
    let same = 0;
    for (let i = 0; i < kept.length; i++) if (Math.abs(kept[i]! - good[i]!) <= 40) same++;
    t.ok(same / kept.length > 0.9, `the host shows its last good pixels (${((same / kept.length) * 100).toFixed(0)}% match), not a hole`);
    const bg = (await decode(new Uint8Array(await (await fetch(`${s.base}/stream/snapshot`)).arrayBuffer()))).at(60, 120);
    t.notSame(bg.slice(0, 3), [0, 255, 0], 'and not the broken picture');
    const first = await ws.next('layerError');
    t.match(first.payload, { id: 'host', failures: 1, reason: 'error' }, 'the failure is surfaced on the WebSocket');
    t.match(first.payload.message, /\S/);
    await t.rejects(ws.next('layerError', 300), 'once, not once per frame');
    const lines = s
      .output()
      .split('\n')
      .filter((l) => l.includes('layer failed to render'));
    t.equal(lines.length, 1, 'and logged once');

    t.equal((await s.call('PATCH', '/stream/layers/host', { content: { modelUrl: 'assets/characters/auctioneer.png' } })).status, 200);
    t.match((await ws.next('layerError')).payload, { id: 'host', message: null, reason: null }, 'recovery is surfaced too');
  });

  await t.test('a worker that calls process.exit(1), hangs or runs out of heap is replaced', async (t) => {
    const restarts0 = await metric(s.base, 'stream_manager_pool_worker_restarts_total');
    const fps = await measureFps(s, 6000, async () => {
      for (let i = 0; i < 3; i++) {
        writeFileSync(join(faults, 'exit'), '');
        await sleep(1500);
      }
    });
    t.ok(fps > FPS * 0.9, `${fps.toFixed(1)} fps while 3 workers exit (within 10% of ${FPS})`);
    t.ok((await metric(s.base, 'stream_manager_pool_worker_restarts_total')) - restarts0 >= 3, 'each exit is replaced and counted');

    // The hang fires in whatever the worker runs next: a layer render, a composite band or a preview encode.
    const timeouts0 = await timeouts(s.base);
    writeFileSync(join(faults, 'hang'), '');
    await sleep(2000);
    t.ok((await timeouts(s.base)) > timeouts0, 'the hung task is aborted by its timeout');
    writeFileSync(join(faults, 'oom'), '');
    await sleep(3000);
    t.ok(
      (await metric(s.base, 'stream_manager_pool_worker_restarts_total')) - restarts0 >= 5,
      'the hung worker and the one over its heap limit are replaced',
    );
    const after = await measureFps(s, 3000);
    t.ok(after > FPS * 0.9, `${after.toFixed(1)} fps afterwards`);
    const st = (await s.call('GET', '/stream/status')).body;
    t.match(st, { isLive: true, error: null });
    t.match(s.output(), /ERR_WORKER_OUT_OF_MEMORY|heap/i, 'the heap-limit death is logged');
  });
});

t.test('a full render queue drops the frame and counts it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-queue-'));
  // One worker and room for one waiting task, shared with preview encoding: three preview
  // qualities of a 4K canvas, every frame (~25 ms an encode), keep the queue full when the next
  // frame's renders are asked for. (A frame's own renders cannot fill it: they go out as one
  // job ring job, which waits only when all of the ring's slots are busy.)
  const s = await startChild({
    STATE_STORE: 'memory',
    AUTOSTART: 'true',
    DEFAULT_SCENE: 'empty',
    RECORDINGS_DIR: join(dir, 'rec'),
    WORKERS: '1',
    RENDER_MAX_QUEUE: '1',
    WIDTH: '3840',
    HEIGHT: '2160',
    PREVIEW_FPS: '30',
  });
  t.teardown(() => s.stop('SIGKILL'));
  for (let i = 0; i < 2; i++) {
    const res = await s.call('POST', '/stream/layers', {
      id: `c${i}`,
      transform: { x: i * 400, y: 0, scale: 0.5 },
      content: {
        type: 'character',
        modelUrl: 'assets/characters/auctioneer.png',
        animations: { idle: 'idle', talking: 'talking' },
        animation: 'talking',
      },
    });
    t.equal(res.status, 201);
  }
  const ws = s.base.replace('http', 'ws');
  const viewers = await Promise.all(['low', 'medium', 'high'].map((q) => connect(`${ws}/stream/ws?target=preview&quality=${q}`)));
  t.teardown(() => viewers.forEach((v) => v.close()));
  const rejected = async (): Promise<number> => {
    const text = await (await fetch(`${s.base}/metrics`)).text();
    return [...text.matchAll(/^stream_manager_pool_tasks_total\{task="[^"]+",result="rejected"\} (\S+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  };
  // Refused while the preview encodes fill the queue: a few frames per second.
  let drops = 0;
  for (let i = 0; i < 60 && drops <= 10; i++) {
    await sleep(100);
    drops = await metric(s.base, 'stream_manager_frames_dropped_total{reason="render_queue_full"}');
  }
  t.ok(drops > 10, `frames dropped for a full queue are counted: ${drops}`);
  const refused = await rejected();
  t.ok(refused >= drops, `the refused tasks are counted: ${refused}`);
  t.equal((await metric(s.base, 'stream_manager_pool_queue_size')) <= 1, true, 'the queue never grows past its limit');
  t.match((await s.call('GET', '/stream/status')).body, { isLive: true, error: null }, 'the stream goes on');
  // The viewers leave: frames flow again.
  viewers.forEach((v) => v.close());
  // Up to two frames are in the making at once, and one resolved before the viewers left may
  // still be refused: wait until three frames made since have come out (frames settle in order).
  await sleep(300);
  const made = await metric(s.base, 'stream_manager_frames_rendered_total');
  for (let i = 0; i < 100 && (await metric(s.base, 'stream_manager_frames_rendered_total')) < made + 3; i++) await sleep(50);
  const before = await metric(s.base, 'stream_manager_frames_dropped_total{reason="render_queue_full"}');
  await sleep(1500);
  t.equal(
    await metric(s.base, 'stream_manager_frames_dropped_total{reason="render_queue_full"}'),
    before,
    'no more drops without previews to encode',
  );
});

t.test("a cold worker's start does not count against the render timeout", async (t) => {
  // 50 ms is ample for a colour layer but not for a thread to load canvas and fonts: the pool
  // warms its threads up before the first render.
  const s = await startServer({ RENDER_TIMEOUT_MS: '50', WORKERS: '2' });
  t.teardown(() => s.close());
  t.equal((await s.call('POST', '/stream/layers', { id: 'red', content: { type: 'color', color: '#ff0000' } })).status, 201);
  t.same((await s.snapshot()).at(10, 10).slice(0, 3), [255, 0, 0], 'the first render is in the first snapshot');
  t.notMatch(
    await (await fetch(`${s.base}/metrics`)).text(),
    /stream_manager_pool_tasks_total\{task="render",result="timeout"\} [1-9]/,
    'no render timed out',
  );
});
