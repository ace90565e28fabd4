/**
 * Compositing in bands on the render pool, redrawing only what changed since a pooled buffer was
 * last drawn, with frames pipelined (frame n+1 rendering while frame n composites): every frame,
 * RGBA and I420, equals the same frame drawn whole on the main thread one call at a time, over
 * random runs of scene changes with an animated host (its layer buffer is rewritten every frame)
 * on real worker threads.
 */
import t from 'tap';
import fc from 'fast-check';
import { bandRows, MIN_BAND_ROWS } from '../pixels/composite-band.js';
import { premultipliedPixel } from '../shared/color.js';
import type { StreamConfig } from '../shared/stream-config.js';
import { createLogger } from '../orchestrator/logger.js';
import { FrameComposer, PIPELINE_DEPTH, type BandService } from '../orchestrator/render/frame-composer.js';
import { FramePool, type Frame } from '../orchestrator/render/frame-pool.js';
import { LayerRenderer } from '../orchestrator/render/layer-renderer.js';
import { SceneStore } from '../orchestrator/scene/scene-store.js';
import { ringPool } from './helpers/ring-pool.js';

t.test('bandRows splits the rows into even, disjoint bands that cover the frame, by height or by cost', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1200 }).map((h) => h * 2),
      fc.integer({ min: 1, max: 32 }),
      (height, bands) => {
        const rows = bandRows(height, bands);
        if (rows.length < 1 || rows.length > bands) return false;
        if (rows[0]![0] !== 0 || rows.at(-1)![1] !== height) return false;
        for (let i = 0; i < rows.length; i++) {
          const [a, b] = rows[i]!;
          if (a % 2 || b % 2 || b <= a) return false;
          if (i > 0 && rows[i - 1]![1] !== a) return false;
          if (rows.length > 1 && b - a < MIN_BAND_ROWS - 2) return false;
        }
        return true;
      },
    ),
    { numRuns: 500, seed: 3 },
  );
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 2000 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 2, max: 16 }), (half, bands) => {
      const cost = half.flatMap((c) => [c, c]);
      const rows = bandRows(cost.length, bands, cost);
      if (rows.length < 1 || rows.length > bands || rows[0]![0] !== 0 || rows.at(-1)![1] !== cost.length) return false;
      return rows.every(([a, b], i) => a % 2 === 0 && b > a && (i === 0 || rows[i - 1]![1] === a));
    }),
    { numRuns: 500, seed: 5 },
  );
  t.same(
    bandRows(1080, 4),
    [
      [0, 270],
      [270, 540],
      [540, 810],
      [810, 1080],
    ],
    '1080 rows in 4 bands',
  );
  // Changes only in rows 560..1000 (hosts along the bottom): the cuts fall inside them.
  const cost = Array.from({ length: 1080 }, (_, y) => (y >= 560 && y < 1000 ? 1000 : 0));
  t.same(
    bandRows(1080, 4, cost),
    [
      [0, 670],
      [670, 780],
      [780, 890],
      [890, 1080],
    ],
    'weighted by cost: 110 changed rows per band',
  );
  t.same(bandRows(100, 8), [[0, 100]], 'too few rows for two bands of 64: one band');
});

const W = 320;
const H = 240;
const canvas = { width: W, height: H, targetFPS: 30, background: '#203040' } as StreamConfig;
const bg = premultipliedPixel(canvas.background);
const log = createLogger('silent');

