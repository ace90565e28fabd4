/**
 * The job ring (pool/job-ring.ts, pool/job-ring-client.ts): composite bands
 * handed to real worker threads through shared memory give the same pixels as the same bands
 * run on this thread; a band that throws fails its job with the worker's message; a job past
 * the timeout fails as a timeout, its thread is replaced, and the replacement, which joins
 * later, still knows the buffers announced before it started.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import fc from 'fast-check';
import { compositeBand } from '../pixels/composite-band.js';
import type { CompositeTask } from '../pool/messages.js';
import type { CompositeLayer } from '../pixels/compositor.js';
import { i420Bytes } from '../pixels/yuv.js';
import { Metrics } from '../orchestrator/metrics/metrics.js';
import { RING_SPIN_US } from '../pool/render-pool.js';
import { ringPool, sleep, until } from './helpers/ring-pool.js';
import {
  BandFailedError,
  NoWorkerError,
  PoolClosedError,
  RenderQueueFullError,
  WorkerExitError,
  WorkerTimeoutError,
} from '../pool/pool-errors.js';
import { JobRing } from '../pool/job-ring.js';
import { JOB_SLOTS } from '../pool/job-ring-layout.js';

/** A layer buffer of `w`x`h` premultiplied pixels from `seed` (some opaque, some translucent, some clear). */
function layerBuffer(w: number, h: number, seed: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(w * h * 4);
  const px = new Uint32Array(buffer);
  let s = seed * 2654435761;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const a = [0, 128, 255][s % 3]!;
    const c = (v: number): number => Math.round((v * a) / 255);
    px[i] = ((a << 24) | (c((s >>> 8) & 255) << 16) | (c((s >>> 16) & 255) << 8) | c(s >>> 24)) >>> 0;
  }
  return buffer;
}

/** The bands of one frame of `w`x`h`: `bands` equal bands over `layers`, only inside `rects` (null: all). */
function bandTasks(
  frame: SharedArrayBuffer,
  yuv: SharedArrayBuffer | null,
  w: number,
  h: number,
  layers: CompositeLayer[],
  rects: CompositeTask['rects'],
  bands: number,
): CompositeTask[] {
  const tasks: CompositeTask[] = [];
  for (let b = 0; b < bands; b++) {
    const rowStart = Math.round((h * b) / bands / 2) * 2;
    const rowEnd = b === bands - 1 ? h : Math.round((h * (b + 1)) / bands / 2) * 2;
    tasks.push({
      frame,
      width: w,
      height: h,
      rowStart,
      rowEnd,
      rects,
      paint: true,
      background: 0xff403020,
      layers: layers.filter((l) => l.bounds.y < rowEnd && l.bounds.y + l.bounds.height > rowStart),
      yuv,
      matrix: b % 2 ? 'bt709' : 'bt601',
    });
  }
  return tasks;
}

