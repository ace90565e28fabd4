/**
 * contentBox: the smallest box outside of which a layer buffer is transparent, checked against a
 * scan of every pixel on random sparse buffers, and on the edge cases (empty, opaque, one pixel);
 * and the box a host reports without a scan, against a scan of what it drew.
 */
import t from 'tap';
import fc from 'fast-check';
import { resolve } from 'node:path';
import { contentBox } from '../pixels/content-box.js';
import { LayerSchema } from '../shared/scene.js';
import { createDrawer } from '../workers/draw.js';

/** The box by brute force: every pixel looked at. */
function scanAll(words: Uint32Array, w: number, h: number): { x: number; y: number; width: number; height: number } {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (words[y * w + x]! >>> 24 === 0) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? { x: 0, y: 0, width: 0, height: 0 } : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

t.test('contentBox equals the box of every pixel with alpha > 0', async (t) => {
  const buffer = fc.record({ w: fc.integer({ min: 1, max: 40 }), h: fc.integer({ min: 1, max: 40 }) }).chain(({ w, h }) =>
    fc.record({
      w: fc.constant(w),
      h: fc.constant(h),
      // Sparse: a few visible pixels (some with colour but alpha 0, which stay invisible).
      dots: fc.array(
        fc.record({
          i: fc.nat({ max: w * h - 1 }),
          px: fc.oneof(
            fc.constant(0x00ffffff),
            fc.integer({ min: 1, max: 255 }).map((a) => ((a << 24) | 0x102030) >>> 0),
          ),
        }),
        { maxLength: 6 },
      ),
    }),
  );
  let nonEmpty = 0;
  fc.assert(
    fc.property(buffer, ({ w, h, dots }) => {
      const words = new Uint32Array(w * h);
      for (const d of dots) words[d.i] = d.px;
      const want = scanAll(words, w, h);
      if (want.width > 0) nonEmpty++;
      const got = contentBox(words, w, h);
      return got.x === want.x && got.y === want.y && got.width === want.width && got.height === want.height;
    }),
    { numRuns: 2000, seed: 7 },
  );
  t.ok(nonEmpty > 1000, `${nonEmpty} of 2000 buffers had visible pixels`);
  t.same(contentBox(new Uint32Array(12), 4, 3), { x: 0, y: 0, width: 0, height: 0 }, 'all transparent: an empty box');
  t.same(contentBox(new Uint32Array(12).fill(0xff000000), 4, 3), { x: 0, y: 0, width: 4, height: 3 }, 'opaque: the whole buffer');
  const one = new Uint32Array(12);
  one[2 * 4 + 3] = 0x01000000;
  t.same(contentBox(one, 4, 3), { x: 3, y: 2, width: 1, height: 1 }, 'one faint pixel in the corner');
});

t.test("a host's reported visible box holds every visible pixel it drew, blinking, talking and with a rig off the picture", async (t) => {
  const drawer = createDrawer({ assetRoot: resolve('.'), assetStorage: resolve('data', 'assets'), imageCacheBytes: 64 * 1024 * 1024 });
  const buffer = new SharedArrayBuffer(4 * 1024 * 1024);
  const base = {
    id: 'host',
    zIndex: 0,
    transform: { x: 0, y: 0, scale: 0.6 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation: 'talking',
    },
  };
  // Eyes in the picture's transparent corners and the mouth at its bottom edge: drawn where the picture is not.
  const offRig = {
    eyes: [
      { x: 0.02, y: 0.02 },
      { x: 0.98, y: 0.02 },
    ],
    eyeRadius: 0.03,
    mouth: { x: 0.5, y: 0.99, width: 0.3 },
    skinColor: '#f1c27d',
  };
  let checked = 0;
  let inside = 0;
  for (const rig of [undefined, offRig]) {
    const layer = LayerSchema.parse({ ...base, content: { ...base.content, ...(rig ? { rig } : {}) } });
    // Blinks at 0-140 ms of every 3.7 s; the mouth opens and shuts ~3 times a second.
    for (const timeMs of [0, 50, 100, 130, 200, 333, 1000, 3700, 3750, 5000, 7420]) {
      const r = await drawer.render({ layer, canvasWidth: 1280, canvasHeight: 720, timeMs, buffer });
      if (r.status !== 'ok') throw new Error('buffer too small');
      const seen = contentBox(new Uint32Array(buffer, 0, r.width * r.height), r.width, r.height);
      const c = r.content;
      if (
        seen.width === 0 ||
        (seen.x >= c.x && seen.y >= c.y && seen.x + seen.width <= c.x + c.width && seen.y + seen.height <= c.y + c.height)
      )
        inside++;
      else
        t.fail(
          `t=${timeMs} ms ${rig ? 'off-picture rig' : 'default rig'}: visible ${JSON.stringify(seen)} outside reported ${JSON.stringify(c)}`,
        );
      checked++;
    }
  }
  t.equal(inside, checked, `${checked} renders: the reported box holds the visible pixels`);
});
