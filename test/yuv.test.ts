/**
 * The I420 conversion the encoders are fed (pixels/yuv.ts) and its damage tracking
 * (orchestrator/render/damage.ts): the colours match ffmpeg's own rgba -> yuv420p conversion
 * with the same matrix (BT.601 and BT.709),
 * and a frame converted only where it changed equals the whole frame converted, over a random
 * run of scene changes on the real render pool.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import fc from 'fast-check';
import { HD_MIN_HEIGHT, i420Bytes, resolveMatrix, rgbaToI420, type YuvMatrix } from '../pixels/yuv.js';
import { createLogger } from '../orchestrator/logger.js';
import { FrameComposer } from '../orchestrator/render/frame-composer.js';
import { FramePool } from '../orchestrator/render/frame-pool.js';
import { LayerRenderer } from '../orchestrator/render/layer-renderer.js';
import { RenderPool } from '../pool/render-pool.js';
import { SceneStore } from '../orchestrator/scene/scene-store.js';
import { premultipliedPixel } from '../shared/color.js';
import type { StreamConfig } from '../shared/stream-config.js';

const W = 96;
const H = 64;

/** Gradients, hard edges and saturated blocks: what stresses a converter. */
function testPicture(): Uint32Array {
  const px = new Uint32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r = (x * 255) / (W - 1);
      const g = (y * 255) / (H - 1);
      const b = x < 32 ? 255 : x < 64 ? 0 : (x ^ y) & 1 ? 255 : 0;
      px[y * W + x] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
    }
  }
  return px;
}

for (const matrix of ['bt601', 'bt709'] as const) {
  t.test(`the ${matrix} conversion matches ffmpeg's rgba -> yuv420p with out_color_matrix=${matrix}, limited range`, async (t) => {
    const rgba = testPicture();
    const ours = new Uint8Array(i420Bytes(W, H));
    rgbaToI420(rgba, W, H, { x0: 0, y0: 0, x1: W, y1: H }, ours, matrix);
    const res = spawnSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgba',
        '-s',
        `${W}x${H}`,
        '-i',
        'pipe:0',
        '-vf',
        `scale=out_color_matrix=${matrix}:out_range=tv`,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'yuv420p',
        'pipe:1',
      ],
      {
        input: Buffer.from(rgba.buffer),
        maxBuffer: 1 << 24,
      },
    );
    t.equal(res.status, 0, 'ffmpeg converted the picture');
    const theirs = new Uint8Array(res.stdout);
    t.equal(theirs.length, ours.length, 'same I420 size');
    const planes = { Y: [0, W * H], U: [W * H, W * H + (W * H) / 4], V: [W * H + (W * H) / 4, ours.length] } as const;
    for (const [name, [a, b]] of Object.entries(planes)) {
      let max = 0;
      let sum = 0;
      for (let i = a; i < b; i++) {
        const d = Math.abs(ours[i]! - theirs[i]!);
        max = Math.max(max, d);
        sum += d;
      }
      const mean = sum / (b - a);
      // Same formulas; rounding (and swscale's chroma filter) may differ by a level.
      t.ok(max <= 2 && mean < 0.5, `${name}: max difference ${max}, mean ${mean.toFixed(2)} levels`);
    }
  });
}

