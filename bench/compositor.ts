/**
 * Compositor cost on the main thread, per operation, at 720p and 1080p: background clear, an
 * opaque full-frame layer (row copy), a full-frame layer at opacity 0.5 (per-pixel blend), and a
 * 400x80 text box. Medians of BENCH_ITERATIONS (200) timed calls after a warm-up.
 * Run: `npm run build && npm run bench:compositor`.
 */
import { blendLayer, clearFrame, type CompositeLayer } from '../pixels/compositor.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';

const iterations = Number(process.env['BENCH_ITERATIONS'] ?? 200);

function time(fn: () => void): ReturnType<typeof summary> {
  for (let i = 0; i < 20; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return summary(samples);
}

const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown> = {};
for (const [w, h] of [
  [1280, 720],
  [1920, 1080],
] as const) {
  const frame = new Uint32Array(new SharedArrayBuffer(w * h * 4));
  const full = new Uint32Array(new SharedArrayBuffer(w * h * 4)).fill(0xff336699);
  const semi = new Uint32Array(new SharedArrayBuffer(w * h * 4)).fill(0x80204060);
  const box = new Uint32Array(400 * 80).map((_, i) => (i % 7 === 0 ? 0 : 0xccffffff));
  const layer = (pixels: Uint32Array, width: number, height: number, opacity: number, opaque: boolean): CompositeLayer => ({
    pixels,
    bounds: { x: 40, y: 40, width, height },
    opacity,
    opaque,
  });
  const cases: [string, () => void][] = [
    ['clear (background fill)', () => clearFrame(frame, 0xff101018)],
    [
      'opaque full frame, opacity 1 (row copy)',
      () => blendLayer(frame, w, h, { ...layer(full, w, h, 1, true), bounds: { x: 0, y: 0, width: w, height: h } }),
    ],
    [
      'semi-transparent full frame, opacity 0.5',
      () => blendLayer(frame, w, h, { ...layer(semi, w, h, 0.5, false), bounds: { x: 0, y: 0, width: w, height: h } }),
    ],
    ['400x80 text box, opacity 1', () => blendLayer(frame, w, h, layer(box, 400, 80, 1, false))],
  ];
  for (const [name, fn] of cases) {
    const s = time(fn);
    results[`${w}x${h} ${name}`] = s;
    rows.push({ size: `${w}x${h}`, operation: name, 'median ms': s.median, 'min ms': s.min, 'max ms': s.max });
  }
}
printTable(rows);
process.stdout.write(`wrote ${writeResult('compositor', { bench: 'compositor', machine: machineFacts(), iterations, results })}\n`);
