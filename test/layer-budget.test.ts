/**
 * The per-layer render budget of orchestrator/render/layer-renderer.ts: a live frame waits for
 * a slow render only so long and the layer shows its last good pixels; overruns, throws and
 * memory asks are counted by reason, reported once per run and retried with backoff, whatever
 * the pattern (every other frame, many layers at once). The policy runs against a scripted draw
 * service (what a render takes and returns is the point here); the job ring's hand-over of the
 * renders done before a whole job is runs on real worker threads with a real slow decode.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { createLogger } from '../orchestrator/logger.js';
import {
  frameWaitMs,
  LayerRenderer,
  OVERRUNS_TO_FAIL,
  RECOVERY_MS,
  SCENE_LAYER_CANVASES,
  SCENE_LAYER_MIN_BYTES,
  type LayerDrawService,
  type LayerFault,
} from '../orchestrator/render/layer-renderer.js';
import { coversCanvas } from '../orchestrator/render/layer-slot.js';
import { RenderPool } from '../pool/render-pool.js';
import type { LayerEntry } from '../orchestrator/scene/scene-store.js';
import type { RenderDone, RenderResult, RenderTask } from '../pool/messages.js';
import type { CompositeLayer } from '../pixels/compositor.js';
import { LayerSchema } from '../shared/scene.js';
import type { Canvas } from '../shared/stream-config.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = createLogger('silent');
const canvas: Canvas = { width: 320, height: 180, targetFPS: 30, background: '#000000' };

function entry(
  id: string,
  content: Record<string, unknown> = { type: 'color', color: '#ff0000' },
  transform: Record<string, unknown> = { x: 0, y: 0, width: 10, height: 10 },
): LayerEntry {
  return { layer: LayerSchema.parse({ id, transform, content }), revision: 1, seq: 0 };
}
const host = (id: string): LayerEntry =>
  entry(id, { type: 'character', modelUrl: 'assets/characters/auctioneer.png', animations: { idle: 'idle', talking: 'talking' } });

function done(runMs: number): RenderDone {
  return {
    status: 'ok',
    width: 10,
    height: 10,
    offsetX: 0,
    offsetY: 0,
    opaque: true,
    content: { x: 0, y: 0, width: 10, height: 10 },
    full: { x: 0, y: 0, width: 10, height: 10 },
    runMs,
  };
}

/** A draw service scripted per layer id: `script(id, call)` says what the n-th render of it does. */
function scripted(
  script: (id: string, call: number) => Promise<RenderResult> | RenderResult,
): LayerDrawService & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    calls,
    async render(task: RenderTask): Promise<RenderResult> {
      const n = (calls.get(task.layer.id) ?? 0) + 1;
      calls.set(task.layer.id, n);
      return script(task.layer.id, n);
    },
  };
}

/** Runs live frames every `everyMs` for `ms`; returns the frames made and the slowest renderFrame, ms. */
async function runLive(
  r: LayerRenderer,
  entries: LayerEntry[],
  ms: number,
  everyMs = 20,
): Promise<{ frames: CompositeLayer[][]; slowest: number }> {
  const frames: CompositeLayer[][] = [];
  let slowest = 0;
  const end = performance.now() + ms;
  let seq = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    const out = await r.renderFrame(entries, canvas, seq * 33, ++seq, true);
    slowest = Math.max(slowest, performance.now() - t0);
    r.composited(seq);
    frames.push(out);
    await sleep(everyMs);
  }
  return { frames, slowest };
}

t.test('a live frame waits for a slow render only so long; the layer lands later and is not drawn twice meanwhile', async (t) => {
  const service = scripted(async (id) => {
    if (id === 'slow') await sleep(400);
    return done(id === 'slow' ? 5 : 1);
  });
  const r = new LayerRenderer(service, log);
  const entries = [entry('fast'), entry('slow')];
  const t0 = performance.now();
  const first = await r.renderFrame(entries, canvas, 0, 1, true);
  const took = performance.now() - t0;
  t.ok(
    took < frameWaitMs(canvas.targetFPS) + 60,
    `the frame came after ${took.toFixed(0)} ms (wait ${frameWaitMs(canvas.targetFPS).toFixed(1)} ms), not 400`,
  );
  t.equal(first.length, 1, 'with the fast layer; the slow one has no pixels yet, so it is left out');
  r.composited(1);
  for (let seq = 2; seq <= 5; seq++) {
    await r.renderFrame(entries, canvas, seq * 33, seq, true);
    r.composited(seq);
  }
  t.equal(service.calls.get('slow'), 1, 'a layer whose render is in flight is not drawn again');
  await sleep(450);
  const later = await r.renderFrame(entries, canvas, 6 * 33, 6, true);
  t.equal(later.length, 2, 'once it lands it shows');
  // Off the clock (a snapshot), a frame waits for every render.
  const offline = new LayerRenderer(
    scripted(async (id) => (id === 'slow' ? (await sleep(100), done(5)) : done(1))),
    log,
  );
  t.equal((await offline.renderFrame(entries, canvas, 0, 1)).length, 2, 'a snapshot waits for the slow layer');
});