t.test('bands through the ring equal the same bands composited on this thread', async (t) => {
  const pool = await ringPool(t, { threads: 3 });
  const W = 160;
  const H = 120;
  const layerArb = fc.record({
    x: fc.integer({ min: -40, max: 150 }),
    y: fc.integer({ min: -40, max: 110 }),
    w: fc.integer({ min: 1, max: 90 }),
    h: fc.integer({ min: 1, max: 90 }),
    opacity: fc.constantFrom(1, 0.5, 0.2),
    seed: fc.nat(),
  });
  const rectArb = fc
    .record({ x: fc.nat({ max: 70 }), y: fc.nat({ max: 50 }), w: fc.integer({ min: 1, max: 40 }), h: fc.integer({ min: 1, max: 30 }) })
    .map((r) => ({ x0: r.x * 2, y0: r.y * 2, x1: Math.min(W, (r.x + r.w) * 2), y1: Math.min(H, (r.y + r.h) * 2) }));
  const jobArb = fc.record({
    layers: fc.array(layerArb, { minLength: 0, maxLength: 6 }),
    rects: fc.option(fc.array(rectArb, { minLength: 1, maxLength: 5 })),
    bands: fc.integer({ min: 1, max: 5 }),
    yuv: fc.boolean(),
  });
  const jobs0 = pool.ring.jobs;
  let frames = 0;
  await fc.assert(
    // Up to 12 jobs at once: more than the ring's 8 slots, so some wait for a slot.
    fc.asyncProperty(fc.array(jobArb, { minLength: 1, maxLength: 12 }), async (jobs) => {
      const runs = jobs.map((job) => {
        const layers = job.layers.map((l): CompositeLayer => ({
          pixels: new Uint32Array(layerBuffer(l.w, l.h, l.seed)),
          bounds: { x: l.x, y: l.y, width: l.w, height: l.h },
          opacity: l.opacity,
          opaque: false,
        }));
        const mine = { rgba: new SharedArrayBuffer(W * H * 4), yuv: new SharedArrayBuffer(i420Bytes(W, H)) };
        const theirs = { rgba: new SharedArrayBuffer(W * H * 4), yuv: new SharedArrayBuffer(i420Bytes(W, H)) };
        for (const task of bandTasks(mine.rgba, job.yuv ? mine.yuv : null, W, H, layers, job.rects, job.bands)) compositeBand(task);
        return {
          mine,
          theirs,
          done: pool.compositeBands(bandTasks(theirs.rgba, job.yuv ? theirs.yuv : null, W, H, layers, job.rects, job.bands)),
        };
      });
      let same = true;
      for (const run of runs) {
        const results = await run.done;
        if (results.some((r) => !(r.runMs >= 0))) same = false;
        if (Buffer.compare(Buffer.from(run.mine.rgba), Buffer.from(run.theirs.rgba)) !== 0) same = false;
        if (Buffer.compare(Buffer.from(run.mine.yuv), Buffer.from(run.theirs.yuv)) !== 0) same = false;
        frames++;
      }
      return same;
    }),
    { numRuns: 60, seed: 7 },
  );
  t.ok(frames > 200, `${frames} frames: RGBA and I420 equal the bands run on this thread`);
  t.ok(pool.ring.jobs - jobs0 > frames / 2, `${pool.ring.jobs - jobs0} of them went through the ring`);
});

t.test("a band that throws fails its job with the worker's message; the ring goes on", async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 2 }, metrics);
  const frame = new SharedArrayBuffer(64 * 64 * 4);
  // 6 bytes: not whole pixels, so the worker's Uint32Array view of it throws a RangeError.
  const bad: CompositeLayer = {
    pixels: new Uint32Array(new SharedArrayBuffer(6), 0, 1),
    bounds: { x: 0, y: 0, width: 1, height: 1 },
    opacity: 1,
    opaque: false,
  };
  const jobs0 = pool.ring.jobs;
  const err = await pool.compositeBands(bandTasks(frame, null, 64, 64, [bad], null, 2)).catch((e: unknown) => e);
  t.ok(err instanceof BandFailedError, 'the job fails as a failed band');
  t.match((err as Error).message, /RangeError/, `with the worker's message: ${(err as Error).message}`);
  t.equal(pool.ring.jobs, jobs0 + 1, 'it went through the ring');
  const good: CompositeLayer = {
    pixels: new Uint32Array(layerBuffer(8, 8, 1)),
    bounds: { x: 4, y: 4, width: 8, height: 8 },
    opacity: 1,
    opaque: false,
  };
  const results = await pool.compositeBands(bandTasks(frame, null, 64, 64, [good], null, 2));
  t.equal(results.length, 2, 'the next job runs');
  t.equal(new Uint32Array(frame)[0], 0xff403020, 'and paints the background');
  const failed = (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
    (v) => v.labels.task === 'composite' && v.labels.result === 'failed',
  )?.value;
  t.equal(failed, 2, 'both bands of the failed job are counted as failed');
});

