/**
 * `latency`: how long an admin's change takes to show. A probe layer (a colour box, top of the
 * scene) changes colour by `PATCH /stream/layers/probe` over HTTP; we time from sending the
 * request to (a) the first composited live frame whose pixels show the new colour (the
 * pipeline's `frame` event) and (b) the first WebSocket preview frame (binary, low quality,
 * decoded by sharp) that shows it. BENCH_CHANGES (200) changes, 50-150 ms apart after both were
 * seen. Goals: p95 to the composited frame <= one frame interval + 5 ms; to the preview <= 100 ms.
 *
 * Env: BENCH_CHANGES (200), WIDTH x HEIGHT (1920x1080), FPS (30), BENCH_SCENE (S1).
 * Run: `npm run build && npm run bench:latency` (`-- glass`: glass-to-glass, bench/latency-glass.ts).
 */
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { parseBinaryPreview } from '../shared/binary-preview.js';
import type { Frame } from '../orchestrator/render/frame-pool.js';
import { startLive } from './live-server.js';
import { machineFacts, percentile, printTable, summary, writeResult } from './report.js';
import type { BenchScene } from './scenes.js';

const changes = Number(process.env['BENCH_CHANGES'] ?? 200);
const width = Number(process.env['WIDTH'] ?? 1920);
const height = Number(process.env['HEIGHT'] ?? 1080);
const fps = Number(process.env['FPS'] ?? 30);
const scene = (process.env['BENCH_SCENE'] ?? 'S1') as BenchScene;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Probe colours, far apart so JPEG never mistakes one for another. */
const COLORS: [number, number, number][] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
];
const hex = (c: number[]): string => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
const near = (a: ArrayLike<number>, b: number[], tol: number): boolean =>
  Math.abs(a[0]! - b[0]!) <= tol && Math.abs(a[1]! - b[1]!) <= tol && Math.abs(a[2]! - b[2]!) <= tol;

const server = await startLive(scene, width, height, fps);
const { app, base, headers } = server;
const box = Math.round(height / 6);
const probe = { x: width - box - 20, y: 20 };
let res = await fetch(`${base}/stream/layers`, {
  method: 'POST',
  headers,
  body: JSON.stringify({
    id: 'probe',
    zIndex: 1000,
    transform: { x: probe.x, y: probe.y, width: box, height: box },
    content: { type: 'color', color: '#000000' },
  }),
});
if (!res.ok) throw new Error(`probe layer: ${res.status} ${await res.text()}`);

/** The change being waited for: its colour, when it was sent, and what has seen it. */
let pending: { color: number[]; t0: number; frame: number | null; preview: number | null } | null = null;
const center = (probe.y + (box >> 1)) * width + probe.x + (box >> 1);
app.pipeline.on('frame', (frame: Frame) => {
  if (!pending || pending.frame !== null) return;
  const px = frame.words[center]!;
  if (near([px & 255, (px >>> 8) & 255, (px >>> 16) & 255], pending.color, 2)) pending.frame = performance.now() - pending.t0;
});
const ws = new WebSocket(`ws://127.0.0.1:${app.port}/stream/ws?target=preview&quality=low&format=binary`);
await new Promise((r, j) => ws.once('open', r).once('error', j));
ws.on('message', (data: Buffer, isBinary: boolean) => {
  if (!isBinary || !pending || pending.preview !== null) return;
  const p = pending;
  const arrived = performance.now();
  const { jpeg } = parseBinaryPreview(data);
  void sharp(jpeg)
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data: raw, info }) => {
      const s = info.width / width;
      const i = (Math.round((probe.y + box / 2) * s) * info.width + Math.round((probe.x + box / 2) * s)) * info.channels;
      if (p.preview === null && near(raw.subarray(i, i + 3), p.color, 48)) p.preview = arrived - p.t0;
    });
});

const toFrame: number[] = [];
const toPreview: number[] = [];
let missed = 0;
await sleep(1000);
for (let i = 0; i < changes; i++) {
  const color = COLORS[i % COLORS.length]!;
  pending = { color, t0: performance.now(), frame: null, preview: null };
  res = await fetch(`${base}/stream/layers/probe`, { method: 'PATCH', headers, body: JSON.stringify({ content: { color: hex(color) } }) });
  if (!res.ok) throw new Error(`PATCH: ${res.status}`);
  const deadline = performance.now() + 2000;
  while ((pending.frame === null || pending.preview === null) && performance.now() < deadline) await sleep(2);
  if (pending.frame === null || pending.preview === null) missed++;
  if (pending.frame !== null) toFrame.push(pending.frame);
  if (pending.preview !== null) toPreview.push(pending.preview);
  await sleep(50 + Math.random() * 100);
}
ws.close();
await server.close();

const interval = 1000 / fps;
toFrame.sort((a, b) => a - b);
toPreview.sort((a, b) => a - b);
const rows = [
  {
    path: 'HTTP change -> composited frame',
    n: toFrame.length,
    'p50 ms': percentile(toFrame, 50),
    'p95 ms': percentile(toFrame, 95),
    'max ms': Math.max(...toFrame),
    'goal p95 ms': interval + 5,
  },
  {
    path: 'HTTP change -> WS preview frame',
    n: toPreview.length,
    'p50 ms': percentile(toPreview, 50),
    'p95 ms': percentile(toPreview, 95),
    'max ms': Math.max(...toPreview),
    'goal p95 ms': 100,
  },
];
printTable(rows);
const pass = missed === 0 && rows[0]!['p95 ms'] <= interval + 5 && rows[1]!['p95 ms'] <= 100;
process.stdout.write(
  `\n${width}x${height}@${fps} ${scene}, ${changes} changes, ${missed} not seen within 2 s -> ${pass ? 'PASS' : 'FAIL'}\n`,
);
process.stdout.write(
  `wrote ${writeResult('latency', { bench: 'latency', machine: machineFacts(), width, height, fps, scene, changes, missed, toFrame: summary(toFrame), toPreview: summary(toPreview), rows, pass })}\n`,
);
process.exitCode = pass ? 0 : 1;
