import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeClip } from './helpers/media.js';
import { watchSpawns } from './helpers/processes.js';
import { startServer, type TestServer } from './helpers/server.js';
import { connect, type WsClient } from './helpers/ws-client.js';

/**
 * Issue 29's control surface on a real server with real decoders: `POST /stream/layers/:id/media`
 * (validation, what it stores, what it only does to the transport), the read-only `media` in
 * answers and WS events (a layer read can be written back), the batch's `media` op, `mediaUpdate`
 * and `mediaEnded` on the socket, and a scene activation starting its videos at `startMs`.
 * Clips are made with ffmpeg's lavfi `color` source at test time.
 */

/** A 2 s clip: 1 s red, 1 s blue, 160x90 at 15 fps. */
const CLIP = 'assets/clip.mp4';
/** A 4 s clip: red, green, blue, white, for positions. */
const LONG = 'assets/long.mp4';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Media {
  state: string;
  positionMs: number;
  durationMs: number | null;
  width: number;
  height: number;
  fps: number;
  lastError: string | null;
}

async function media(s: TestServer, id: string): Promise<Media> {
  return (await s.call('GET', `/stream/layers/${id}`)).body.media as Media;
}

/** Polls `GET /stream/layers/:id` until its media passes `ok` (or throws after `timeoutMs`). */
async function until(s: TestServer, id: string, what: string, ok: (m: Media) => boolean, timeoutMs = 8000): Promise<Media> {
  const t0 = Date.now();
  for (;;) {
    const m = await media(s, id);
    if (ok(m)) return m;
    if (Date.now() - t0 > timeoutMs) throw new Error(`layer ${id}: no ${what} within ${timeoutMs} ms (last ${JSON.stringify(m)})`);
    await sleep(50);
  }
}

/** Messages of `type` for `layerId` that arrive within `ms`. */
async function collect(c: WsClient, type: string, layerId: string, ms: number): Promise<any[]> {
  const got: any[] = [];
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return got;
    try {
      const m = await c.next(type, left);
      if (m.payload.layerId === layerId) got.push(m);
    } catch {
      return got;
    }
  }
}