t.test('one worker takes every job of a tight back-to-back run, polling or not: no job waits unclaimed for its timeout', async (t) => {
  for (const ringSpinUs of [0, 500]) {
    // A job published just as the worker's drain found nothing left used to be lost until the
    // next job came (here: never, so its timeout) whenever the drain ended in a later microtask.
    const pool = await ringPool(t, { threads: 1, taskTimeoutMs: 1000, ringSpinUs });
    t.equal(pool.ring.init.spinUs, ringSpinUs, `workers poll ${ringSpinUs} µs before they sleep`);
    const frame = new SharedArrayBuffer(32 * 32 * 4);
    const layer: CompositeLayer = {
      pixels: new Uint32Array(layerBuffer(8, 8, 2)),
      bounds: { x: 3, y: 5, width: 8, height: 8 },
      opacity: 0.5,
      opaque: false,
    };
    const tasks = bandTasks(frame, null, 32, 32, [layer], null, 1);
    // Before the fix about 1 job in 10^4 hit the window here: 20000 found it in 4 runs of 5.
    const JOBS = 20_000;
    const jobs0 = pool.ring.jobs;
    const started = performance.now();
    let done = 0;
    let failure: unknown = null;
    for (let i = 0; i < JOBS && failure === null; i++) {
      await pool.compositeBands(tasks).then(
        () => done++,
        (err: unknown) => (failure = err),
      );
    }
    t.equal(failure, null, `no job failed (${done} done in ${(performance.now() - started).toFixed(0)} ms)`);
    t.equal(pool.ring.jobs - jobs0, JOBS, `all ${JOBS} went through the ring`);
    t.equal(new Uint32Array(frame)[0], 0xff403020, 'and the last one painted the frame');
    // Between jobs the polling worker still runs pool tasks (its event loop turns when it sleeps).
    await pool.warmUp();
    await sleep(5);
    t.equal((await pool.compositeBands(tasks)).length, 1, 'a job after a pause and a pool task is taken too');
  }
});

t.test('a job waits for a free slot; with maxQueue jobs waiting, the next is refused at once', async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 1, maxQueue: 2, taskTimeoutMs: 20_000 }, metrics);
  // 1080p, 6 translucent full-frame layers in one band: tens of ms a job on the one worker.
  const W = 1920;
  const H = 1080;
  const big = new SharedArrayBuffer(W * H * 4);
  new Uint32Array(big).fill(0x80402010);
  const layers = Array.from({ length: 6 }, (): CompositeLayer => ({
    pixels: new Uint32Array(big),
    bounds: { x: 0, y: 0, width: W, height: H },
    opacity: 0.7,
    opaque: false,
  }));
  const frames = Array.from({ length: JOB_SLOTS + 2 }, () => new SharedArrayBuffer(W * H * 4));
  const jobs0 = pool.ring.jobs;
  const jobs = frames.map((frame) => pool.compositeBands(bandTasks(frame, null, W, H, layers, null, 1)));
  t.equal(pool.ring.waiting, 2, `the two jobs past the ring's ${JOB_SLOTS} slots wait for one`);
  t.equal(pool.stats().queueSize, 2, 'and are the pool queue');
  const started = performance.now();
  const refused = await pool
    .compositeBands(bandTasks(new SharedArrayBuffer(64 * 64 * 4), null, 64, 64, [], null, 1))
    .catch((e: unknown) => e);
  t.ok(refused instanceof RenderQueueFullError, `the next is refused: ${(refused as Error).message}`);
  t.equal((refused as RenderQueueFullError).code, 'SM_ERR_RENDER_QUEUE_FULL', 'with its code');
  t.ok(performance.now() - started < 100, `at once (${(performance.now() - started).toFixed(1)} ms)`);
  const results = await Promise.all(jobs);
  t.equal(results.length, JOB_SLOTS + 2, 'every job that waited ran');
  t.equal(pool.ring.jobs - jobs0, JOB_SLOTS + 2, 'each through the ring');
  const expected = new SharedArrayBuffer(W * H * 4);
  for (const task of bandTasks(expected, null, W, H, layers, null, 1)) compositeBand(task);
  t.equal(Buffer.compare(Buffer.from(frames.at(-1)!), Buffer.from(expected)), 0, 'the last one to get a slot drew the right pixels');
  t.equal(pool.ring.waiting, 0, 'nothing waits any more');
  const rejected = (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
    (v) => v.labels.task === 'composite' && v.labels.result === 'rejected',
  )?.value;
  t.equal(rejected, 1, 'the refusal is counted');
  t.equal(
    (await pool.compositeBands(bandTasks(new SharedArrayBuffer(64 * 64 * 4), null, 64, 64, [], null, 1))).length,
    1,
    'and work is taken again',
  );
});