t.test('overruns: counted each time, a failure only some in a row, reported once, and the pixels still show', async (t) => {
  const faults: LayerFault[] = [];
  // An animated layer whose every render takes 3 frame intervals of worker time.
  const service = scripted(() => done(100));
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  const { frames } = await runLive(r, [host('heavy')], 1500);
  t.equal(faults.length, 1, 'reported once');
  t.match(faults[0], { id: 'heavy', failures: 1, reason: 'overrun' });
  t.ok(r.stats.failed >= 1, 'counted');
  const calls = service.calls.get('heavy')!;
  t.ok(
    calls >= OVERRUNS_TO_FAIL && calls < frames.length / 2,
    `drawn ${calls} times in ${frames.length} frames: backed off after ${OVERRUNS_TO_FAIL} overruns`,
  );
  t.ok(
    frames.every((f) => f.length === 1),
    'its overrun pixels still show',
  );

  // One slow render in a run of good ones is counted, not reported.
  const once: LayerFault[] = [];
  const r2 = new LayerRenderer(
    scripted((_, n) => done(n === 2 ? 100 : 1)),
    log,
    undefined,
    (f) => once.push(f),
  );
  await runLive(r2, [host('hiccup')], 300);
  t.same(once, [], 'a single slow render (a first decode, a busy machine) is not reported');
});

t.test('a layer that fails every other frame is one run: reported and logged once, retried less and less often', async (t) => {
  const faults: LayerFault[] = [];
  const service = scripted((_, n) => {
    if (n % 2 === 1) throw new Error('flaky');
    return done(1);
  });
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  const { frames } = await runLive(r, [host('flaky')], 1800);
  t.equal(faults.length, 1, `one layerError, not one per flip (${faults.length})`);
  t.match(faults[0], { id: 'flaky', reason: 'error', failures: 1 });
  const calls = service.calls.get('flaky')!;
  t.ok(calls <= 10, `drawn ${calls} times in ${frames.length} frames (backoff grows across the run)`);
});

t.test('a run ends, reported once, only after rendering without failure for a while', async (t) => {
  const faults: LayerFault[] = [];
  const service = scripted((_, n) => {
    if (n <= 2) throw new Error('broken for a moment');
    return done(1);
  });
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  await runLive(r, [host('h')], 1000);
  t.equal(faults.length, 1, 'no recovery before RECOVERY_MS');
  await runLive(r, [host('h')], RECOVERY_MS + 300);
  t.match(faults, [{ reason: 'error' }, { id: 'h', message: null, reason: null, failures: 2 }], 'then one recovery');
});

t.test('many failing layers at once: each reported once, none holds up the frame', async (t) => {
  const faults: LayerFault[] = [];
  const service = scripted(async (id) => {
    if (id.startsWith('bad')) throw new Error('broken');
    if (id.startsWith('slow')) await sleep(300);
    return done(1);
  });
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  const good = entry(
    'good',
    { type: 'character', modelUrl: 'assets/characters/auctioneer.png', animations: { idle: 'idle', talking: 'talking' } },
    { x: 200, y: 0 },
  );
  const entries = [
    ...Array.from({ length: 40 }, (_, i) => host(`bad${i}`)),
    ...Array.from({ length: 10 }, (_, i) => host(`slow${i}`)),
    good,
  ];
  const { frames, slowest } = await runLive(r, entries, 1500);
  t.equal(faults.length, 40, 'each broken layer reported once');
  t.ok(slowest < frameWaitMs(canvas.targetFPS) + 60, `the slowest frame took ${slowest.toFixed(0)} ms`);
  t.ok(
    frames.every((f) => f.some((l) => l.bounds.x === 200)),
    'the good layer is in every frame',
  );
  let bad = 0;
  for (let i = 0; i < 40; i++) bad += service.calls.get(`bad${i}`)!;
  t.ok(bad < 40 * 8, `broken layers were tried ${bad} times in ${frames.length} frames, with backoff`);
});

t.test('a render that asks for more than one canvas fails with reason memory; nothing is allocated', async (t) => {
  const faults: LayerFault[] = [];
  const service = scripted(() => ({ status: 'grow', bytes: 2 ** 52, runMs: 0 }));
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  const out = await r.renderFrame([entry('huge'), entry('huge2')], canvas, 0, 1, true);
  t.same(out, [], 'the frame goes on');
  t.match(faults, [
    { id: 'huge', reason: 'memory' },
    { id: 'huge2', reason: 'memory' },
  ]);
  t.match(faults[0]!.message, /one canvas/);
});

