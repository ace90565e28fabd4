import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import type { MediaStatus } from '../shared/media.js';
import { ffmpegChildren, makeClip, pixelNear, processAlive, snapshotUntil } from './helpers/media.js';
import { startServer, type Pixels } from './helpers/server.js';

/**
 * A video file as a layer (issue 29), pixel by pixel: a 5 s clip whose colour changes every
 * second, made at test time, snapshotted at chosen scene times (a ManualClock; the stream is not
 * live, so each snapshot is a frame at the clock's time).
 */

/** The clip's colours, one a second, as decoded (H.264 4:2:0 rounds a little). */
const COLOURS = ['red', 'lime', 'blue', 'yellow', 'magenta'];
const RGB: Record<string, number[]> = {
  red: [255, 0, 0],
  lime: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  magenta: [255, 0, 255],
  gray: [0x80, 0x80, 0x80],
};
const TOLERANCE = 6;

function near(t: Test, p: Pixels, x: number, y: number, colour: string, what: string): void {
  const got = p.at(x, y).slice(0, 3);
  const want = RGB[colour]!;
  const diff = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
  t.ok(diff <= TOLERANCE, `${what} at ${x},${y}: ${colour} [${want.join(',')}], got [${got.join(',')}]`);
}

t.test('a video file layer shows the clip at scene time', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-video-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeClip(join(root, 'assets', 'colours.mp4'), COLOURS);
  const clock = new ManualClock(0);
  const s = await startServer({ ASSET_ROOT: root }, { clock });
  let closed = false;
  t.teardown(() => (closed ? undefined : s.close()));
  const media = s.app.pipeline.media;
  /** A snapshot once the pixel at x,y is `colour` (or after 20 s: a picture still decoding on a loaded machine). */
  const shot = (x: number, y: number, colour: string): Promise<Pixels> =>
    snapshotUntil(s, (p) => pixelNear(p, x, y, RGB[colour]!, TOLERANCE));
  const ended: Array<[string, MediaStatus]> = [];
  media.onEnded((id, st) => ended.push([id, st]));

  // The rest of the scene: a grey backdrop the video sits on.
  t.equal((await s.call('POST', '/stream/layers', { id: 'bg', zIndex: -1, content: { type: 'color', color: '#808080' } })).status, 201);
  // A 16:9 clip contained in a 160x120 box at 100,60: 160x90 of picture, letterboxed 15 px above and below.
  const box = { x: 100, y: 60, width: 160, height: 120 };
  const res = await s.call('POST', '/stream/layers', { id: 'v', transform: box, content: { type: 'video', src: 'assets/colours.mp4' } });
  t.equal(res.status, 201, JSON.stringify(res.body));

  await t.test('each second shows its colour inside the picture, and the scene around it is untouched', async (t) => {
    for (const [i, c] of COLOURS.entries()) {
      clock.set(i * 1000 + 500);
      const p = await shot(180, 120, c);
      near(t, p, 180, 120, c, `t=${i * 1000 + 500}`);
      near(t, p, 101, 76, c, 'the picture top-left');
      near(t, p, 258, 164, c, 'the picture bottom-right');
      near(t, p, 180, 70, 'gray', 'the letterbox above (transparent)');
      near(t, p, 180, 170, 'gray', 'the letterbox below');
      near(t, p, 99, 120, 'gray', 'left of the box');
      near(t, p, 261, 120, 'gray', 'right of the box');
    }
    const st = media.status('v')!;
    t.match(st, { state: 'playing', durationMs: 5000, width: 320, height: 180, fps: 30, lastError: null });
  });

  await t.test('the colour changes at its frame, within one frame interval', async (t) => {
    // Frame 29 (966.7 ms) is the last red one, frame 30 (1000 ms) the first lime one.
    await s.call('DELETE', '/stream/layers/v');
    clock.set(10_000);
    t.equal(
      (await s.call('POST', '/stream/layers', { id: 'v', transform: box, content: { type: 'video', src: 'assets/colours.mp4' } })).status,
      201,
    );
    clock.set(10_990);
    near(t, await shot(180, 120, 'red'), 180, 120, 'red', 'at 990 ms');
    clock.set(11_000);
    near(t, await shot(180, 120, 'lime'), 180, 120, 'lime', 'at 1000 ms');
    clock.set(11_034);
    near(t, await shot(180, 120, 'lime'), 180, 120, 'lime', 'at 1034 ms');
  });

  await t.test('pause holds the picture; play goes on from there', async (t) => {
    clock.set(11_500);
    let st = media.control('v', { action: 'pause' });
    t.equal(st.state, 'paused');
    t.equal(st.positionMs, 1500);
    clock.set(14_000);
    near(t, await shot(180, 120, 'lime'), 180, 120, 'lime', 'paused 2.5 s later');
    t.equal(media.status('v')!.positionMs, 1500, 'the position stands');
    st = media.control('v', { action: 'play' });
    t.equal(st.state, 'playing');
    clock.set(14_400);
    near(t, await shot(180, 120, 'lime'), 180, 120, 'lime', '400 ms after play (position 1900)');
    clock.set(14_600);
    near(t, await shot(180, 120, 'blue'), 180, 120, 'blue', '600 ms after play (position 2100)');
  });

  await t.test('seek to 3500 ms shows the fourth colour', async (t) => {
    const st = media.control('v', { action: 'seek', positionMs: 3500 });
    t.equal(st.positionMs, 3500);
    near(t, await shot(180, 120, 'yellow'), 180, 120, 'yellow', 'after the seek');
    clock.set(15_200);
    near(t, await shot(180, 120, 'magenta'), 180, 120, 'magenta', '700 ms later (position 4200)');
  });

  await t.test('a non-looping clip ends once, with the event, and holds its last picture', async (t) => {
    t.equal(ended.length, 0, 'not ended yet');
    clock.set(16_500);
    const p = await shot(180, 120, 'magenta');
    near(t, p, 180, 120, 'magenta', 'held after the end');
    t.equal(media.status('v')!.state, 'ended');
    t.equal(media.status('v')!.positionMs, 5000);
    clock.set(17_500);
    near(t, await shot(180, 120, 'magenta'), 180, 120, 'magenta', 'still held');
    t.same(
      ended.map(([id, st]) => [id, st.state]),
      [['v', 'ended']],
      'one ended event',
    );
    // Play after the end starts again from startMs.
    media.control('v', { action: 'play' });
    near(t, await shot(180, 120, 'red'), 180, 120, 'red', 'played again from the start');
  });

  await t.test('a start past the end holds the last picture', async (t) => {
    clock.set(18_000);
    const r = await s.call('POST', '/stream/layers', {
      id: 'late',
      transform: { x: 280, y: 0, width: 32, height: 18 },
      content: { type: 'video', src: 'assets/colours.mp4', startMs: 86_400_000 },
    });
    t.equal(r.status, 201);
    near(t, await shot(296, 9, 'magenta'), 296, 9, 'magenta', 'the last picture');
    t.equal(media.status('late')!.state, 'ended', JSON.stringify(media.status('late')));
    t.equal((await s.call('DELETE', '/stream/layers/late')).status, 204);
  });

  await t.test('onEnd hide: the layer disappears at the end', async (t) => {
    clock.set(20_000);
    const r = await s.call('POST', '/stream/layers', {
      id: 'h',
      transform: { x: 0, y: 0, width: 64, height: 36 },
      content: { type: 'video', src: 'assets/colours.mp4', startMs: 4000, onEnd: 'hide' },
    });
    t.equal(r.status, 201);
    clock.set(20_500);
    near(t, await shot(32, 18, 'magenta'), 32, 18, 'magenta', 'before the end');
    clock.set(21_200);
    near(t, await shot(32, 18, 'gray'), 32, 18, 'gray', 'hidden after the end');
    t.equal(media.status('h')!.state, 'ended');
    t.ok(
      ended.some(([id]) => id === 'h'),
      'ended event for h',
    );
  });

  await t.test('loop wraps to the start', async (t) => {
    clock.set(30_000);
    const r = await s.call('POST', '/stream/layers', {
      id: 'l',
      transform: { x: 0, y: 200, width: 64, height: 36 },
      content: { type: 'video', src: 'assets/colours.mp4', loop: true },
    });
    t.equal(r.status, 201);
    for (const [at, c] of [
      [34_500, 'magenta'],
      [35_500, 'red'],
      [37_500, 'blue'],
      [40_500, 'red'],
    ] as const) {
      clock.set(at);
      near(t, await shot(32, 218, c), 32, 218, c, `loop at ${at - 30_000} ms`);
    }
    t.equal(media.status('l')!.positionMs, 500, 'the position folds into the file');
    t.notOk(
      ended.some(([id]) => id === 'l'),
      'a looping clip never ends',
    );
  });

  await t.test('a video layer may not rotate', async (t) => {
    const r = await s.call('POST', '/stream/layers', {
      id: 'r',
      transform: { x: 0, y: 0, rotation: 10 },
      content: { type: 'video', src: 'assets/colours.mp4' },
    });
    t.equal(r.status, 400);
    t.equal(r.body.error.code, 'SM_ERR_VALIDATION');
    t.equal(media.status('r'), undefined, 'no source made');
  });

  await t.test('deleting the layer ends its decoder; closing the server ends them all', async (t) => {
    const pid = media.decoderPid('l');
    t.ok(pid && processAlive(pid), 'the looping layer has a running ffmpeg');
    t.equal((await s.call('DELETE', '/stream/layers/l')).status, 204);
    const deadline = Date.now() + 3000;
    while (pid && processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.notOk(pid && processAlive(pid), `ffmpeg ${pid} is gone after the delete`);
    closed = true;
    await s.close();
    t.same(ffmpegChildren('colours.mp4').filter(processAlive), [], 'no decoder outlives the server');
  });
});
