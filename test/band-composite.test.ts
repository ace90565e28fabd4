/**
 * Compositing in bands on the render pool, redrawing only what changed since a pooled buffer was
 * last drawn, with frames pipelined (frame n+1 rendering while frame n composites): every frame,
 * RGBA and I420, equals the same frame drawn whole on the main thread one call at a time, over
 * random runs of scene changes with an animated host (its layer buffer is rewritten every frame)
 * on real worker threads.
 */
import t from 'tap';
import fc from 'fast-check';
import { bandRows, MIN_BAND_ROWS } from '../shared/composite-band.js';
import { premultipliedPixel } from '../shared/color.js';
import type { StreamConfig } from '../shared/stream-config.js';
import { createLogger } from '../orchestrator/logger.js';
import { FrameComposer, PIPELINE_DEPTH } from '../orchestrator/render/frame-composer.js';
import { FramePool, type Frame } from '../orchestrator/render/frame-pool.js';
import { LayerRenderer } from '../orchestrator/render/layer-renderer.js';
import { RenderPool } from '../orchestrator/render/render-pool.js';
import { SceneStore } from '../orchestrator/scene/scene-store.js';

t.test('bandRows splits the rows into even, disjoint bands that cover the frame, by height or by cost', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1200 }).map((h) => h * 2), fc.integer({ min: 1, max: 32 }), (height, bands) => {
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
    }),
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
  t.same(bandRows(1080, 4), [[0, 270], [270, 540], [540, 810], [810, 1080]], '1080 rows in 4 bands');
  // Changes only in rows 560..1000 (hosts along the bottom): the cuts fall inside them.
  const cost = Array.from({ length: 1080 }, (_, y) => (y >= 560 && y < 1000 ? 1000 : 0));
  t.same(bandRows(1080, 4, cost), [[0, 670], [670, 780], [780, 890], [890, 1080]], 'weighted by cost: 110 changed rows per band');
  t.same(bandRows(100, 8), [[0, 100]], 'too few rows for two bands of 64: one band');
});

t.test('banded, pipelined frames equal whole frames composited one at a time', async (t) => {
  const W = 320;
  const H = 240;
  const canvas = { width: W, height: H, targetFPS: 30, background: '#203040' } as StreamConfig;
  const bg = premultipliedPixel(canvas.background);
  const wholePool = new RenderPool({ threads: 1, assetRoot: '.' });
  const bandPool = new RenderPool({ threads: 3, assetRoot: '.' });
  t.teardown(async () => {
    await wholePool.close();
    await bandPool.close();
  });
  // Started threads: a cold start (seconds under coverage) must not eat the first render's timeout.
  await Promise.all([wholePool.warmUp(), bandPool.warmUp()]);
  const log = createLogger('silent');
  const wholeScene = new SceneStore();
  const bandScene = new SceneStore();
  const whole = new FrameComposer({ renderer: new LayerRenderer(wholePool, log), scene: wholeScene });
  const banded = new FrameComposer({ renderer: new LayerRenderer(bandPool, log), scene: bandScene, bands: bandPool });
  t.equal(bandRows(H, bandPool.threads).length, 3, 'three bands of 80 rows');
  const wholeFrames = new FramePool(W, H, 2);
  const bandFrames = new FramePool(W, H, 5);
  const colors = ['#ff0000', '#00ff00', '#0000ff80', '#ffffff', '#33669980'];
  const host = { zIndex: 5, transform: { x: 60, y: 40, scale: 0.3 }, content: { type: 'character', modelUrl: 'assets/characters/auctioneer.png', animations: { idle: 'idle-animation', talking: 'talking-animation' }, animation: 'talking' } };
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), x: fc.integer({ min: -40, max: 330 }), y: fc.integer({ min: -40, max: 250 }), w: fc.integer({ min: 1, max: 200 }), h: fc.integer({ min: 1, max: 160 }), c: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('move' as const), i: fc.nat(), x: fc.integer({ min: -40, max: 330 }), y: fc.integer({ min: -40, max: 250 }) }),
    fc.record({ kind: fc.constant('recolor' as const), i: fc.nat(), c: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('opacity' as const), i: fc.nat(), o: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
    // The caption: text with transparent margins, so only its visible box is damaged when it changes.
    fc.record({ kind: fc.constant('caption' as const), x: fc.integer({ min: -40, max: 330 }), y: fc.integer({ min: -40, max: 250 }), text: fc.constantFrom('Bid', 'Current Bid: 1.5 ETH', 'i', '') }),
    fc.constant({ kind: 'none' as const }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  /** Applies one change to a scene (both scenes get the same ones, so their ids match). */
  const apply = (scene: SceneStore, o: Op): void => {
    const ids = scene.list().map((l) => l.id).filter((id) => id !== 'host' && id !== 'caption');
    const id = ids.length ? ids[('i' in o ? o.i : 0) % ids.length]! : null;
    if (o.kind === 'add') scene.create({ zIndex: ids.length, transform: { x: o.x, y: o.y, width: o.w, height: o.h }, content: { type: 'color', color: colors[o.c]! } });
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
        scene.create({ id: 'caption', zIndex: 50, transform: { x: 100, y: 180 }, content: { type: 'text', content: 'Bid', style: { font: 'Arial', fontSize: 28, color: '#ffffff' } } });
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
