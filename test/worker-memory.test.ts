import { resolve } from 'node:path';
import t from 'tap';
import { RenderPool } from '../pool/render-pool.js';
import type { Layer } from '../shared/scene.js';

/**
 * Regression guard: @napi-rs/canvas 1.0.8 to 1.1.1 never free the buffer `canvas.data()` returns
 * (~1.5 MB per call for a 470x614 layer, even after GC), so an animated layer leaked ~50 MB/s at
 * 30 fps. 1.0.7 is pinned; this test fails if a bump brings the leak back.
 */
t.test('rendering an animated layer 600 times does not grow memory', async (t) => {
  // No warmUp: the pool's own start-up round keeps the thread's start (over the 2 s render
  // timeout beside a CPU hog) out of the first render's budget.
  const pool = new RenderPool({ threads: 1, assetRoot: resolve('.') });
  t.teardown(() => pool.close());
  const layer: Layer = {
    id: 'host',
    name: '',
    zIndex: 0,
    visible: true,
    opacity: 1,
    transform: { x: 0, y: 0, scale: 1.18 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'i', talking: 't' },
      animation: 'talking',
    },
  };
  const buffer = new SharedArrayBuffer(8 * 1024 * 1024);
  const frame = (i: number): Promise<unknown> => pool.render({ layer, canvasWidth: 1280, canvasHeight: 720, timeMs: i * 33, buffer });
  for (let i = 0; i < 60; i++) await frame(i);
  const before = process.memoryUsage().rss;
  for (let i = 60; i < 660; i++) await frame(i);
  const grew = (process.memoryUsage().rss - before) / 1048576;
  t.ok(grew < 150, `RSS grew ${grew.toFixed(0)} MB over 600 renders (a leaking canvas grows ~900 MB)`);
});

t.test("a render submitted while the pool's threads start gets its whole timeout for the render", async (t) => {
  // 50 ms is ample for a colour layer, never enough to start a thread (canvas, sharp, fonts).
  const pool = new RenderPool({ threads: 1, assetRoot: resolve('.'), taskTimeoutMs: 50 });
  t.teardown(() => pool.close());
  const layer: Layer = {
    id: 'red',
    name: '',
    zIndex: 0,
    visible: true,
    opacity: 1,
    transform: { x: 0, y: 0, width: 8, height: 8 },
    content: { type: 'color', color: '#ff0000' },
  };
  const buffer = new SharedArrayBuffer(8 * 8 * 4);
  const started = performance.now();
  const result = await pool.render({ layer, canvasWidth: 64, canvasHeight: 64, timeMs: 0, buffer });
  t.equal(result.status, 'ok', `rendered ${(performance.now() - started).toFixed(0)} ms after the pool was made`);
  t.same([...new Uint8Array(buffer, 0, 4)], [255, 0, 0, 255], 'red');
});