t.test("the scene's layers together: past the scene budget the next layer fails with reason memory, the others keep drawing", async (t) => {
  // 1920x1080: one canvas is 8 MB, the budget max(24 canvases, 256 MiB) = 256 MiB, so 32 full-canvas layers fit and the 33rd does not.
  const big: Canvas = { width: 1920, height: 1080, targetFPS: 30, background: '#000000' };
  const one = big.width * big.height * 4;
  const fit = Math.floor(SCENE_LAYER_MIN_BYTES / one);
  t.equal(fit, 32, 'the floor decides at 1080p');
  const faults: LayerFault[] = [];
  // Each layer asks for one whole canvas on its first render, then draws into it.
  const service = scripted((_id, call) =>
    call === 1 ? { status: 'grow', bytes: one, runMs: 0 } : { ...done(0), width: 1920, height: 1080 },
  );
  const r = new LayerRenderer(service, log, undefined, (f) => faults.push(f));
  const entries = Array.from({ length: fit + 3 }, (_, i) =>
    entry(`full${i}`, { type: 'color', color: '#00ff00' }, { x: 0, y: 0, width: 1920, height: 1080 }),
  );
  const out = await r.renderFrame(entries, big, 0, 1, false);
  t.equal(out.length, fit, `${fit} layers drawn`);
  t.same(
    faults.map((f) => f.id),
    ['full32', 'full33', 'full34'],
    'the layers past the budget failed, alone',
  );
  t.ok(
    faults.every((f) => f.reason === 'memory' && /the scene's layers may have/.test(f.message ?? '')),
    'with reason memory, naming the scene budget',
  );
  t.ok(SCENE_LAYER_CANVASES * one < SCENE_LAYER_MIN_BYTES, 'at 1080p 24 canvases are below the floor');
});

t.test('coversCanvas: a layer drawn only where it was on the canvas is drawn again when it moves into parts not drawn', async (t) => {
  // A 1000x100 layer at x=-100: drawn columns 100..420 of it (the canvas is 320 wide).
  const r: RenderDone = { ...done(1), width: 320, height: 100, offsetX: 100, offsetY: 0, full: { x: 0, y: 0, width: 1000, height: 100 } };
  t.ok(coversCanvas(r, -100, 0, canvas), 'where it was drawn');
  t.ok(coversCanvas(r, -100, 50, canvas), 'moved down: fewer rows on the canvas, all drawn');
  t.notOk(coversCanvas(r, -90, 0, canvas), 'moved right: columns 90..100 now show, not drawn');
  t.notOk(coversCanvas(r, -200, 0, canvas), 'moved left: columns 420..520 now show');
  t.ok(coversCanvas(r, 400, 0, canvas), 'off the canvas: nothing to draw');
  t.ok(coversCanvas({ ...done(1) }, 5000, 5000, canvas), 'drawn whole: always');
});

t.test('on real workers: the renders of a job done before its slow one are taken when the frame stops waiting', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-budget-ring-'));
  mkdirSync(join(root, 'assets'));
  // A noisy 4000x4000 picture: its first decode takes hundreds of ms.
  const n = 4000;
  const raw = Buffer.alloc(n * n * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  writeFileSync(
    join(root, 'assets', 'noise.png'),
    await sharp(raw, { raw: { width: n, height: n, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer(),
  );
  const pool = new RenderPool({ threads: 2, assetRoot: root });
  t.teardown(() => pool.close());
  await pool.warmUp();
  const faults: LayerFault[] = [];
  const r = new LayerRenderer(pool, log, undefined, (f) => faults.push(f));
  const entries = [
    entry('pic', { type: 'image', src: 'assets/noise.png' }, { x: 0, y: 0, width: 320, height: 180 }),
    entry('a'),
    entry('b', undefined, { x: 20, y: 0, width: 10, height: 10 }),
  ];
  // The first job would wait for a worker to join the ring (not what is timed here): wait until both have.
  for (let i = 0; i < 50 && pool.ring.hellos < 2; i++) await sleep(20);
  const t0 = performance.now();
  await r.renderFrame(entries, canvas, 0, 1, true);
  const took = performance.now() - t0;
  t.ok(took < 150, `the frame came after ${took.toFixed(0)} ms`);
  r.composited(1);
  await sleep(60);
  const next = await r.renderFrame(entries, canvas, 33, 2, true);
  t.same(
    next.map((l) => l.bounds.x).sort((x, y) => x - y),
    [0, 20],
    'the next frame has the two quick layers of the same job, not the picture',
  );
  t.equal(r.inflight().renders, 1, 'whose decode still runs');
  r.composited(2);
  for (let i = 0; i < 100 && r.inflight().renders > 0; i++) await sleep(20);
  t.equal((await r.renderFrame(entries, canvas, 66, 3, true)).length, 3, 'the picture shows once decoded');
  t.same(faults, [], 'one slow first render is not reported');
});
