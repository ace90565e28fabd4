/**
 * Preview encoding: one composited frame downscaled to the preview width and JPEG-encoded, by
 * Skia in a render worker (what the pipeline uses) and by sharp on libuv's pool (the
 * alternative), at 720p and 1080p. Medians of BENCH_ITERATIONS (30) sequential encodes.
 * Run: `npm run build && npm run bench:preview`.
 */
import sharp from 'sharp';
import { RenderPool } from '../pool/render-pool.js';
import { machineFacts, printTable, summary, writeResult } from './report.js';

const iterations = Number(process.env['BENCH_ITERATIONS'] ?? 30);
const TARGET_WIDTH = 640;
const QUALITY = 70;

/** Untimed encodes first: JIT, the worker's canvases and scratch buffer, sharp's first pipeline. */
const WARM_UP = 10;

async function time(fn: () => Promise<unknown>): Promise<ReturnType<typeof summary>> {
  for (let i = 0; i < WARM_UP; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summary(samples);
}

const pool = new RenderPool({ threads: 1, assetRoot: '.' });
// The thread loaded (module, canvas, fonts) before anything is timed.
await pool.warmUp();
const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown> = {};
for (const [w, h] of [
  [1280, 720],
  [1920, 1080],
] as const) {
  const frame = new SharedArrayBuffer(w * h * 4);
  const words = new Uint32Array(frame);
  for (let i = 0; i < words.length; i++) words[i] = 0xff000000 | (((i * 2654435761) >>> 8) & 0x3f3f3f) | ((i % w) << 8);
  const bytes = Buffer.from(frame);
  const cases: [string, () => Promise<unknown>][] = [
    [
      'Skia in a worker',
      () => pool.encodeImage({ frame, width: w, height: h, targetWidth: TARGET_WIDTH, format: 'jpeg', quality: QUALITY }),
    ],
    [
      'sharp',
      () =>
        sharp(bytes, { raw: { width: w, height: h, channels: 4 } })
          .resize({ width: TARGET_WIDTH })
          .jpeg({ quality: QUALITY })
          .toBuffer(),
    ],
  ];
  for (const [name, fn] of cases) {
    const s = await time(fn);
    results[`${w}x${h} ${name}`] = s;
    rows.push({ frame: `${w}x${h}`, encoder: name, 'median ms': s.median, 'min ms': s.min, 'max ms': s.max });
  }
}
await pool.close();
printTable(rows);
process.stdout.write(
  `wrote ${writeResult('preview-encode', { bench: 'preview-encode', machine: machineFacts(), iterations, targetWidth: TARGET_WIDTH, results })}\n`,
);
