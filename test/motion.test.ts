import t from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { easingFn } from '../orchestrator/motion/easing.js';
import { EASING_NAMES } from '../shared/animation.js';
import { connect } from './helpers/ws-client.js';
import { startServer, type Pixels } from './helpers/server.js';

/**
 * Tweens and show/hide transitions, rendered at chosen scene times with a ManualClock: the
 * stream is stopped, so every snapshot composites the scene at the clock's time (no sleeps).
 */

const RED = { type: 'color', color: '#ff0000' } as const;

/** The first and last column in row `y` whose red channel is above 128, or null. */
function redSpan(p: Pixels, y: number): [number, number] | null {
  let first = -1;
  let last = -1;
  for (let x = 0; x < p.width; x++) {
    if (p.at(x, y)[0]! > 128) {
      if (first < 0) first = x;
      last = x;
    }
  }
  return first < 0 ? null : [first, last];
}

t.test('easings: pinned ends, known midpoints, every name resolves', async (t) => {
  for (const name of EASING_NAMES) {
    const f = easingFn(name);
    t.equal(f(0), 0, `${name}(0)`);
    t.equal(f(1), 1, `${name}(1)`);
  }
  t.equal(easingFn('linear')(0.25), 0.25);
  t.equal(easingFn('ease-in-quad')(0.5), 0.25);
  t.equal(easingFn('ease-out-quad')(0.5), 0.75);
  t.ok(Math.abs(easingFn('ease-in-out')(0.5) - 0.5) < 1e-6, 'CSS ease-in-out is symmetric');
  t.ok(Math.abs(easingFn('ease')(0.5) - 0.8024) < 1e-3, 'CSS ease at 0.5 is about 0.8024');
  t.ok(easingFn('ease-out-back')(0.7) > 1, 'back overshoots');
  t.ok(Math.abs(easingFn('cubic-bezier(0, 0, 1, 1)')(0.3) - 0.3) < 1e-6, 'cubic-bezier(0,0,1,1) is linear');
});