t.test('a job of more bands than a slot holds goes as several, in order', async (t) => {
  const pool = await ringPool(t, { threads: 2 });
  const W = 64;
  const H = 4 * 65;
  const layer: CompositeLayer = {
    pixels: new Uint32Array(layerBuffer(W, H, 3)),
    bounds: { x: 0, y: 0, width: W, height: H },
    opacity: 0.5,
    opaque: false,
  };
  const frame = new SharedArrayBuffer(W * H * 4);
  const expected = new SharedArrayBuffer(W * H * 4);
  // 65 bands of 4 rows: one more than a slot's 64.
  const tasks = bandTasks(frame, null, W, H, [layer], null, 65);
  for (const task of bandTasks(expected, null, W, H, [layer], null, 65)) compositeBand(task);
  const jobs0 = pool.ring.jobs;
  const results = await pool.compositeBands(tasks);
  t.equal(results.length, 65, 'a result per band');
  t.equal(pool.ring.jobs - jobs0, 2, 'as two jobs');
  t.equal(Buffer.compare(Buffer.from(frame), Buffer.from(expected)), 0, 'the same pixels as on this thread');
});

t.test('workers poll for jobs only when the machine has a core for the main thread and each of them', async (t) => {
  const cores = availableParallelism();
  const few = await ringPool(t, { threads: 1 });
  t.equal(few.ring.init.spinUs, cores > 1 ? RING_SPIN_US : 0, `1 worker on ${cores} cores`);
  const many = await ringPool(t, { threads: cores });
  t.equal(many.ring.init.spinUs, 0, `${cores} workers on ${cores} cores: they sleep at once`);
});

t.test('a job past the timeout fails as a timeout; the thread is replaced and rejoins knowing every buffer', async (t) => {
  const metrics = new Metrics();
  const pool = await ringPool(t, { threads: 1, taskTimeoutMs: 250 }, metrics);
  // Announced to the first thread only.
  const small = { w: 64, h: 64 };
  const frame = new SharedArrayBuffer(small.w * small.h * 4);
  const layer: CompositeLayer = {
    pixels: new Uint32Array(layerBuffer(32, 32, 2)),
    bounds: { x: 8, y: 8, width: 32, height: 32 },
    opacity: 0.5,
    opaque: false,
  };
  const expected = new SharedArrayBuffer(small.w * small.h * 4);
  for (const task of bandTasks(expected, null, small.w, small.h, [layer], null, 1)) compositeBand(task);
  await pool.compositeBands(bandTasks(frame, null, small.w, small.h, [layer], null, 1));
  t.equal(Buffer.compare(Buffer.from(frame), Buffer.from(expected)), 0, 'a small job runs');

  // 4K, the same translucent full-frame layer 24 times over, in I420 too: seconds of work in one band.
  const W = 3840;
  const H = 2160;
  const big = new SharedArrayBuffer(W * H * 4);
  new Uint32Array(big).fill(0x80402010);
  const layers = Array.from({ length: 24 }, (): CompositeLayer => ({
    pixels: new Uint32Array(big),
    bounds: { x: 0, y: 0, width: W, height: H },
    opacity: 0.7,
    opaque: false,
  }));
  const [oldThread] = pool.piscina.threads.map((w) => w.threadId);
  const started = performance.now();
  const err = await pool
    .compositeBands(bandTasks(new SharedArrayBuffer(W * H * 4), new SharedArrayBuffer(i420Bytes(W, H)), W, H, layers, null, 1))
    .catch((e: unknown) => e);
  const took = performance.now() - started;
  t.ok(err instanceof WorkerTimeoutError, `the job fails as a timeout: ${(err as Error).message}`);
  t.ok(took >= 240 && took < 5000, `after the timeout (${took.toFixed(0)} ms)`);
  const timeouts = (await metrics.registry.getSingleMetric('stream_manager_pool_tasks_total')?.get())?.values.find(
    (v) => v.labels.task === 'composite' && v.labels.result === 'timeout',
  )?.value;
  t.equal(timeouts, 1, 'counted as a timed-out band');

  t.ok(
    await until(() => pool.piscina.threads.length === 1 && pool.piscina.threads[0]!.threadId !== oldThread, 10_000),
    'the stuck thread was terminated and replaced',
  );
  await pool.warmUp();
  t.ok(await until(() => pool.ring.hellos >= 2, 10_000), 'the replacement asked to join');
  const restarts = (await metrics.registry.getSingleMetric('stream_manager_pool_worker_restarts_total')?.get())?.values[0]?.value;
  t.equal(restarts, 1, 'the replacement is counted');
  // The same buffers, not announced again: the replacement learnt them from the join answer.
  new Uint32Array(frame).fill(0);
  const jobs0 = pool.ring.jobs;
  await pool.compositeBands(bandTasks(frame, null, small.w, small.h, [layer], null, 1));
  t.equal(pool.ring.jobs, jobs0 + 1, 'the next job goes through the ring');
  t.equal(
    Buffer.compare(Buffer.from(frame), Buffer.from(expected)),
    0,
    'and draws with the buffers announced before the replacement started',
  );
});

