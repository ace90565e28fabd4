import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import type { MediaState } from '../shared/media.js';
import { startPublisher, type Publisher } from './helpers/media.js';
import { freePort, startRtmpServer } from './helpers/rtmp-server.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * Live feeds as layers (issue 29): a real nginx-rtmp and an SRT listener fed by ffmpeg, shown in a
 * 640x360@30 program that is recorded. The feed dies and comes back; the program does not notice.
 */

const run = promisify(execFile);
const LIME = [0, 255, 0];
const BOX = { x: 320, y: 0, width: 320, height: 180 };

/** Polls the layer's media state until it is `state`; resolves the ms it took, or rejects after `ms`. */
async function waitState(s: TestServer, id: string, state: MediaState, ms: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const st = s.app.pipeline.media.status(id);
    if (st?.state === state) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`layer ${id} not ${state} after ${ms} ms: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function near(t: Test, got: number[], want: number[], what: string): void {
  const diff = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
  t.ok(diff <= 8, `${what}: want [${want.join(',')}], got [${got.slice(0, 3).join(',')}]`);
}

/** The program's dropped frames by reason, from the metrics (for a failure message). */
/**
 * Program frames dropped so far: `late` (render_late and encoder_backpressure: a frame not ready
 * in its interval, or an encoder behind, which a machine others load causes alone) and `other`
 * (render_queue_full, error: what a feed going down could cause).
 */
function drops(s: TestServer): { late: number; other: number } {
  const d = s.app.pipeline.counters.dropped;
  const late = (d['render_late'] ?? 0) + (d['encoder_backpressure'] ?? 0);
  return { late, other: Object.values(d).reduce((a, b) => a + b, 0) - late };
}

/** Late drops allowed in `frames` frames: 5 % (a loaded CI machine); the bench measures the quiet figure (docs/bench.md). */
const lateAllowed = (frames: number): number => Math.max(3, Math.ceil(0.05 * frames));

async function dropReasons(s: TestServer): Promise<string> {
  const metrics = (await s.call('GET', '/metrics')).body as string;
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('stream_manager_frames_dropped_total'))
    .map((l) => l.replace('stream_manager_frames_dropped_total', ''))
    .join(', ');
}

/** One RGB pixel of the recording's frame at `seconds`. */
async function recordedPixel(file: string, seconds: number, x: number, y: number): Promise<number[]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    {
      encoding: 'buffer',
      maxBuffer: 8 * 1024 * 1024,
    },
  );
  const i = (y * 640 + x) * 3;
  return [stdout[i]!, stdout[i + 1]!, stdout[i + 2]!];
}

/**
 * The feed at `src` (published by `publisher`) as a layer: its pixels in the program and the
 * recording; the publisher killed: `reconnecting` within 2 s while the program keeps its rate with
 * no dropped frame; the publisher back: `playing` within 5 s.
 */
async function feedDropsAndReturns(t: Test, src: string, publisher: Publisher): Promise<void> {
  const s = await startServer({ WIDTH: '640', HEIGHT: '360', FPS: '30', ENCODER_RESTART_DELAY_MS: '500' });
  t.teardown(() => s.close());
  const r = await s.call('POST', '/stream/layers', { id: 'cam', transform: BOX, content: { type: 'video', src } });
  t.equal(r.status, 201, JSON.stringify(r.body));
  await waitState(s, 'cam', 'playing', 15_000);
  t.match(
    s.app.pipeline.media.status('cam'),
    { width: 320, height: 180, durationMs: null, lastError: null },
    'the feed as probed by its decoder',
  );

  t.equal((await s.call('POST', '/stream/start')).status, 200);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 2000));
  const p = await s.snapshot();
  near(t, p.at(480, 90), LIME, 'the feed in the program');
  near(t, p.at(160, 90), [0, 0, 0], 'the rest of the program');
  near(t, p.at(480, 270), [0, 0, 0], 'below the feed');

  // Paused, the feed stays connected (its pictures are read and dropped) and the picture holds.
  const pid = s.app.pipeline.media.decoderPid('cam');
  t.equal(s.app.pipeline.media.control('cam', { action: 'pause' }).state, 'paused');
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(s.app.pipeline.media.status('cam')!.state, 'paused', 'still paused 2 s later, not reconnecting');
  t.equal(s.app.pipeline.media.decoderPid('cam'), pid, 'the same decoder');
  t.equal(s.app.pipeline.media.control('cam', { action: 'play' }).state, 'playing');

  const before = (await s.call('GET', '/stream/status')).body;
  const dropsBefore = drops(s);
  await publisher.kill();
  const downMs = await waitState(s, 'cam', 'reconnecting', 5000);
  t.ok(downMs <= 2000, `reconnecting ${Math.round(downMs)} ms after the publisher died`);
  // The program is left alone for 3 s (no snapshot encodes competing for the CPU), then checked.
  await new Promise((r) => setTimeout(r, 3000));
  const during = (await s.call('GET', '/stream/status')).body;
  near(t, (await s.snapshot()).at(480, 90), LIME, 'the last picture holds');
  t.equal(during.isLive, true, 'the program stays live');
  t.ok(during.fps >= 25, `the program keeps its rate while the feed is down: ${during.fps} fps`);
  const dropsDown = drops(s);
  const downFrames = during.frameCount - before.frameCount;
  t.equal(dropsDown.other - dropsBefore.other, 0, `no frame dropped for the feed's sake while it is down (${await dropReasons(s)})`);
  t.ok(
    dropsDown.late - dropsBefore.late <= lateAllowed(downFrames),
    `late frames while it is down: ${dropsDown.late - dropsBefore.late} of ${downFrames} (0 on a quiet machine)`,
  );

  publisher.restart();
  const upMs = await waitState(s, 'cam', 'playing', 5000);
  t.ok(upMs <= 5000, `playing again ${Math.round(upMs)} ms after the publisher came back`);
  const metrics = (await s.call('GET', '/metrics')).body as string;
  t.match(metrics, /stream_manager_source_frames_decoded_total\{layer="cam"\} [1-9]/, 'decoded frames counted');
  t.match(metrics, /stream_manager_source_state\{layer="cam",state="playing"\} 1/, 'state gauge');
  t.match(metrics, /stream_manager_source_cpu_seconds_total\{layer="cam"\} \d/, 'decode CPU');

  const stopped = await s.call('POST', '/stream/stop');
  t.equal(stopped.status, 200);
  const elapsed = (Date.now() - t0) / 1000;
  const total = drops(s);
  t.equal(total.other, 0, `no frame dropped for the feed's sake in the whole run (${await dropReasons(s)})`);
  t.ok(total.late <= lateAllowed(stopped.body.frameCount), `late frames in the whole run: ${total.late} (0 on a quiet machine)`);
  t.ok(stopped.body.frameCount >= 30 * elapsed * 0.9, `${stopped.body.frameCount} frames in ${elapsed.toFixed(1)} s`);
  const files = readdirSync(join(s.dir, 'recordings'));
  t.equal(files.length, 1);
  near(t, await recordedPixel(join(s.dir, 'recordings', files[0]!), 1.5, 480, 90), LIME, 'the feed in the recording');
  near(t, await recordedPixel(join(s.dir, 'recordings', files[0]!), 1.5, 160, 90), [0, 0, 0], 'the rest of the recording');
}

t.test('an RTMP feed from a real nginx-rtmp', async (t) => {
  const rtmp = await startRtmpServer();
  t.teardown(() => rtmp.stop());
  const url = rtmp.url('cam');
  const publisher = startPublisher(url, 'flv', 'lime');
  t.teardown(() => publisher.kill());
  await feedDropsAndReturns(t, url, publisher);
});

t.test('an SRT feed from an ffmpeg listener', async (t) => {
  const port = await freePort();
  const publisher = startPublisher(`srt://127.0.0.1:${port}?mode=listener`, 'mpegts', 'lime');
  t.teardown(() => publisher.kill());
  await feedDropsAndReturns(t, `srt://127.0.0.1:${port}`, publisher);
});
