import sharp from 'sharp';
import t from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { cleanChatText } from '../shared/chat.js';
import { connect } from './helpers/ws-client.js';
import { startServer, type Pixels } from './helpers/server.js';

/** The chat overlay (`POST /stream/chat`) and the host's animations, at chosen scene times. */

/** Pixels in a region brighter than 100 in some channel. */
function lit(p: Pixels, x0: number, y0: number, w: number, h: number): number {
  let n = 0;
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (Math.max(...p.at(x, y).slice(0, 3)) > 100) n++;
  return n;
}

/** Mean absolute difference of two same-size regions of one image, per channel. */
function regionDiff(p: Pixels, ax: number, bx: number, y0: number, w: number, h: number): number {
  let sum = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = 0; x < w; x++) {
      const a = p.at(ax + x, y);
      const b = p.at(bx + x, y);
      for (let c = 0; c < 3; c++) sum += Math.abs(a[c]! - b[c]!);
    }
  }
  return sum / (w * h * 3);
}

t.test('chat text is cleaned of control characters', async (t) => {
  t.equal(cleanChatText('  hi\u0007 there\n\tyou  '), 'hi there you');
  t.equal(cleanChatText('a\u202Eevil'), 'a evil', 'bidi overrides are removed');
  t.equal(cleanChatText('🎉 ok'), '🎉 ok', 'emoji stay');
});

t.test('a chat message appears in the chat layer, fades after its TTL, and goes to WS chat subscribers', async (t) => {
  const clock = new ManualClock(10_000);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  const chatWs = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=chat`);
  t.teardown(() => chatWs.close());
  const created = await s.call('POST', '/stream/layers', {
    id: 'chat',
    transform: { x: 0, y: 0 },
    content: {
      type: 'chat',
      maxMessages: 4,
      ttlMs: 5000,
      fadeMs: 1000,
      width: 320,
      style: { font: 'Arial', fontSize: 20, color: '#ffffff' },
      userColor: '#ffcc00',
    },
  });
  t.equal(created.status, 201);
  t.equal(lit(await s.snapshot(), 0, 0, 320, 170), 0, 'no messages: nothing drawn');

  const posted = await s.call('POST', '/stream/chat', { user: 'ada', text: 'bid\u0007 two\nETH!' });
  t.equal(posted.status, 201);
  t.equal(posted.body.text, 'bid two ETH!', 'control characters stripped');
  const ws = await chatWs.next('chat');
  t.same(
    { user: ws.payload.user, text: ws.payload.text, id: ws.payload.id },
    { user: 'ada', text: 'bid two ETH!', id: posted.body.id },
    'WS chat subscribers get it',
  );

  clock.set(10_100);
  let shot = await s.snapshot();
  const shown = lit(shot, 0, 0, 320, 170);
  t.ok(shown > 100, `the message is in the chat layer's pixels (${shown} lit pixels)`);
  t.ok(lit(shot, 0, 125, 320, 40) > 50, 'newest message at the bottom of the box (4 messages of 20 px type: 163 px high)');
  t.ok(shot.at(0, 0) && lit(shot, 0, 0, 320, 60) === 0, 'the top of the box is still empty');

  clock.set(15_500);
  shot = await s.snapshot();
  const fading = lit(shot, 0, 0, 320, 170);
  t.ok(fading < shown && fading > 0, `half way through the fade: dimmer (${fading} lit of ${shown})`);
  clock.set(16_000);
  t.equal(lit(await s.snapshot(), 0, 0, 320, 170), 0, 'after TTL + fade: gone');
  t.equal((await s.call('GET', '/stream/chat')).body.messages.length, 1, 'GET /stream/chat still lists it');

  // Newest N only.
  for (let i = 0; i < 6; i++) await s.call('POST', '/stream/chat', { user: `u${i}`, text: `message ${i}` });
  clock.set(16_100);
  t.ok(lit(await s.snapshot(), 0, 0, 320, 170) > 200, 'the newest messages fill the box');

  for (const bad of [
    { user: 'a', text: '' },
    { user: 'a', text: '\u0007\u0008' },
    { user: '', text: 'x' },
    { user: 'a', text: 'x'.repeat(281) },
    { user: 'x'.repeat(33), text: 'x' },
    { user: 'a', text: 'x', extra: 1 },
    { text: 'x' },
  ]) {
    const r = await s.call('POST', '/stream/chat', bad);
    t.equal(r.status, 400, `refused: ${JSON.stringify(bad).slice(0, 40)}`);
    t.equal(r.body.error.code, 'SM_ERR_VALIDATION');
  }
  t.equal((await s.call('GET', '/stream/chat')).body.messages.length, 7, 'the refusals stored nothing');
});

