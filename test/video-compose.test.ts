import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { makeClip, pixelNear, snapshotUntil } from './helpers/media.js';
import { startServer, type Pixels } from './helpers/server.js';

/**
 * A video layer composites like any other (issue 29): under an opacity and position tween, and
 * inside a scene crossfade, in and out. Frames at chosen scene times (ManualClock, stream stopped).
 */

const TOLERANCE = 4;

function near(t: Test, p: Pixels, x: number, y: number, want: number[], what: string): void {
  const got = p.at(x, y).slice(0, 3);
  const diff = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
  t.ok(diff <= TOLERANCE, `${what} at ${x},${y}: want [${want.map(Math.round).join(',')}], got [${got.join(',')}]`);
}

/** `a x w + b x (1 - w)` per channel. */
const mix = (a: number[], b: number[], w: number): number[] => a.map((v, i) => v * w + b[i]! * (1 - w));

const BLUE = [0, 0, 255];
const RED = [255, 0, 0];
const GRAY = [128, 128, 128];

t.test('a video layer under tweens and in crossfades', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-video-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeClip(join(root, 'assets', 'blue.mp4'), ['blue'], { secondsEach: 5 });
  const clock = new ManualClock(0);
  const s = await startServer({ ASSET_ROOT: root }, { clock });
  t.teardown(() => s.close());
  /** A snapshot once the pixel at x,y is `rgb` (or after 20 s: a picture still decoding on a loaded machine). */
  const shot = (x: number, y: number, rgb: number[]): Promise<Pixels> => snapshotUntil(s, (p) => pixelNear(p, x, y, rgb, TOLERANCE));

  await t.test('an opacity and position tween blend the picture where the tween has it', async (t) => {
    await s.call('POST', '/stream/layers', { id: 'bg', zIndex: -1, content: { type: 'color', color: '#808080' } });
    const r = await s.call('POST', '/stream/layers', {
      id: 'v',
      transform: { x: 0, y: 100, width: 80, height: 60 },
      content: { type: 'video', src: 'assets/blue.mp4', fit: 'fill', loop: true },
    });
    t.equal(r.status, 201);
    near(t, await shot(40, 130, BLUE), 40, 130, BLUE, 'before the tween');
    const p = await s.call('PATCH', '/stream/layers/v', {
      opacity: 0.5,
      transform: { x: 100 },
      transition: { durationMs: 1000, easing: 'linear' },
    });
    t.equal(p.status, 200);
    clock.set(500);
    const mid = await shot(52, 130, mix(BLUE, GRAY, 0.75));
    // Half way: x = 50, opacity 0.75 over the grey.
    near(t, mid, 52, 130, mix(BLUE, GRAY, 0.75), 'half way, inside the left edge');
    near(t, mid, 127, 130, mix(BLUE, GRAY, 0.75), 'half way, inside the right edge');
    near(t, mid, 47, 130, GRAY, 'half way, left of the picture');
    near(t, mid, 132, 130, GRAY, 'half way, right of the picture');
    near(t, mid, 90, 98, GRAY, 'above the picture');
    clock.set(1000);
    const end = await shot(140, 130, mix(BLUE, GRAY, 0.5));
    near(t, end, 140, 130, mix(BLUE, GRAY, 0.5), 'at the end: x = 100, opacity 0.5');
    near(t, end, 97, 130, GRAY, 'where it was');
    await s.call('DELETE', '/stream/layers/v');
    await s.call('DELETE', '/stream/layers/bg');
  });

  await t.test('live, a size tween restarts the decoder once, after the size has held still', async (t) => {
    await s.call('POST', '/stream/layers', {
      id: 'grow',
      transform: { x: 0, y: 0, width: 64, height: 48 },
      content: { type: 'video', src: 'assets/blue.mp4', fit: 'fill', loop: true },
    });
    await shot(32, 24, BLUE);
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    const pids = new Set<number>();
    const watch = setInterval(() => {
      const pid = s.app.pipeline.media.decoderPid('grow');
      if (pid) pids.add(pid);
    }, 10);
    t.teardown(() => clearInterval(watch));
    await new Promise((r) => setTimeout(r, 300));
    const r = await s.call('PATCH', '/stream/layers/grow', {
      transform: { width: 160, height: 120 },
      transition: { durationMs: 1000, easing: 'linear' },
    });
    t.equal(r.status, 200);
    // The new size shows once it held for 250 ms and the new decoder has its first picture (slower on a loaded machine).
    await new Promise((r) => setTimeout(r, 1000));
    const p = await snapshotUntil(s, (p) => pixelNear(p, 150, 110, BLUE, TOLERANCE), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(watch);
    t.equal(pids.size, 2, `one restart for the whole tween (decoders ${[...pids].join(', ')})`);
    near(t, p, 150, 110, BLUE, 'the picture at its new size');
    near(t, p, 170, 110, [0, 0, 0], 'and no further');
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
    await s.call('DELETE', '/stream/layers/grow');
  });

  const full = { x: 0, y: 0, width: 320, height: 240 };
  t.equal(
    (await s.call('PUT', '/stream/scenes/red', { layers: [{ id: 'bg', transform: full, content: { type: 'color', color: '#ff0000' } }] }))
      .status,
    200,
  );
  t.equal(
    (
      await s.call('PUT', '/stream/scenes/clip', {
        layers: [{ id: 'cam', transform: full, content: { type: 'video', src: 'assets/blue.mp4', fit: 'fill', loop: true } }],
      })
    ).status,
    200,
  );

  await t.test('crossfading into a scene with a video: the picture mixes in', async (t) => {
    clock.set(10_000);
    t.equal((await s.call('POST', '/stream/scenes/red/activate', {})).status, 200);
    near(t, await shot(160, 120, RED), 160, 120, RED, 'the red scene');
    const fade = await s.call('POST', '/stream/scenes/clip/activate', { transition: 'crossfade', durationMs: 1000, easing: 'linear' });
    t.equal(fade.status, 200, JSON.stringify(fade.body));
    clock.set(10_250);
    near(t, await shot(160, 120, mix(BLUE, RED, 0.25)), 160, 120, mix(BLUE, RED, 0.25), 'a quarter in');
    clock.set(10_500);
    near(t, await shot(160, 120, mix(BLUE, RED, 0.5)), 160, 120, mix(BLUE, RED, 0.5), 'half way');
    clock.set(11_100);
    near(t, await shot(160, 120, BLUE), 160, 120, BLUE, 'after the fade');
    t.equal(s.app.pipeline.media.status('cam')?.state, 'playing');
  });

  await t.test('crossfading out of it: its last picture mixes out', async (t) => {
    clock.set(12_000);
    const fade = await s.call('POST', '/stream/scenes/red/activate', { transition: 'crossfade', durationMs: 1000, easing: 'linear' });
    t.equal(fade.status, 200);
    t.equal(s.app.pipeline.media.status('cam'), undefined, 'the video layer is gone from the scene');
    clock.set(12_500);
    near(t, await shot(160, 120, mix(RED, BLUE, 0.5)), 160, 120, mix(RED, BLUE, 0.5), 'half way out');
    clock.set(12_750);
    near(t, await shot(160, 120, mix(RED, BLUE, 0.75)), 160, 120, mix(RED, BLUE, 0.75), 'three quarters out');
    clock.set(13_100);
    near(t, await shot(160, 120, RED), 160, 120, RED, 'after the fade');
  });
});