t.test('known values, and which matrix a stream gets', async (t) => {
  const one = (px: number, matrix: YuvMatrix): number[] => {
    const out = new Uint8Array(i420Bytes(2, 2));
    rgbaToI420(new Uint32Array([px, px, px, px]), 2, 2, { x0: 0, y0: 0, x1: 2, y1: 2 }, out, matrix);
    return [out[0]!, out[4]!, out[5]!];
  };
  for (const m of ['bt601', 'bt709'] as const) {
    t.same(one(0xffffffff, m), [235, 128, 128], `${m} white`);
    t.same(one(0xff000000, m), [16, 128, 128], `${m} black`);
    t.same(one(0xff808080, m), [126, 128, 128], `${m} mid grey has no chroma`);
  }
  // Red: BT.601 limited 81.48/90.2/240; BT.709 (Kr 0.2126) 62.56/102.0/240 (ITU-R BT.709-6 section 3).
  t.same(one(0xff0000ff, 'bt601'), [81, 90, 240], 'bt601 red');
  t.same(one(0xff0000ff, 'bt709'), [63, 102, 240], 'bt709 red');
  // Green: exactly 172.63/41.66/26.27, rounded to nearest.
  t.same(one(0xff00ff00, 'bt709'), [173, 42, 26], 'bt709 green');
  // Over many colours, each value is within half a level of the exact formula.
  let worst = 0;
  for (let i = 0; i < 20000; i++) {
    const [r, g, b] = [(i * 37) % 256, (i * 91 + 17) % 256, (i * 13 + 101) % 256];
    for (const [m, kr, kb] of [
      ['bt601', 0.299, 0.114],
      ['bt709', 0.2126, 0.0722],
    ] as const) {
      const y = (kr * r + (1 - kr - kb) * g + kb * b) / 255;
      const exact = [16 + 219 * y, 128 + (224 * (b / 255 - y)) / (2 * (1 - kb)), 128 + (224 * (r / 255 - y)) / (2 * (1 - kr))];
      one((0xff000000 | (b << 16) | (g << 8) | r) >>> 0, m).forEach((v, k) => (worst = Math.max(worst, Math.abs(v - exact[k]!))));
    }
  }
  t.ok(worst <= 0.5 + 1e-9, `worst difference from the exact formula: ${worst.toFixed(3)} levels`);
  t.equal(resolveMatrix('auto', 1080), 'bt709');
  t.equal(resolveMatrix('auto', HD_MIN_HEIGHT), 'bt709', '720 lines is HD');
  t.equal(resolveMatrix('auto', HD_MIN_HEIGHT - 2), 'bt601');
  t.equal(resolveMatrix('auto', 480), 'bt601');
  t.equal(resolveMatrix('bt601', 1080), 'bt601', 'an explicit choice wins');
  t.equal(resolveMatrix('bt709', 240), 'bt709');
});

t.test('converting only the damaged blocks gives the same I420 as converting the whole frame', async (t) => {
  const pool = new RenderPool({ threads: 1, assetRoot: '.' });
  t.teardown(() => pool.close());
  const scene = new SceneStore();
  const composer = new FrameComposer({ renderer: new LayerRenderer(pool, createLogger('silent')), scene });
  const canvas = { width: 160, height: 120, targetFPS: 30, background: '#203040' } as StreamConfig;
  const frames = new FramePool(160, 120, 3);
  const bg = premultipliedPixel(canvas.background);
  const colors = ['#ff0000', '#00ff00', '#0000ff80', '#ffffff', '#33669980'];
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('add' as const),
      x: fc.integer({ min: -40, max: 170 }),
      y: fc.integer({ min: -40, max: 130 }),
      w: fc.integer({ min: 1, max: 90 }),
      h: fc.integer({ min: 1, max: 70 }),
      c: fc.integer({ min: 0, max: 4 }),
    }),
    fc.record({
      kind: fc.constant('move' as const),
      i: fc.nat(),
      x: fc.integer({ min: -40, max: 170 }),
      y: fc.integer({ min: -40, max: 130 }),
    }),
    fc.record({ kind: fc.constant('recolor' as const), i: fc.nat(), c: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('opacity' as const), i: fc.nat(), o: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('hide' as const), i: fc.nat() }),
    fc.record({ kind: fc.constant('raise' as const), i: fc.nat(), z: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
    fc.constant({ kind: 'none' as const }),
  );
  const full = new Uint8Array(i420Bytes(160, 120));
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      scene.replaceAll([]);
      for (const o of ops) {
        const ids = scene.list().map((l) => l.id);
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
        else if (id && o.kind === 'hide') scene.setVisibility(id, {});
        else if (id && o.kind === 'raise') scene.patch(id, { zIndex: o.z });
        else if (id && o.kind === 'remove') scene.delete(id);
        const frame = await composer.composite(frames, canvas, bg, 0);
        if (!frame) throw new Error('no frame');
        rgbaToI420(frame.words, 160, 120, { x0: 0, y0: 0, x1: 160, y1: 120 }, full);
        const same = Buffer.compare(frame.yuv, Buffer.from(full.buffer)) === 0;
        frames.release(frame);
        checked++;
        if (!same) return false;
      }
      return true;
    }),
    { numRuns: 40, seed: 7 },
  );
  t.ok(checked > 100, `${checked} frames: each one's I420 equals the whole frame converted`);
});
