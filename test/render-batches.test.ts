/**
 * Layer renders grouped into batches (pool/render-batches.ts): the plan keeps
 * every layer once, never makes more tasks than threads and balances them; and frames rendered
 * in batches on real worker threads (planned here, or one batch a frame spread by the pool)
 * equal frames rendered one task per layer, while a layer that throws inside a batch fails
 * alone and one whose buffer is too small is grown.
 */
import t from 'tap';
import fc from 'fast-check';
import { premultipliedPixel } from '../shared/color.js';
import type { StreamConfig } from '../shared/stream-config.js';
import { createLogger } from '../orchestrator/logger.js';
import { FrameComposer } from '../orchestrator/render/frame-composer.js';
import { FramePool } from '../orchestrator/render/frame-pool.js';
import { LayerRenderer, type LayerDrawService } from '../orchestrator/render/layer-renderer.js';
import { MIN_TASK_MS, planBatches } from '../pool/render-batches.js';
import { RenderPool } from '../pool/render-pool.js';
import { SceneStore } from '../orchestrator/scene/scene-store.js';

t.test('planBatches: every layer once, at most one task per thread, small renders share a task, loads balanced', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { maxLength: 40 }),
      fc.integer({ min: 1, max: 16 }),
      (costs, threads) => {
        const groups = planBatches(costs, threads);
        const seen = groups.flat().sort((a, b) => a - b);
        if (seen.length !== costs.length || seen.some((v, i) => v !== i)) return false;
        if (costs.length === 0) return groups.length === 0;
        const total = costs.reduce((a, b) => a + b, 0);
        if (groups.length > threads || groups.some((g) => g.length === 0)) return false;
        // No more tasks than the work pays for (one at least).
        if (groups.length > Math.max(1, Math.ceil(total / MIN_TASK_MS))) return false;
        // LPT: the busiest task carries at most the average plus the largest single cost.
        const loads = groups.map((g) => g.reduce((a, i) => a + costs[i]!, 0));
        return Math.max(...loads) <= total / groups.length + Math.max(...costs) + 1e-9;
      },
    ),
    { numRuns: 1000, seed: 17 },
  );
  t.same(
    planBatches([0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05], 8),
    [
      [0, 2, 4, 6],
      [1, 3, 5, 7],
    ],
    '8 small hosts (0.4 ms) on 8 threads: 2 tasks',
  );
  t.same(
    planBatches([2, 2, 2, 2], 2),
    [
      [0, 2],
      [1, 3],
    ],
    '4 big renders on 2 threads: 2 tasks of 2',
  );
  t.same(planBatches([3, 1, 1, 1], 2), [[0], [1, 2, 3]], 'balanced by cost: the big one alone');
  t.same(planBatches([], 4), [], 'nothing to render: no task');
});

t.test('batched renders give the frames of one task per layer; a layer that throws fails alone', async (t) => {
  const W = 480;
  const H = 270;
  const canvas = { width: W, height: H, targetFPS: 30, background: '#203040' } as StreamConfig;
  const bg = premultipliedPixel(canvas.background);
  const pool = new RenderPool({ threads: 2, assetRoot: '.' });
  t.teardown(() => pool.close());
  await pool.warmUp();
  const log = createLogger('silent');
  let single = 0;
  let batches = 0;
  let batchedLayers = 0;
  const onePerLayer: LayerDrawService = { render: (task) => (single++, pool.render(task)) };
  const batching: LayerDrawService = {
    render: (task) => pool.render(task),
    renderBatch: (task) => (batches++, (batchedLayers += task.tasks.length), pool.renderBatch(task)),
    threads: pool.threads,
  };
  // As the server draws: a frame's renders in one batch, spread by the pool (the job ring).
  let spread = 0;
  const spreading: LayerDrawService = {
    render: (task) => pool.render(task),
    renderBatch: (task, progress) => (spread++, pool.renderBatch(task, progress)),
    threads: pool.threads,
    spreadsBatches: true,
  };
  const scenes = [new SceneStore(), new SceneStore(), new SceneStore()] as const;
  const renderers = [new LayerRenderer(onePerLayer, log), new LayerRenderer(batching, log), new LayerRenderer(spreading, log)] as const;
  const composers = scenes.map((scene, i) => new FrameComposer({ renderer: renderers[i]!, scene }));
  const host = (x: number, scale: number) => ({
    transform: { x, y: 10, scale },
    content: {
      type: 'character' as const,
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation: 'talking' as const,
    },
  });
  for (const scene of scenes) {
    // Six small hosts, one big enough to outgrow its first buffer (400x520 > 256 KiB), and a
    // picture whose file does not exist: every render of it throws in the worker.
    for (let i = 0; i < 6; i++) scene.create({ id: `h${i}`, zIndex: i, ...host(i * 70, 0.12 + i * 0.03) });
    scene.create({ id: 'big', zIndex: 10, ...host(200, 0.5) });
    scene.create({
      id: 'broken',
      zIndex: 11,
      transform: { x: 0, y: 0, width: 50, height: 50 },
      content: { type: 'image', src: 'assets/bench/no-such-picture.png' },
    });
  }
  const pools = [new FramePool(W, H, 2), new FramePool(W, H, 2), new FramePool(W, H, 2)];
  let equal = 0;
  let moving = 0;
  let last: Buffer | null = null;
  const FRAMES = 20;
  for (let n = 0; n < FRAMES; n++) {
    const frames = await Promise.all(composers.map((c, i) => c.composite(pools[i]!, canvas, bg, n * 33)));
    const [a, b, c] = frames;
    if (!a || !b || !c) throw new Error('no frame');
    if (Buffer.compare(a.bytes, b.bytes) === 0 && Buffer.compare(a.bytes, c.bytes) === 0) equal++;
    if (last && Buffer.compare(last, b.bytes) !== 0) moving++;
    last = Buffer.from(b.bytes);
    frames.forEach((f, i) => pools[i]!.release(f!));
  }
  t.equal(equal, FRAMES, `${FRAMES} frames: batched and spread equal one task per layer, pixel for pixel`);
  t.equal(spread, FRAMES, 'spread: one batch a frame');
  t.ok(moving >= FRAMES - 2, `${moving} frames differ from the one before: the hosts move, the check is not vacuous`);
  t.ok(batches >= FRAMES, `${batches} batch tasks carried ${batchedLayers} renders`);
  t.ok(batches / FRAMES <= pool.threads, `${(batches / FRAMES).toFixed(1)} batch tasks a frame for 7-8 renders: at most one per thread`);
  t.ok(single >= 7 * FRAMES, `one task per layer: ${(single / FRAMES).toFixed(1)} tasks a frame`);
  t.ok(batchedLayers / batches >= 3, `${(batchedLayers / batches).toFixed(1)} renders a batch`);
  const [one, batched, spreadOut] = renderers;
  t.ok(batched.stats.failed >= 1, `the broken picture failed ${batched.stats.failed} times (its retries), inside batches`);
  t.equal(batched.stats.failed, one.stats.failed, 'as often as one task per layer');
  t.equal(
    batched.stats.rendered,
    one.stats.rendered,
    `the others rendered alike (${batched.stats.rendered} renders), the grown one included`,
  );
  t.same([spreadOut.stats.failed, spreadOut.stats.rendered], [one.stats.failed, one.stats.rendered], 'and alike when spread');
});