t.test('banded, pipelined frames equal whole frames composited one at a time', async (t) => {
  // Started threads that joined the ring: a cold start (seconds under coverage) must not eat the first render's timeout.
  const [wholePool, bandPool] = await Promise.all([ringPool(t, { threads: 1 }), ringPool(t, { threads: 3 })]);
  const wholeScene = new SceneStore();
  const bandScene = new SceneStore();
  const whole = new FrameComposer({ renderer: new LayerRenderer(wholePool, log), scene: wholeScene });
  const banded = new FrameComposer({ renderer: new LayerRenderer(bandPool, log), scene: bandScene, bands: bandPool });
  t.equal(bandRows(H, bandPool.threads).length, 3, 'three bands of 80 rows');
  const wholeFrames = new FramePool(W, H, 2);
  const bandFrames = new FramePool(W, H, 5);
  const colors = ['#ff0000', '#00ff00', '#0000ff80', '#ffffff', '#33669980'];
  const host = {
    zIndex: 5,
    transform: { x: 60, y: 40, scale: 0.3 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle-animation', talking: 'talking-animation' },
      animation: 'talking',
    },
  };
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('add' as const),
      x: fc.integer({ min: -40, max: 330 }),
      y: fc.integer({ min: -40, max: 250 }),
      w: fc.integer({ min: 1, max: 200 }),
      h: fc.integer({ min: 1, max: 160 }),
      c: fc.integer({ min: 0, max: 4 }),
    }),
    fc.record({
      kind: fc.constant('move' as const),
      i: fc.nat(),
      x: fc.integer({ min: -40, max: 330 }),
      y: fc.integer({ min: -40, max: 250 }),
    }),
    fc.record({ kind: fc.constant('recolor' as const), i: fc.nat(), c: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('opacity' as const), i: fc.nat(), o: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
    // The caption: text with transparent margins, so only its visible box is damaged when it changes.
    fc.record({
      kind: fc.constant('caption' as const),
      x: fc.integer({ min: -40, max: 330 }),
      y: fc.integer({ min: -40, max: 250 }),
      text: fc.constantFrom('Bid', 'Current Bid: 1.5 ETH', 'i', ''),
    }),
    fc.constant({ kind: 'none' as const }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  /** Applies one change to a scene (both scenes get the same ones, so their ids match). */
  const apply = (scene: SceneStore, o: Op): void => {
    const ids = scene
      .list()
      .map((l) => l.id)
      .filter((id) => id !== 'host' && id !== 'caption');
    const id = ids.length ? ids[('i' in o ? o.i : 0) % ids.length]! : null;
    if (o.kind === 'add')
      scene.create({
        zIndex: ids.length,
        transform: { x: o.x, y: o.y, width: o.w, height: o.h },
        content: { type: 'color', color: colors[o.c]! },
      });
    else if (id && o.kind === 'move') scene.patch(id, { transform: { x: o.x, y: o.y } });
    else if (id && o.kind === 'recolor') scene.patch(id, { content: { color: colors[o.c]! } });
    else if (id && o.kind === 'opacity') scene.patch(id, { opacity: o.o });
    else if (id && o.kind === 'remove') scene.delete(id);
    else if (o.kind === 'caption') scene.patch('caption', { transform: { x: o.x, y: o.y }, content: { content: o.text } });
  };
  let checked = 0;
  let differing = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
      for (const scene of [wholeScene, bandScene]) {
        scene.replaceAll([]);
        scene.create({ id: 'host', ...host });
        scene.create({
          id: 'caption',
          zIndex: 50,
          transform: { x: 100, y: 180 },
          content: { type: 'text', content: 'Bid', style: { font: 'Arial', fontSize: 28, color: '#ffffff' } },
        });
      }
      // Banded: PIPELINE_DEPTH + 1 frames in flight, each called before the one before it finished; the pool's
      // five buffers come back with old content, so most frames redraw only what changed.
      const inFlight: Array<Promise<Frame | null>> = [];
      const got: Array<{ rgba: Buffer; yuv: Buffer }> = [];
      const take = async (): Promise<void> => {
        const f = await inFlight.shift()!;
        if (!f) throw new Error('no frame');
        got.push({ rgba: Buffer.from(f.bytes), yuv: Buffer.from(f.yuv) });
        bandFrames.release(f);
      };
      for (let n = 0; n < ops.length; n++) {
        apply(bandScene, ops[n]!);
        inFlight.push(banded.composite(bandFrames, canvas, bg, n * 33));
        if (inFlight.length === PIPELINE_DEPTH + 1) await take();
      }
      while (inFlight.length) await take();
      let ok = true;
      for (let n = 0; n < ops.length; n++) {
        apply(wholeScene, ops[n]!);
        const a = await whole.composite(wholeFrames, canvas, bg, n * 33);
        if (!a) throw new Error('no frame');
        const b = got[n]!;
        if (Buffer.compare(a.bytes, b.rgba) !== 0 || Buffer.compare(a.yuv, b.yuv) !== 0) ok = false;
        if (n > 0 && Buffer.compare(b.rgba, got[n - 1]!.rgba) !== 0) differing++;
        // Unknown content: the reference frame is drawn whole every time.
        a.drawnSeq = -1;
        wholeFrames.release(a);
        checked++;
      }
      return ok;
    }),
    { numRuns: 25, seed: 11 },
  );
  t.ok(checked > 100, `${checked} frames: RGBA and I420 equal the frame drawn whole, one at a time`);
  t.ok(differing > checked / 2, `${differing} frames differ from the one before (the host moves): the check is not vacuous`);
});