t.test('a thread that exits in a band fails its job at once, not at the timeout', async (t) => {
  const pool = await ringPool(t, { threads: 1, taskTimeoutMs: 20_000 });
  const W = 3840;
  const H = 2160;
  const big = new SharedArrayBuffer(W * H * 4);
  const layers = Array.from({ length: 24 }, (): CompositeLayer => ({
    pixels: new Uint32Array(big),
    bounds: { x: 0, y: 0, width: W, height: H },
    opacity: 0.7,
    opaque: false,
  }));
  const started = performance.now();
  const job = pool.compositeBands(bandTasks(new SharedArrayBuffer(W * H * 4), null, W, H, layers, null, 1)).catch((e: unknown) => e);
  await sleep(100);
  void pool.piscina.threads[0]!.terminate();
  const err = await job;
  const took = performance.now() - started;
  t.ok(err instanceof WorkerExitError, `the job fails as a lost band: ${(err as Error).message}`);
  t.ok(took < 5000, `at once (${took.toFixed(0)} ms), not after the 20 s timeout`);
  t.ok(await until(() => pool.ring.hellos >= 2, 10_000), 'a replacement joined');
  const frame = new SharedArrayBuffer(64 * 64 * 4);
  const results = await pool.compositeBands(bandTasks(frame, null, 64, 64, [], null, 2));
  t.equal(results.length, 2, 'and the ring goes on');
  t.equal(new Uint32Array(frame)[64 * 64 - 1], 0xff403020, 'painting');
});

t.test('buffers collected here are forgotten by the workers', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pool = await ringPool(t, { threads: 1 });
  const frame = new SharedArrayBuffer(64 * 64 * 4);
  const before = pool.ring.buffers;
  // 20 jobs, each with a layer buffer of its own, dropped after its job (as a grown or deleted layer's is).
  for (let i = 0; i < 20; i++)
    await pool.compositeBands(
      bandTasks(
        frame,
        null,
        64,
        64,
        [{ pixels: new Uint32Array(layerBuffer(16, 16, i)), bounds: { x: i, y: i, width: 16, height: 16 }, opacity: 1, opaque: false }],
        null,
        1,
      ),
    );
  t.equal(pool.ring.buffers, before + 21, 'each buffer and the frame were announced once');
  let after = pool.ring.buffers;
  for (let i = 0; i < 50 && after > before + 1; i++) {
    gc();
    await sleep(20);
    after = pool.ring.buffers;
  }
  t.equal(after, before + 1, 'the 20 dropped layer buffers were collected and forgotten; the frame, still held, was not');
  const results = await pool.compositeBands(bandTasks(frame, null, 64, 64, [], null, 1));
  t.equal(results.length, 1, 'the ring goes on');
});

t.test('no worker ever joins: work waiting for a slot fails within the job timeout instead of waiting forever', async (t) => {
  // A ring no thread joins (as when every worker dies while it starts): nothing could take the job.
  const ring = new JobRing({ timeoutMs: 300, threads: () => [] });
  t.teardown(() => ring.close());
  const frame = new SharedArrayBuffer(16 * 16 * 4);
  const layer: CompositeLayer = {
    pixels: new Uint32Array(layerBuffer(4, 4, 1)),
    bounds: { x: 0, y: 0, width: 4, height: 4 },
    opacity: 1,
    opaque: false,
  };
  const started = performance.now();
  const err = await ring.run(bandTasks(frame, null, 16, 16, [layer], null, 1)).then(
    () => null,
    (e: unknown) => e,
  );
  const waited = performance.now() - started;
  t.ok(err instanceof NoWorkerError, `it fails with NoWorkerError (${String(err)})`);
  t.ok(waited >= 250 && waited < 3000, `after about the job timeout (${waited.toFixed(0)} ms)`);
  t.equal(ring.waiting, 0, 'and no longer counts as waiting');
  await ring.close();
  await t.rejects(ring.run(bandTasks(frame, null, 16, 16, [layer], null, 1)), PoolClosedError, 'a closed ring refuses at once');
});
