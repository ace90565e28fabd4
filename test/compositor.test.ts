import t from 'tap';
import { blendLayer } from '../pixels/compositor.js';

/** Packs straight RGBA (0..255) into a premultiplied little-endian word. */
function pm(r: number, g: number, b: number, a: number): number {
  const m = (c: number): number => Math.round((c * a) / 255);
  return ((a << 24) | (m(b) << 16) | (m(g) << 8) | m(r)) >>> 0;
}
const chans = (w: number): number[] => [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, w >>> 24];

t.test('blend matches float source-over within 1/255 for random pixels and opacities', async (t) => {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  let worst = 0;
  for (let i = 0; i < 20_000; i++) {
    const src = pm((rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0);
    const dst = pm((rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0, (rnd() * 256) | 0);
    const opacity = [1, 0.5, 0.25, rnd()][i % 4]!;
    const frame = new Uint32Array([dst]);
    blendLayer(frame, 1, 1, { pixels: new Uint32Array([src]), bounds: { x: 0, y: 0, width: 1, height: 1 }, opacity, opaque: false });
    const s = chans(src);
    const d = chans(dst);
    const sa = (s[3]! / 255) * opacity;
    const expected = s.map((c, k) => c * opacity + d[k]! * (1 - sa));
    const got = chans(frame[0]!);
    for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(got[k]! - expected[k]!));
  }
  t.ok(worst <= 1.5, `worst channel error ${worst.toFixed(2)}/255`);
});

t.test('clipping: a layer hanging off every edge touches only the frame', async (t) => {
  const frame = new Uint32Array(4 * 4).fill(0xff000000);
  const layer = new Uint32Array(6 * 6).fill(0xffffffff);
  blendLayer(frame, 4, 4, { pixels: layer, bounds: { x: -1, y: -1, width: 6, height: 6 }, opacity: 1, opaque: true });
  t.ok(
    frame.every((w) => w === 0xffffffff),
    'whole frame covered, no throw',
  );
  const frame2 = new Uint32Array(4 * 4).fill(0xff000000);
  blendLayer(frame2, 4, 4, { pixels: layer, bounds: { x: 3, y: 3, width: 6, height: 6 }, opacity: 1, opaque: false });
  t.equal(frame2.filter((w) => w === 0xffffffff).length, 1, 'only the one overlapping pixel');
  blendLayer(frame2, 4, 4, { pixels: layer, bounds: { x: 10, y: 0, width: 6, height: 6 }, opacity: 1, opaque: false });
  t.equal(frame2.filter((w) => w === 0xffffffff).length, 1, 'fully outside: nothing');
});

t.test('opaque row copy and per-pixel blend agree', async (t) => {
  const layer = new Uint32Array(3 * 2).map((_, i) => pm(i * 40, 255 - i * 40, 7, 255));
  const a = new Uint32Array(5 * 4).fill(pm(1, 2, 3, 255));
  const b = a.slice();
  blendLayer(a, 5, 4, { pixels: layer, bounds: { x: 1, y: 1, width: 3, height: 2 }, opacity: 1, opaque: true });
  blendLayer(b, 5, 4, { pixels: layer, bounds: { x: 1, y: 1, width: 3, height: 2 }, opacity: 1, opaque: false });
  t.same([...a], [...b]);
});

t.test('opacity 0 and transparent pixels leave the frame alone', async (t) => {
  const frame = new Uint32Array([pm(10, 20, 30, 255), pm(10, 20, 30, 255)]);
  const before = [...frame];
  blendLayer(frame, 2, 1, {
    pixels: new Uint32Array([0xffffffff, 0xffffffff]),
    bounds: { x: 0, y: 0, width: 2, height: 1 },
    opacity: 0,
    opaque: true,
  });
  blendLayer(frame, 2, 1, { pixels: new Uint32Array([0, 0]), bounds: { x: 0, y: 0, width: 2, height: 1 }, opacity: 1, opaque: false });
  t.same([...frame], before);
});