t.test('composite stages overlap, yet frames end, and free their layer buffers, in call order', async (t) => {
  const [wholePool, bandPool] = await Promise.all([ringPool(t, { threads: 1 }), ringPool(t, { threads: 2 })]);
  const events: string[] = [];
  /** The stage to hold back until the stage after it has ended, and whether it then fails. */
  let hold = 0;
  let failHeld = false;
  let release = (): void => undefined;
  let calls = 0;
  // The real pool's bands, with one stage's end held back so the next stage can overtake it.
  const service: BandService = {
    threads: bandPool.threads,
    async compositeBands(tasks) {
      const n = ++calls;
      events.push(`start ${n}`);
      // Released when the next stage ends, or after 2 s if it never starts (stages one at a time).
      const held =
        n === hold
          ? new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 2000);
              release = () => {
                clearTimeout(timer);
                resolve();
              };
            })
          : null;
      const results = await bandPool.compositeBands(tasks);
      if (n === hold + 1) release();
      if (held) await held;
      events.push(`end ${n}`);
      if (held && failHeld) throw new Error('band failed');
      return results;
    },
  };
  const renderer = new LayerRenderer(bandPool, log);
  const mark = renderer.composited.bind(renderer);
  renderer.composited = (seq) => {
    events.push(`composited ${seq}`);
    mark(seq);
  };
  const scenes = [new SceneStore(), new SceneStore()];
  const banded = new FrameComposer({ renderer, scene: scenes[0]!, bands: service });
  const whole = new FrameComposer({ renderer: new LayerRenderer(wholePool, log), scene: scenes[1]! });
  const host = {
    id: 'host',
    zIndex: 5,
    transform: { x: 60, y: 40, scale: 0.3 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle-animation', talking: 'talking-animation' },
      animation: 'talking',
    },
  };
  for (const s of scenes) {
    s.create(host);
    s.create({ id: 'box', zIndex: 1, transform: { x: 10, y: 10, width: 100, height: 80 }, content: { type: 'color', color: '#ff000080' } });
  }
  const bandFrames = new FramePool(W, H, 4);
  const wholeFrames = new FramePool(W, H, 2);
  const frame = async (p: Promise<Frame | null>): Promise<Frame> => {
    const f = await p;
    if (!f) throw new Error('no frame');
    return f;
  };
  const same = async (f: Frame, timeMs: number, x: number): Promise<boolean> => {
    scenes[1]!.patch('box', { transform: { x } });
    const a = await frame(whole.composite(wholeFrames, canvas, bg, timeMs));
    const ok = Buffer.compare(a.bytes, f.bytes) === 0 && Buffer.compare(a.yuv, f.yuv) === 0;
    a.drawnSeq = -1;
    wholeFrames.release(a);
    return ok;
  };

  // Frame 1 alone; then frames 2 and 3 called at once, frame 2's bands held until frame 3's end.
  const f1 = await frame(banded.composite(bandFrames, canvas, bg, 0));
  t.ok(await same(f1, 0, 10), 'frame 1 equals the frame drawn whole');
  bandFrames.release(f1);
  hold = 2;
  events.length = 0;
  scenes[0]!.patch('box', { transform: { x: 40 } });
  const p2 = banded.composite(bandFrames, canvas, bg, 33);
  scenes[0]!.patch('box', { transform: { x: 70 } });
  const p3 = banded.composite(bandFrames, canvas, bg, 66);
  void p2.then(() => events.push('resolved 2'));
  void p3.then(() => events.push('resolved 3'));
  const [f2, f3] = await Promise.all([frame(p2), frame(p3)]);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(
    events,
    ['start 2', 'start 3', 'end 3', 'end 2', 'composited 2', 'resolved 2', 'composited 3', 'resolved 3'],
    "frame 3's stage ran alongside frame 2's and ended first; frame 2 still resolved first",
  );
  t.ok(await same(f2, 33, 40), 'frame 2 equals the frame drawn whole');
  t.ok(await same(f3, 66, 70), 'frame 3 equals the frame drawn whole');
  t.not(Buffer.compare(f2.bytes, f3.bytes), 0, 'frames 2 and 3 differ (the box moved): the comparison is not vacuous');
  bandFrames.release(f2);
  bandFrames.release(f3);

  // Frame 4's stage fails after frame 5's ended: 4 fails, then 5 resolves, and both are marked in order.
  hold = 4;
  failHeld = true;
  events.length = 0;
  scenes[0]!.patch('box', { transform: { x: 100 } });
  const p4 = banded.composite(bandFrames, canvas, bg, 99);
  const p5 = banded.composite(bandFrames, canvas, bg, 132);
  p4.catch(() => events.push('failed 4'));
  void p5.then(() => events.push('resolved 5'));
  await t.rejects(p4, { message: 'band failed' }, "frame 4 fails with its stage's error");
  const f5 = await frame(p5);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(
    events,
    ['start 4', 'start 5', 'end 5', 'end 4', 'composited 4', 'failed 4', 'composited 5', 'resolved 5'],
    'a failed frame still ends before the frame after it',
  );
  t.ok(await same(f5, 132, 100), 'frame 5 equals the frame drawn whole');
  bandFrames.release(f5);
  t.ok(
    [1, 2, 3, 4].every(() => bandFrames.acquire() !== null),
    "all 4 frame buffers are free again: the failed frame's went back to the pool",
  );
});