t.test('the host talks for durationMs, looks different from idle, then goes back to idle', async (t) => {
  const clock = new ManualClock(0);
  const s = await startServer({ WIDTH: '640', HEIGHT: '320' }, { clock });
  t.teardown(() => s.close());
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=layers`);
  t.teardown(() => ws.close());
  const host = (id: string, x: number) => ({
    id,
    transform: { x, y: 0, width: 240 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      animation: 'idle',
    },
  });
  t.equal((await s.call('POST', '/stream/layers', host('a', 0))).status, 201);
  t.equal((await s.call('POST', '/stream/layers', host('b', 320))).status, 201);
  clock.set(1000);
  t.equal(regionDiff(await s.snapshot(), 0, 320, 0, 240, 312), 0, 'two idle hosts look the same at the same time');

  const r = await s.call('POST', '/stream/layers/a/animation', { name: 'talking', durationMs: 2000 });
  t.equal(r.status, 200);
  t.equal(r.body.content.animation, 'talking');
  let differs = 0;
  for (const at of [1100, 1300, 1500, 1700, 1900, 2400, 2900]) {
    clock.set(at);
    if (regionDiff(await s.snapshot(), 0, 320, 0, 240, 312) > 0.5) differs++;
  }
  t.ok(differs >= 6, `the talking host differs from the idle one in ${differs} of 7 frames`);
  clock.set(3000);
  t.equal(regionDiff(await s.snapshot(), 0, 320, 0, 240, 312), 0, 'after durationMs it is idle again: same pixels as the idle host');
  const ended = await ws.next('animationEnded');
  t.same(
    { id: ended.payload.id, kind: ended.payload.kind, cancelled: ended.payload.cancelled },
    { id: 'a', kind: 'animation', cancelled: false },
  );
  t.equal((await s.call('GET', '/stream/layers/a')).body.content.animation, 'idle', 'the state says idle again');

  t.equal((await s.call('POST', '/stream/layers/a/animation', { name: 'dance' })).status, 400);
  await s.call('POST', '/stream/layers', {
    id: 'txt',
    content: { type: 'text', content: 'x', style: { font: 'Arial', fontSize: 10, color: '#fff' } },
  });
  const notHost = await s.call('POST', '/stream/layers/txt/animation', { name: 'talking' });
  t.equal(notHost.status, 400, 'only character layers have animations');
  t.equal((await s.call('POST', '/stream/layers/none/animation', { name: 'talking' })).status, 404);
  // Without durationMs it keeps talking.
  await s.call('POST', '/stream/layers/a/animation', { name: 'talking' });
  clock.set(60_000);
  await s.snapshot();
  t.equal((await s.call('GET', '/stream/layers/a')).body.content.animation, 'talking', 'no durationMs: talks until told otherwise');
});

t.test('a host drawn from sprite sheets: talking plays its frames, then idle again', async (t) => {
  const clock = new ManualClock(1000);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  const upload = async (bytes: Buffer, name: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
    const res = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form });
    t.equal(res.status, 201, `uploaded ${name}`);
    return ((await res.json()) as { id: string }).id;
  };
  const solid = (r: number, g: number, b: number) =>
    sharp({ create: { width: 40, height: 40, channels: 4, background: { r, g, b, alpha: 1 } } })
      .png()
      .toBuffer();
  // Talking: frame 0 red, frame 1 green, side by side; idle: one blue frame.
  const talking = await sharp({ create: { width: 80, height: 40, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } })
    .composite([{ input: await solid(0, 255, 0), left: 40, top: 0 }])
    .png()
    .toBuffer();
  const talkId = await upload(talking, 'talk.png');
  const idleId = await upload(await solid(0, 0, 255), 'idle.png');
  const created = await s.call('POST', '/stream/layers', {
    id: 'host',
    transform: { x: 0, y: 0, width: 80, height: 80 },
    content: {
      type: 'character',
      modelUrl: idleId,
      animations: { idle: 'idle', talking: 'talking' },
      sprites: {
        idle: { src: idleId, frameWidth: 40, frameHeight: 40, frames: 1 },
        talking: { src: talkId, frameWidth: 40, frameHeight: 40, frames: 2, fps: 10 },
      },
    },
  });
  t.equal(created.status, 201);
  t.same((await s.snapshot()).at(40, 40).slice(0, 3), [0, 0, 255], 'idle: the idle sheet');
  await s.call('POST', '/stream/layers/host/animation', { name: 'talking', durationMs: 1000 });
  const seen: string[] = [];
  for (const at of [1000, 1100, 1200, 1300]) {
    clock.set(at);
    seen.push((await s.snapshot()).at(40, 40).slice(0, 3).join(','));
  }
  t.same(seen, ['255,0,0', '0,255,0', '255,0,0', '0,255,0'], 'talking: frames 0,1,0,1 at 10 fps');
  clock.set(2000);
  t.same((await s.snapshot()).at(40, 40).slice(0, 3), [0, 0, 255], 'after durationMs: idle');
  const missing = await s.call('PATCH', '/stream/layers/host', {
    content: { sprites: { talking: { src: 'f'.repeat(64), frameWidth: 40, frameHeight: 40, frames: 2 } } },
  });
  t.equal(missing.status, 400, 'a sprite sheet that is not an uploaded asset is refused');
  t.equal((await s.call('DELETE', `/stream/assets/${talkId}`)).status, 409, 'a sheet in use cannot be deleted');
});
