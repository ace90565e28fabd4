/**
 * The host written straight into its layer buffer (`PreparedContent.write`: shifted copies'
 * rows and the face parts blended over them) against the same pose drawn on a canvas (`draw`),
 * and against a stale buffer: every pixel is written, so nothing of an earlier frame survives.
 */
import t from 'tap';
import { resolve } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { LayerSchema } from '../shared/scene.js';
import { createDrawer } from '../workers/draw.js';
import { prepareCharacter } from '../workers/renderers/character.js';

const drawer = createDrawer({ assetRoot: resolve('.'), assetStorage: resolve('data', 'assets'), imageCacheBytes: 64 * 1024 * 1024 });
const content = (animation: 'idle' | 'talking') =>
  LayerSchema.parse({
    id: 'host',
    zIndex: 0,
    transform: { x: 0, y: 0 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation,
    },
  }).content as Parameters<typeof prepareCharacter>[0];

t.test('written pixels equal the canvas drawing of the same pose (open and shut eyes, open mouth)', async (t) => {
  // 0.45 of the picture: a fractional box, so the breath moves by sub-pixel phases.
  const width = 180.45;
  const height = 234.3;
  const bw = Math.ceil(width);
  const bh = Math.ceil(height);
  for (const [animation, timeMs, what] of [
    ['idle', 1000, 'idle, eyes open'],
    ['idle', 3750, 'idle, blinking'],
    ['talking', 200, 'talking, mouth open'],
    ['talking', 7420, 'talking and blinking'],
  ] as const) {
    const prepared = await prepareCharacter(content(animation), { images: drawer.images, canvas: { width: 1280, height: 720 } });
    const canvas = createCanvas(bw, bh);
    prepared.draw(canvas.getContext('2d'), width, height, timeMs);
    const want = new Uint32Array(Uint8Array.from(canvas.data()).buffer);
    const got = new Uint32Array(bw * bh).fill(0xdeadbeef);
    const box = prepared.write!(got, bw, bh, width, height, timeMs);
    let worst = 0;
    let differ = 0;
    let visible = 0;
    for (let i = 0; i < got.length; i++) {
      const a = got[i]!;
      const b = want[i]!;
      if (a >>> 24) visible++;
      if (a === b) continue;
      differ++;
      for (let s = 0; s < 32; s += 8) worst = Math.max(worst, Math.abs(((a >>> s) & 255) - ((b >>> s) & 255)));
    }
    t.ok(visible > 10_000, `${what}: the host is drawn (${visible} visible pixels)`);
    // The face parts are blended from their own canvas: antialiased edges may round differently.
    t.ok(worst <= 4 && differ < 400, `${what}: ${differ} pixels differ, by at most ${worst} levels`);
    t.ok(box.width > 0 && box.height > 0, `${what}: a visible box`);
  }
});

t.test('every pixel of the layer buffer is written: a stale buffer gives the same frame as a clear one', async (t) => {
  const layer = LayerSchema.parse({ id: 'host', zIndex: 0, transform: { x: 0, y: 0, scale: 0.5 }, content: content('talking') });
  const stale = new SharedArrayBuffer(1 << 20);
  const clear = new SharedArrayBuffer(1 << 20);
  for (const timeMs of [0, 200, 1700, 3750]) {
    new Uint32Array(stale).fill(0xffffffff);
    const a = await drawer.render({ layer, canvasWidth: 1280, canvasHeight: 720, timeMs, buffer: stale });
    const b = await drawer.render({ layer, canvasWidth: 1280, canvasHeight: 720, timeMs, buffer: clear });
    if (a.status !== 'ok' || b.status !== 'ok') throw new Error('buffer too small');
    const n = a.width * a.height;
    const x = new Uint32Array(stale, 0, n);
    const y = new Uint32Array(clear, 0, n);
    let differ = 0;
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) differ++;
    t.equal(differ, 0, `t=${timeMs} ms: ${n} pixels, none left from the stale buffer`);
    t.equal(x[0], 0, `t=${timeMs} ms: the transparent corner is cleared`);
  }
});
