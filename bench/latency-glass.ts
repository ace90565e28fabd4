/**
 * `latency glass`: glass-to-glass latency of the program as viewers get it. A full-frame colour
 * layer on top of the scene changes colour by `PATCH /stream/layers/glass`; each change is timed
 * from just before the request is sent to the first frame of the new colour decoded by a player:
 * - `rtmp`: the main output pushed to a real nginx-rtmp, played back by ffmpeg with low-delay flags;
 * - `hls`: an `hls` output's playlist, played by ffmpeg from its live edge;
 * - `whep`: a `webrtc` output played by Debian's Chromium (playwright-core) in a `<video>`,
 *   drawn into a canvas at each video frame (`requestVideoFrameCallback`).
 * For each encoder latency (`normal`, `low`; `webrtc` outputs always encode at `low`),
 * GLASS_CHANGES (30) changes per path; p50/p95/max in ms, written to bench/results/.
 *
 * Env: GLASS_CHANGES (30), WIDTH x HEIGHT (1280x720), FPS (30), GLASS_PATHS (rtmp,hls,whep),
 * GLASS_MODES (normal,low).
 * Run: `npm run build && npm run bench:latency -- glass`.
 */
import { readFileSync } from 'node:fs';
import { startRtmpServer } from '../test/helpers/rtmp-server.js';
import { ffmpegColorReader, hex, measureChanges, type ColorReader, type Rgb } from './glass.js';
import { whepColorReader } from './glass-whep.js';
import { startLive, type LiveServer } from './live-server.js';
import { machineFacts, percentile, printTable, writeResult } from './report.js';

const changes = Number(process.env['GLASS_CHANGES'] ?? 30);
const width = Number(process.env['WIDTH'] ?? 1280);
const height = Number(process.env['HEIGHT'] ?? 720);
const fps = Number(process.env['FPS'] ?? 30);
const paths = (process.env['GLASS_PATHS'] ?? 'rtmp,hls,whep').split(',') as ('rtmp' | 'hls' | 'whep')[];
const modes = (process.env['GLASS_MODES'] ?? 'normal,low').split(',') as ('normal' | 'low')[];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Adds the full-frame colour layer on top of the scene. */
async function addGlassLayer(s: LiveServer): Promise<void> {
  const res = await fetch(`${s.base}/stream/layers`, {
    method: 'POST',
    headers: s.headers,
    body: JSON.stringify({
      id: 'glass',
      zIndex: 100_000,
      transform: { x: 0, y: 0, width, height },
      content: { type: 'color', color: '#000000' },
    }),
  });
  if (!res.ok) throw new Error(`glass layer: ${res.status} ${await res.text()}`);
}

function setter(s: LiveServer): (rgb: Rgb) => Promise<void> {
  return async (rgb) => {
    const res = await fetch(`${s.base}/stream/layers/glass`, {
      method: 'PATCH',
      headers: s.headers,
      body: JSON.stringify({ content: { color: hex(rgb) } }),
    });
    if (!res.ok) throw new Error(`PATCH: ${res.status} ${await res.text()}`);
  };
}

/** Waits until the reader has decoded frames for a while (the player is past its start). */
async function playing(reader: ColorReader, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (reader.frames < fps && performance.now() < until) await sleep(100);
  if (reader.frames === 0) throw new Error('the player decoded no frame');
}

interface Row extends Record<string, string | number> {
  path: string;
  latency: string;
  n: number;
  missed: number;
  'p50 ms': number;
  'p95 ms': number;
  'max ms': number;
}

async function run(path: 'rtmp' | 'hls' | 'whep', mode: 'normal' | 'low'): Promise<Row> {
  const rtmp = await startRtmpServer();
  const url = rtmp.url('glass');
  const s = await startLive('S1', width, height, fps, { ENCODER_LATENCY: mode, OUTPUT_URL: url, WEBRTC_MAX_VIEWERS: '4' });
  let reader: ColorReader | null = null;
  try {
    await addGlassLayer(s);
    const ffmpeg = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
    let timeoutMs = 3000;
    let gap = (): number => 300 + Math.random() * 300;
    if (path === 'rtmp') {
      await sleep(1000);
      reader = ffmpegColorReader(ffmpeg, url);
    } else if (path === 'hls') {
      const res = await fetch(`${s.base}/stream/outputs`, {
        method: 'POST',
        headers: s.headers,
        body: JSON.stringify({ id: 'web', kind: 'hls' }),
      });
      if (!res.ok) throw new Error(`hls output: ${res.status}`);
      // The playlist needs its first segments.
      await sleep(6000);
      reader = ffmpegColorReader(ffmpeg, `${s.base}/stream/hls/web/index.m3u8`, ['-live_start_index', '-1']);
      timeoutMs = 15_000;
      gap = () => 500 + Math.random() * 500;
    } else {
      const res = await fetch(`${s.base}/stream/outputs`, {
        method: 'POST',
        headers: s.headers,
        body: JSON.stringify({ id: 'viewers', kind: 'webrtc' }),
      });
      if (!res.ok) throw new Error(`webrtc output: ${res.status} ${await res.text()}`);
      await sleep(1000);
      reader = await whepColorReader(`${s.base}/stream/whep/viewers`, null);
    }
    await playing(reader, 20_000);
    const r = await measureChanges(reader, setter(s), { changes, timeoutMs, gapMs: gap });
    const ms = [...r.ms].sort((a, b) => a - b);
    return {
      path,
      latency: path === 'whep' ? 'low (always)' : mode,
      n: ms.length,
      missed: r.missed,
      'p50 ms': percentile(ms, 50),
      'p95 ms': percentile(ms, 95),
      'max ms': ms.length ? ms[ms.length - 1]! : NaN,
    };
  } finally {
    await reader?.stop();
    await s.close();
    await rtmp.stop();
  }
}

const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
const rows: Row[] = [];
for (const path of paths) {
  for (const mode of path === 'whep' ? (['low'] as const) : modes) {
    process.stdout.write(`${path} ${mode}...\n`);
    rows.push(await run(path, mode));
  }
}
const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
printTable(rows);
process.stdout.write(`\n${width}x${height}@${fps}, ${changes} changes per row; /proc/loadavg before: ${loadBefore}; after: ${loadAfter}\n`);
process.stdout.write(
  `wrote ${writeResult('latency-glass', { bench: 'latency-glass', machine: machineFacts(), width, height, fps, changes, loadBefore, loadAfter, rows })}\n`,
);
