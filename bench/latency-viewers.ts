/**
 * `latency viewers`: VIEWERS (20) WHEP viewers of a 720p30 program for BENCH_SECONDS (60). The
 * server runs as configured (the default scene S1, X264_PRESET, VIDEO_BITRATE_KBPS); the viewers
 * are werift clients in a child process at low CPU priority (they stand for browsers on other
 * machines). Reported: program frames dropped (goal 0), frames the server encoded for the
 * viewers and handed each one, the mean time from the encode to a viewer's socket, each
 * viewer's frames received per second, the main thread's event-loop delay, and the load.
 * VIEWERS=0 runs the same program without viewers, to compare with on a machine shared with others.
 *
 * Env: VIEWERS (20), BENCH_SECONDS (60), WIDTH x HEIGHT (1280x720), FPS (30).
 * Run: `npm run build && npm run bench:latency -- viewers`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReceivedFrame } from '../test/helpers/whep-client.js';
import { startLive } from './live-server.js';
import { machineFacts, printTable, writeResult } from './report.js';

const count = Number(process.env['VIEWERS'] ?? 20);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 60);
const width = Number(process.env['WIDTH'] ?? 1280);
const height = Number(process.env['HEIGHT'] ?? 720);
const fps = Number(process.env['FPS'] ?? 30);
const CLIENT = fileURLToPath(new URL('../test/helpers/whep-client.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const s = await startLive('S1', width, height, fps, { WEBRTC_MAX_VIEWERS: String(count) });
const res = await fetch(`${s.base}/stream/outputs`, {
  method: 'POST',
  headers: s.headers,
  body: JSON.stringify({ id: 'viewers', kind: 'webrtc' }),
});
if (!res.ok) throw new Error(`webrtc output: ${res.status} ${await res.text()}`);
await sleep(1500);
const child = spawn(process.execPath, [CLIENT, `${s.base}/stream/whep/viewers`, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
setPriority(child.pid!, 10);
const frames: ReceivedFrame[][] = Array.from({ length: count }, () => []);
let ready: (v: { statuses: number[]; connected: boolean[] }) => void;
const answered = new Promise<{ statuses: number[]; connected: boolean[] }>((r) => (ready = r));
createInterface({ input: child.stdout }).on('line', (line) => {
  const m = JSON.parse(line) as { statuses?: number[]; connected?: boolean[]; frames?: ReceivedFrame[][] };
  if (m.statuses) ready({ statuses: m.statuses, connected: m.connected! });
  m.frames?.forEach((f, i) => frames[i]!.push(...f));
});
const { statuses, connected } = await answered;
await sleep(2000);

const channel = s.app.pipeline.hub.whep.channel('viewers');
const viewers = [...channel.viewers.values()];
const dropped = (): Record<string, number> => ({ ...s.app.pipeline.counters.dropped });
const loop = monitorEventLoopDelay({ resolution: 5 });
const load0 = readFileSync('/proc/loadavg', 'utf8').trim();
const d0 = dropped();
const sent0 = viewers.map((v) => v.sentFrames);
const delay0 = viewers.map((v) => v.sendDelayMsSum);
const pushed0 = channel.frames;
const t0 = performance.timeOrigin + performance.now();
loop.enable();
await sleep(seconds * 1000);
loop.disable();
const t1 = performance.timeOrigin + performance.now();
await sleep(200);
const load1 = readFileSync('/proc/loadavg', 'utf8').trim();
const d1 = dropped();
const drops = Object.fromEntries(Object.keys(d1).map((k) => [k, d1[k]! - d0[k]!]));
const pushed = channel.frames - pushed0;
const sent = viewers.map((v, i) => v.sentFrames - sent0[i]!);
const delay =
  viewers.reduce((a, v, i) => a + v.sendDelayMsSum - delay0[i]!, 0) /
  Math.max(
    1,
    sent.reduce((a, b) => a + b, 0),
  );
const received = frames.map((list) => list.filter((f) => f.at >= t0 && f.at < t1).length / ((t1 - t0) / 1000));
child.kill('SIGKILL');
await s.close();

const totalDropped = Object.values(drops).reduce((a, b) => a + b, 0);
const rows = [
  { measure: 'viewers answered / connected', value: `${statuses.filter((x) => x === 201).length} / ${connected.filter(Boolean).length}` },
  { measure: `program frames dropped in ${seconds} s (goal 0)`, value: `${totalDropped} ${JSON.stringify(drops)}` },
  { measure: 'frames encoded for the viewers', value: `${pushed} (${(pushed / seconds).toFixed(1)} fps)` },
  { measure: 'frames handed to each viewer, min..max', value: count ? `${Math.min(...sent)}..${Math.max(...sent)}` : '-' },
  { measure: 'encode -> viewer socket, mean ms', value: delay.toFixed(1) },
  {
    measure: 'frames received per viewer per s, min..max',
    value: count ? `${Math.min(...received).toFixed(1)}..${Math.max(...received).toFixed(1)}` : '-',
  },
  {
    measure: 'event loop delay p50 / p99 / max ms',
    value: `${(loop.percentile(50) / 1e6).toFixed(1)} / ${(loop.percentile(99) / 1e6).toFixed(1)} / ${(loop.max / 1e6).toFixed(1)}`,
  },
  { measure: '/proc/loadavg before / after', value: `${load0} / ${load1}` },
];
printTable(rows);
process.stdout.write(
  `wrote ${writeResult('latency-viewers', { bench: 'latency-viewers', machine: machineFacts(), width, height, fps, count, seconds, drops, pushed, sent, delayMs: delay, received, rows })}\n`,
);
process.exitCode = totalDropped === 0 ? 0 : 1;