t.test('a tween moves the layer on the frame clock: x=0 -> 100 over 1 s, linear, is at 50 at 0.5 s', async (t) => {
  const clock = new ManualClock(1000);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=layers`);
  t.teardown(() => ws.close());
  await s.call('POST', '/stream/layers', { id: 'box', transform: { x: 0, y: 70, width: 100, height: 100 }, content: RED });

  const res = await s.call('PATCH', '/stream/layers/box', { transform: { x: 100 }, transition: { durationMs: 1000, easing: 'linear' } });
  t.equal(res.status, 200);
  t.equal(res.body.transform.x, 100, 'the state holds the end value at once');
  t.notOk('transition' in res.body, 'the transition is not stored on the layer');
  const etag = res.headers.get('etag')!.replace(/"/g, '');

  t.same(redSpan(await s.snapshot(), 120), [0, 99], 'at the start: x = 0');
  clock.set(1500);
  const mid = redSpan(await s.snapshot(), 120)!;
  t.ok(Math.abs(mid[0] - 50) <= 1 && Math.abs(mid[1] - 149) <= 1, `at 0.5 s: x = 50 +-1 px (got ${mid[0]}..${mid[1]})`);
  clock.set(1750);
  t.same(redSpan(await s.snapshot(), 120), [75, 174], 'at 0.75 s: x = 75');
  clock.set(2000);
  t.same(redSpan(await s.snapshot(), 120), [100, 199], 'at the end: x = 100');
  const ended = await ws.next('animationEnded');
  t.same(
    ended.payload,
    { id: 'box', animation: etag, kind: 'tween', properties: ['x'], cancelled: false, atMs: 2000 },
    'animationEnded names the change by its ETag',
  );

  // A new tween on a moving value starts from where it is.
  await s.call('PATCH', '/stream/layers/box', { transform: { x: 0 }, transition: { durationMs: 1000 } });
  clock.set(2500);
  t.same(redSpan(await s.snapshot(), 120), [50, 149], 'going back: at 50 half way');
  await s.call('PATCH', '/stream/layers/box', { transform: { x: 200 }, transition: { durationMs: 1000, easing: 'linear' } });
  t.same(redSpan(await s.snapshot(), 120), [50, 149], 'retargeted mid-way: still at 50, no jump');
  const cancelled = await ws.next('animationEnded');
  t.equal(cancelled.payload.cancelled, true, 'the interrupted tween ends as cancelled');
  clock.set(3000);
  t.same(redSpan(await s.snapshot(), 120), [125, 224], 'from 50 to 200: at 125 half way');

  // A change without a transition jumps, and ends the running tween.
  await s.call('PATCH', '/stream/layers/box', { transform: { x: 10 } });
  t.same(redSpan(await s.snapshot(), 120), [10, 109], 'no transition: it jumps');
  t.equal((await ws.next('animationEnded')).payload.cancelled, true);

  // Size and opacity tween too; easing and delay apply.
  clock.set(10_000);
  await s.call('PATCH', '/stream/layers/box', {
    transform: { width: 200 },
    opacity: 0,
    transition: { durationMs: 1000, easing: 'ease-in-quad', delayMs: 500 },
  });
  clock.set(10_400);
  t.same(redSpan(await s.snapshot(), 120), [10, 109], 'during the delay nothing moves');
  clock.set(11_000);
  const shot = await s.snapshot();
  t.same(redSpan(shot, 120), [10, 134], 'ease-in-quad at half time: width 100 + 100 x 0.25 = 125');
  t.ok(Math.abs(shot.at(20, 120)[0]! - 191) <= 2, `opacity 1 - 0.25 = 0.75 -> red 191 (got ${shot.at(20, 120)[0]})`);
  clock.set(11_500);
  t.equal(redSpan(await s.snapshot(), 120), null, 'at the end: opacity 0, not drawn');
  const both = await ws.next('animationEnded');
  t.same(both.payload.properties, ['width', 'opacity']);

  // Bad transitions are refused and change nothing.
  for (const bad of [
    { durationMs: -1 },
    { durationMs: 100, easing: 'wobble' },
    { durationMs: 1e9 },
    { durationMs: 100, extra: 1 },
    'fast',
  ]) {
    const r = await s.call('PATCH', '/stream/layers/box', { transform: { x: 300 }, transition: bad });
    t.equal(r.status, 400, `refused: ${JSON.stringify(bad)}`);
  }
  t.equal((await s.call('GET', '/stream/layers/box')).body.transform.x, 10, 'the refusals changed nothing');
});

t.test('show and hide transitions: fade at half way is half opacity; slide from an edge; cut', async (t) => {
  const clock = new ManualClock(0);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=layers`);
  t.teardown(() => ws.close());
  await s.call('POST', '/stream/layers', {
    id: 'white',
    visible: false,
    transform: { x: 0, y: 0, width: 100, height: 100 },
    content: { type: 'color', color: '#ffffff' },
    transitions: { hide: { type: 'slide', edge: 'right', durationMs: 1000, easing: 'linear' } },
  });

  const show = await s.call('PATCH', '/stream/layers/white/visibility', {
    visible: true,
    transition: { type: 'fade', durationMs: 1000, easing: 'linear' },
  });
  t.equal(show.status, 200);
  t.equal(show.body.visible, true);
  t.same((await s.snapshot()).at(50, 50).slice(0, 3), [0, 0, 0], 'at the start of the fade: not yet visible');
  clock.set(500);
  const half = (await s.snapshot()).at(50, 50);
  t.ok(Math.abs(half[0]! - 127.5) <= 2, `half way through the fade: 255 x 0.5 +-2 (got ${half[0]})`);
  clock.set(250);
  const quarter = (await s.snapshot()).at(50, 50);
  t.ok(Math.abs(quarter[0]! - 63.75) <= 2, `a quarter: 255 x 0.25 +-2 (got ${quarter[0]})`);
  clock.set(1000);
  t.same((await s.snapshot()).at(50, 50).slice(0, 3), [255, 255, 255], 'shown');
  t.equal((await ws.next('animationEnded')).payload.kind, 'show');

  // The layer's default hide transition: slide out to the right, one frame width.
  const hide = await s.call('PATCH', '/stream/layers/white/visibility', { visible: false });
  t.equal(hide.body.visible, false, 'the state says hidden at once');
  clock.set(1500);
  const out = await s.snapshot();
  t.same(out.at(50, 50).slice(0, 3), [0, 0, 0], 'half way: gone from x=0..99');
  t.same(out.at(165, 50).slice(0, 3), [255, 255, 255], 'half way: moved right by 160 px');
  t.same(out.at(255, 50).slice(0, 3), [255, 255, 255]);
  t.same(out.at(265, 50).slice(0, 3), [0, 0, 0]);
  clock.set(2000);
  t.same((await s.snapshot()).at(300, 50).slice(0, 3), [0, 0, 0], 'at the end: not drawn');
  t.equal((await ws.next('animationEnded')).payload.kind, 'hide');

  // Slide in from the top, reversed half way by a hide: it goes back from where it is.
  await s.call('POST', '/stream/layers/white/visibility', {
    visible: true,
    transition: { type: 'slide', edge: 'top', durationMs: 1000, easing: 'linear' },
  });
  clock.set(2500);
  let shot = await s.snapshot();
  t.same(shot.at(50, 10).slice(0, 3), [0, 0, 0], 'from the top, half way: 120 px up');
  t.equal(shot.at(50, 120).slice(0, 3)[0], 0);
  await s.call('POST', '/stream/layers/white/visibility', {
    visible: false,
    transition: { type: 'fade', durationMs: 1000, easing: 'linear' },
  });
  t.equal((await ws.next('animationEnded')).payload.cancelled, true, 'the slide was cut short');
  clock.set(3000);
  shot = await s.snapshot();
  t.ok(Math.abs(shot.at(50, 50)[0]! - 64) <= 3, `fading out from half shown: 255 x 0.25 at half time (got ${shot.at(50, 50)[0]})`);

  // A cut is at once.
  clock.set(5000);
  await s.call('POST', '/stream/layers/white/visibility', { visible: true, transition: { type: 'cut' } });
  t.same((await s.snapshot()).at(50, 50).slice(0, 3), [255, 255, 255], 'cut: shown at once');
  const bad = await s.call('POST', '/stream/layers/white/visibility', { visible: false, transition: { type: 'dissolve' } });
  t.equal(bad.status, 400);
  t.equal((await s.call('GET', '/stream/layers/white')).body.visible, true, 'refused: unchanged');
});

t.test('a batch of tweens starts on one frame', async (t) => {
  const clock = new ManualClock(0);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/layers', { id: 'a', transform: { x: 0, y: 0, width: 50, height: 50 }, content: RED });
  await s.call('POST', '/stream/layers', { id: 'b', transform: { x: 0, y: 100, width: 50, height: 50 }, content: RED });
  const r = await s.call('POST', '/stream/batch', {
    ops: [
      { op: 'patch', id: 'a', patch: { transform: { x: 200 }, transition: { durationMs: 1000 } } },
      { op: 'patch', id: 'b', patch: { transform: { x: 200 }, transition: { durationMs: 1000 } } },
    ],
  });
  t.equal(r.status, 200);
  clock.set(500);
  const shot = await s.snapshot();
  t.same(redSpan(shot, 25), [100, 149]);
  t.same(redSpan(shot, 125), [100, 149], 'both layers are at the same point of their tween');
});