const root = mkdtempSync(join(tmpdir(), 'sm-video-control-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'assets'));
await Promise.all([
  makeClip(join(root, CLIP), ['red', 'blue'], { width: 160, height: 90, fps: 15 }),
  makeClip(join(root, LONG), ['red', 'green', 'blue', 'white'], { width: 160, height: 90, fps: 15 }),
]);
const s = await startServer({ ASSET_ROOT: root });
t.teardown(() => s.close());
const video = (src: string, more: object = {}): object => ({ type: 'video', src, ...more });
const box = { x: 0, y: 0, width: 160, height: 90 };

t.test('POST /layers/:id/media: errors, and a refused action changes nothing', async (t) => {
  t.equal((await s.call('POST', '/stream/layers', { id: 'col', content: { type: 'color', color: '#00ff00' } })).status, 201);
  t.equal((await s.call('POST', '/stream/layers', { id: 'v1', transform: box, content: video(LONG, { loop: true }) })).status, 201);
  t.teardown(async () => {
    await s.call('DELETE', '/stream/layers/col');
    await s.call('DELETE', '/stream/layers/v1');
  });
  const missing = await s.call('POST', '/stream/layers/nope/media', { action: 'play' });
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'SM_ERR_LAYER_NOT_FOUND');
  const colour = await s.call('POST', '/stream/layers/col/media', { action: 'play' });
  t.equal(colour.status, 400, 'a colour layer has no transport');
  t.equal(colour.body.error.code, 'SM_ERR_VALIDATION');
  t.match(colour.body.error.message, /color layer; only video and audio layers/);

  const before = await s.call('GET', '/stream/layers/v1');
  const bad: unknown[] = [
    {},
    { action: 'jump' },
    { action: 'seek' },
    { action: 'seek', positionMs: -1 },
    { action: 'seek', positionMs: 1.5 },
    { action: 'seek', positionMs: 86_400_001 },
    { action: 'seek', positionMs: '1000' },
    { action: 'play', extra: 1 },
    { action: 'PLAY' },
    [],
    'play',
    null,
    42,
  ];
  for (const body of bad) {
    const res = await s.call('POST', '/stream/layers/v1/media', JSON.stringify(body), { 'content-type': 'application/json' });
    t.equal(res.status, 400, `${JSON.stringify(body)}: 400`);
    // JSON that is not an object or array is refused by the body parser (strict JSON) before the route.
    const code = typeof body === 'object' && body !== null ? 'SM_ERR_VALIDATION' : 'SM_ERR_INVALID_JSON';
    t.equal(res.body?.error?.code, code, `${JSON.stringify(body)}: ${code}`);
  }
  const notJson = await s.call('POST', '/stream/layers/v1/media', '{"action":', { 'content-type': 'application/json' });
  t.equal(notJson.status, 400, 'not JSON: 400');
  const stale = await s.call('POST', '/stream/layers/v1/media', { action: 'pause' }, { 'if-match': '"1"' });
  t.equal(stale.status, 412, 'a stale If-Match: 412');
  const after = await s.call('GET', '/stream/layers/v1');
  t.equal(after.headers.get('etag'), before.headers.get('etag'), 'no refused action made a revision');
  t.equal(after.body.content.playing, true, 'still playing');

  const liveLayer = await s.call('POST', '/stream/layers', { id: 'feed', content: video('rtmp://127.0.0.1:9/live/none') });
  t.equal(liveLayer.status, 201);
  const seekLive = await s.call('POST', '/stream/layers/feed/media', { action: 'seek', positionMs: 1000 });
  t.equal(seekLive.status, 400, 'a live feed does not seek');
  t.match(seekLive.body.error.message, /live feed/);
  t.equal((await s.call('DELETE', '/stream/layers/feed')).status, 204);

  const alias = await s.call('POST', '/api/stream/layers/v1/media', { action: 'restart' });
  t.equal(alias.status, 200, 'also under /api/stream');
});

t.test('play and pause are stored; seek and restart are transport only; every answer carries media', async (t) => {
  const created = await s.call('POST', '/stream/layers', { id: 'v2', transform: box, content: video(LONG, { loop: true, startMs: 500 }) });
  t.equal(created.status, 201);
  t.teardown(() => s.call('DELETE', '/stream/layers/v2'));
  t.ok(['loading', 'playing'].includes(created.body.media.state), `the create answer carries media (${created.body.media.state})`);
  const playing = await until(s, 'v2', 'playing', (m) => m.state === 'playing' && m.durationMs !== null);
  t.equal(playing.durationMs, 4000, 'duration from the probe, ms');
  t.same([playing.width, playing.height, playing.fps], [160, 90, 15], 'picture size and fps of the source');
  t.equal(playing.lastError, null);

  const etag0 = (await s.call('GET', '/stream/layers/v2')).headers.get('etag');
  const paused = await s.call('POST', '/stream/layers/v2/media', { action: 'pause' }, { 'if-match': etag0! });
  t.equal(paused.status, 200, 'pause with a current If-Match');
  t.equal(paused.body.content.playing, false, 'content.playing stored false');
  t.equal(paused.body.media.state, 'paused', 'the answer says paused');
  t.not(paused.headers.get('etag'), etag0, 'a new revision');
  const held = paused.body.media.positionMs;
  await sleep(600);
  const still = await media(s, 'v2');
  t.equal(still.state, 'paused');
  t.ok(Math.abs(still.positionMs - held) <= 1, `the position holds while paused (${held} -> ${still.positionMs} ms)`);
  const again = await s.call('POST', '/stream/layers/v2/media', { action: 'pause' });
  t.equal(again.headers.get('etag'), paused.headers.get('etag'), 'pausing a paused layer makes no revision');

  const etag1 = paused.headers.get('etag');
  // A seek point far from where it paused (the clip is 4 s and loops).
  const target = held < 1800 ? 2900 : 300;
  const seek = await s.call('POST', '/stream/layers/v2/media', { action: 'seek', positionMs: target });
  t.equal(seek.status, 200);
  t.equal(seek.headers.get('etag'), etag1, 'seek makes no revision');
  t.equal(seek.body.content.playing, false, 'and stores nothing');
  t.ok(Math.abs(seek.body.media.positionMs - target) <= 100, `position after seek ${seek.body.media.positionMs} ms`);
  // A seek is a new decoder run: loading until its first picture, then as the transport was.
  const sought = await until(s, 'v2', 'paused at the seek point', (m) => m.state === 'paused');
  t.ok(Math.abs(sought.positionMs - target) <= 100, `paused at ${sought.positionMs} ms`);

  const play = await s.call('POST', '/stream/layers/v2/media', { action: 'play' });
  t.equal(play.body.content.playing, true, 'content.playing stored true');
  t.not(play.headers.get('etag'), etag1, 'a new revision');
  const moved = await until(s, 'v2', 'the position to move on', (m) => m.state === 'playing' && m.positionMs > target + 50);
  t.ok(
    moved.positionMs < target + 1000,
    `plays on from the seek point (${target} ms), not from where it paused (${held} ms): at ${moved.positionMs} ms`,
  );

  const restart = await s.call('POST', '/stream/layers/v2/media', { action: 'restart' });
  t.equal(restart.status, 200);
  t.ok(
    restart.body.media.positionMs >= 500 && restart.body.media.positionMs < 800,
    `restart goes to startMs (${restart.body.media.positionMs} ms)`,
  );
  t.equal(restart.headers.get('etag'), play.headers.get('etag'), 'restart makes no revision');
  await until(s, 'v2', 'playing again', (m) => m.state === 'playing');

  // Every answer with the layer: list, one, scene document, PATCH.
  const list = (await s.call('GET', '/stream/layers')).body.layers.find((l: { id: string }) => l.id === 'v2');
  t.equal(list.media.state, 'playing', 'GET /layers');
  t.equal(
    (await s.call('GET', '/stream/scene')).body.layers.find((l: { id: string }) => l.id === 'v2').media.state,
    'playing',
    'GET /scene',
  );
  t.equal((await s.call('PATCH', '/stream/layers/v2', { name: 'Lot 42' })).body.media.state, 'playing', 'PATCH answer');
});

t.test('a layer read with its media can be written back; media is never stored', async (t) => {
  t.equal((await s.call('POST', '/stream/layers', { id: 'v3', transform: box, content: video(CLIP, { loop: true }) })).status, 201);
  t.teardown(() => s.call('DELETE', '/stream/layers/v3'));
  await until(s, 'v3', 'a status', (m) => m.state === 'playing');
  const read = (await s.call('GET', '/stream/layers/v3')).body;
  t.ok(read.media, 'GET has media');
  const put = await s.call('PUT', '/stream/layers/v3', { ...read, name: 'written back' });
  t.equal(put.status, 200, `PUT of the GET body: ${JSON.stringify(put.body.error ?? '')}`);
  t.equal(put.body.name, 'written back');
  t.ok(put.body.media, 'the answer has media again (read-only, from the source)');
  const patch = await s.call('PATCH', '/stream/layers/v3', { media: { state: 'ended' }, opacity: 0.5 });
  t.equal(patch.status, 200, 'a PATCH naming media is accepted, media ignored');
  t.equal(patch.body.media.state, 'playing', 'a client cannot set media');
  const batch = await s.call('POST', '/stream/batch', { ops: [{ op: 'replace', id: 'v3', layer: { ...read, opacity: 0.25 } }] });
  t.equal(batch.status, 200, 'a batch replace with media');
  const doc = (await s.call('GET', '/stream/scene')).body;
  const putScene = await s.call('PUT', '/stream/scene', doc);
  t.equal(putScene.status, 200, `PUT /scene of the GET document: ${JSON.stringify(putScene.body.error ?? '')}`);
  const saved = await s.call('PUT', '/stream/scenes/written-back', { layers: (await s.call('GET', '/stream/layers')).body.layers });
  t.equal(saved.status, 200, 'a saved scene from GET /layers');
  t.notOk(
    saved.body.layers.some((l: object) => 'media' in l),
    'the saved scene holds no media',
  );
  const stored = s.app.state.document();
  t.notOk(JSON.stringify(stored).includes('"media"'), 'the persisted document holds no media');
  t.equal((await s.call('DELETE', '/stream/scenes/written-back')).status, 204);
});

t.test('batch: media ops with the others, all or nothing', async (t) => {
  t.equal((await s.call('POST', '/stream/layers', { id: 'col', content: { type: 'color', color: '#00ff00' } })).status, 201);
  t.teardown(async () => {
    await s.call('DELETE', '/stream/layers/col');
    await s.call('DELETE', '/stream/layers/v4');
  });
  const ok = await s.call('POST', '/stream/batch', {
    ops: [
      { op: 'create', layer: { id: 'v4', transform: box, content: video(LONG, { loop: true }) } },
      { op: 'media', id: 'v4', action: 'seek', positionMs: 3000 },
      { op: 'media', id: 'v4', action: 'pause' },
      { op: 'patch', id: 'col', patch: { opacity: 0.5 } },
    ],
  });
  t.equal(ok.status, 200, `batch: ${JSON.stringify(ok.body.error ?? '')}`);
  t.equal(ok.body.results.length, 4);
  t.equal(ok.body.results[2].content.playing, false, 'the pause op stored playing: false');
  const m = await until(s, 'v4', 'paused at the seek point', (x) => x.state === 'paused');
  t.ok(Math.abs(m.positionMs - 3000) <= 100, `created, sought and paused in one batch: ${m.state} at ${m.positionMs} ms`);
  t.ok(['loading', 'paused'].includes(ok.body.results[2].media.state), `the op result carries media (${ok.body.results[2].media.state})`);

  // Many seeks of one layer in one batch: one frame would show only the last, so one decoder starts.
  const watch = watchSpawns();
  t.teardown(() => watch.stop());
  const seeks = Array.from({ length: 60 }, (_, i) => ({ op: 'media', id: 'v4', action: 'seek', positionMs: 100 + i * 50 }));
  const many = await s.call('POST', '/stream/batch', {
    ops: [...seeks, { op: 'media', id: 'v4', action: 'play' }, { op: 'media', id: 'v4', action: 'pause' }],
  });
  t.equal(many.status, 200);
  const readers = watch.spawned.filter((c) => c.startsWith('run ') && c.includes('long.mp4'));
  watch.stop();
  t.equal(readers.length, 1, `60 seeks in a batch started ${readers.length} decoder run`);
  const last = await until(s, 'v4', 'paused at the last seek', (x) => x.state === 'paused');
  t.ok(Math.abs(last.positionMs - 3050) <= 100, `at the last seek's position (${last.positionMs} ms), paused as the last op says`);

  const before = (await s.call('GET', '/stream/layers/col')).body.opacity;
  const refused = [
    [{ op: 'media', id: 'col', action: 'play' }],
    [{ op: 'media', id: 'v4', action: 'seek' }],
    [{ op: 'media', id: 'v4', action: 'rewind' }],
    [{ op: 'media', id: 'nope', action: 'play' }],
    [{ op: 'media', id: 'v4', action: 'play', extra: true }],
  ];
  for (const tail of refused) {
    const res = await s.call('POST', '/stream/batch', {
      ops: [{ op: 'patch', id: 'col', patch: { opacity: 0.9 } }, { op: 'media', id: 'v4', action: 'play' }, ...tail],
    });
    t.ok(res.status === 400 || res.status === 404, `${JSON.stringify(tail)}: ${res.status} ${res.body.error?.code}`);
  }
  t.equal((await s.call('GET', '/stream/layers/col')).body.opacity, before, 'the other ops of a refused batch did not apply');
  const still = (await s.call('GET', '/stream/layers/v4')).body;
  t.equal(still.content.playing, false, 'nor its play op');
  t.equal(still.media.state, 'paused', 'and the source was not touched');
});

t.test('WebSocket: mediaUpdate on each change, not as it plays; mediaEnded once at the end', async (t) => {
  const c = await connect(`ws://127.0.0.1:${s.app.wsPort}/?target=layers`);
  t.teardown(() => c.close());
  await s.call('POST', '/stream/layers', { id: 'v5', transform: box, content: video(LONG, { loop: true }) });
  t.teardown(() => s.call('DELETE', '/stream/layers/v5'));
  const added = await c.next('layerUpdate');
  t.equal(added.payload.layer.media.state === undefined, false, 'layerUpdate carries media');
  let up = await c.next('mediaUpdate');
  while (up.payload.media.state !== 'playing') up = await c.next('mediaUpdate');
  t.equal(up.payload.layerId, 'v5');
  // Playing: the position moves, but no message says so (a real change, e.g. stalled on a loaded
  // machine, would be one; a message repeating the state is not).
  // What a message reports but the position (a probe's duration, size or rate arriving later, on
  // a loaded machine after the first `playing`, is news; the same report again is not).
  const report = (media: Record<string, unknown>): string => JSON.stringify({ ...media, positionMs: undefined });
  const reports = [report(up.payload.media), ...(await collect(c, 'mediaUpdate', 'v5', 1500)).map((m) => report(m.payload.media))];
  t.same(
    reports.filter((r, i) => i > 0 && r === reports[i - 1]),
    [],
    `no mediaUpdate for 1.5 s of playing but changes (${reports.join(' -> ')})`,
  );
  await s.call('POST', '/stream/layers/v5/media', { action: 'pause' });
  const p = await c.next('mediaUpdate');
  t.equal(p.payload.layerId, 'v5');
  t.equal(p.payload.media.state, 'paused', 'pause: mediaUpdate paused');
  await s.call('POST', '/stream/layers/v5/media', { action: 'seek', positionMs: 1000 });
  const sk = await c.next('mediaUpdate');
  t.ok(
    Math.abs(sk.payload.media.positionMs - 1000) <= 100,
    `seek: mediaUpdate at ${sk.payload.media.positionMs} ms (${sk.payload.media.state})`,
  );
  let settled = sk;
  while (settled.payload.media.state !== 'paused') settled = await c.next('mediaUpdate');
  t.pass('then paused again once the new position has its picture');
  await s.call('POST', '/stream/layers/v5/media', { action: 'play' });
  const pl = await c.next('mediaUpdate');
  t.equal(pl.payload.media.state, 'playing', 'play: mediaUpdate playing');

  // A 2 s clip that does not loop: one mediaEnded, after a mediaUpdate saying ended.
  const t0 = Date.now();
  await s.call('POST', '/stream/layers', { id: 'end', transform: box, content: video(CLIP, { onEnd: 'hold' }) });
  t.teardown(() => s.call('DELETE', '/stream/layers/end'));
  const ended = await c.next('mediaEnded', 10_000);
  const at = Date.now() - t0;
  t.equal(ended.payload.layerId, 'end');
  t.equal(ended.payload.media.state, 'ended');
  t.ok(at >= 1800 && at < 10_000, `mediaEnded ${at} ms after the 2 s clip was added`);
  const updates = await collect(c, 'mediaUpdate', 'end', 100);
  t.ok(
    updates.some((m) => m.payload.media.state === 'ended'),
    'a mediaUpdate said ended first',
  );
  t.same(await collect(c, 'mediaEnded', 'end', 1500), [], 'mediaEnded only once');
  t.equal((await media(s, 'end')).state, 'ended', 'GET says ended');
  // play after the end starts it again: a new end, a new mediaEnded.
  await s.call('POST', '/stream/layers/end/media', { action: 'play' });
  t.equal((await c.next('mediaEnded', 10_000)).payload.layerId, 'end', 'play after the end: it plays and ends again');
});

t.test('activating a saved scene starts its videos at startMs, also with a crossfade', async (t) => {
  // Paused, so that the position says where the file was started, however long its decoder takes to start.
  const layer = { id: 'sv', transform: box, content: video(LONG, { loop: true, startMs: 2000, playing: false }) };
  t.equal((await s.call('PUT', '/stream/scenes/with-video', { layers: [layer] })).status, 200);
  t.teardown(async () => {
    await s.call('DELETE', '/stream/scenes/with-video');
    await s.call('PUT', '/stream/scene', { canvas: (await s.call('GET', '/stream/scene')).body.canvas, layers: [] });
  });
  const cut = await s.call('POST', '/stream/scenes/with-video/activate', {});
  t.equal(cut.status, 200);
  t.ok(cut.body.layers[0].media, 'the activation answer carries media');
  const first = await until(s, 'sv', 'paused', (m) => m.state === 'paused');
  t.ok(Math.abs(first.positionMs - 2000) <= 100, `cut: started at startMs (${first.positionMs} ms)`);
  await s.call('POST', '/stream/layers/sv/media', { action: 'seek', positionMs: 3500 });
  const sought = await until(s, 'sv', 'paused at 3500 ms', (m) => m.state === 'paused' && Math.abs(m.positionMs - 3500) <= 100);
  t.pass(`sought to ${sought.positionMs} ms`);
  const fade = await s.call('POST', '/stream/scenes/with-video/activate', { transition: 'crossfade', durationMs: 500 });
  t.equal(fade.body.transition, 'crossfade');
  t.ok(
    Math.abs(fade.body.layers[0].media.positionMs - 2000) <= 100,
    `crossfade: back at startMs (${fade.body.layers[0].media.positionMs} ms)`,
  );
  const again = await until(s, 'sv', 'paused again', (m) => m.state === 'paused');
  t.ok(Math.abs(again.positionMs - 2000) <= 100, `and its picture is the one at startMs (${again.positionMs} ms)`);
});
