import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { frameKind as kind, makeClip, pixelNear, recordedFrames, rgbAt } from './helpers/media.js';
import { ffmpegDescendants } from './helpers/processes.js';
import { uploadFile } from './helpers/upload-file.js';
import { cli } from './helpers/cli.js';
import sharp from 'sharp';
import { decode, startServer, type Pixels, type TestServer } from './helpers/server.js';
import { connect, type WsClient } from './helpers/ws-client.js';

/**
 * Studio mode (docs/studio-mode.md): an off-air preview scene prepared with the program's routes
 * under /stream/preview, and POST /stream/take swapping it with the program. The program's
 * recording shows the preview's layers only from the take on (a cut: from one frame to the next;
 * a crossfade: through mixed frames); WS previews of both buses, also while the stream is stopped.
 */

const W = 320;
const H = 180;
const full = (id: string, color: string): object => ({
  id,
  transform: { x: 0, y: 0, width: W, height: H },
  content: { type: 'color', color },
});
const BOX = { id: 'box', zIndex: 5, transform: { x: 0, y: 0, width: 80, height: 60 }, content: { type: 'color', color: '#00ff00' } };
const ids = (layers: { id: string }[]): string[] => layers.map((l) => l.id);

/** The next WS preview frame whose decoded picture passes `ok` (frames in flight before a change are skipped), within `ms`. */
async function previewUntil(c: WsClient, ok: (p: Pixels, payload: any) => boolean, ms = 5000): Promise<{ p: Pixels; payload: any }> {
  const end = performance.now() + ms;
  for (;;) {
    const msg = await c.next('preview', Math.max(1, end - performance.now()));
    const p = await decode(Buffer.from(msg.payload.data, 'base64'));
    if (ok(p, msg.payload)) return { p, payload: msg.payload };
  }
}

const green = (f: Buffer): boolean => {
  const [r, g, b] = rgbAt(f, 3, 2);
  return g! > 180 && r! < 80 && b! < 80;
};

t.test('studio mode: prepare off air, take with a cut and a crossfade; the recording and both WS buses show it', async (t) => {
  const s = await startServer({
    WIDTH: String(W),
    HEIGHT: String(H),
    FPS: '10',
    X264_PRESET: 'ultrafast',
    AUDIO: 'none',
    PREVIEW_WIDTHS: '160,320,480',
  });
  t.teardown(() => s.close());

  await t.test('a take with an empty preview is refused and changes nothing', async (t) => {
    t.equal((await s.call('POST', '/stream/layers', full('bg', '#ff0000'))).status, 201);
    const r = await s.call('POST', '/stream/take', {});
    t.equal(r.status, 409);
    t.equal(r.body.error.code, 'SM_ERR_PREVIEW_EMPTY');
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg'], 'the program is unchanged');
  });

  const events = await connect(`${s.base.replace('http', 'ws')}/stream/ws?target=layers`);
  t.teardown(() => events.close());

  await t.test('the preview routes address the preview scene only', async (t) => {
    const created = await s.call('POST', '/stream/preview/layers', full('pbg', '#0000ff'));
    t.equal(created.status, 201);
    const event = await events.next('previewLayerUpdate');
    t.equal(event.payload.id, 'pbg', 'WS: previewLayerUpdate, not layerUpdate');
    t.equal(event.payload.layer.content.color, '#0000ff');
    t.ok(created.headers.get('etag'), 'with its ETag');
    t.same(ids((await s.call('GET', '/stream/preview/layers')).body.layers), ['pbg']);
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg'], 'the program does not have it');
    t.equal((await s.call('GET', '/stream/layers/pbg')).status, 404);
    const doc = (await s.call('GET', '/stream/preview/scene')).body;
    t.same(ids(doc.layers), ['pbg']);
    t.same(doc.canvas.width, W, "the preview's document has the program's canvas");
    const otherCanvas = await s.call('PUT', '/stream/preview/scene', { ...doc, canvas: { ...doc.canvas, width: 640 } });
    t.equal(otherCanvas.status, 400, 'a preview document with another canvas is refused');
    t.same((await s.call('GET', '/stream/config')).body.width, W, 'and the canvas is unchanged');
    // The data is the channel's: both routes read and write the one set.
    t.equal((await s.call('PATCH', '/stream/preview/data', { bid: 2 })).status, 200);
    t.same((await s.call('GET', '/stream/data')).body.data, { bid: 2 });
    // Ids that begin with "-" are ids like any other; "/" is refused, and a path with an encoded "/" finds nothing.
    t.equal((await s.call('POST', '/stream/preview/layers', { ...full('-dash', '#00ff00'), zIndex: -9 })).status, 201);
    t.equal((await s.call('GET', '/stream/preview/layers/-dash')).status, 200);
    t.equal((await s.call('DELETE', '/stream/preview/layers/-dash')).status, 204);
    const slash = await s.call('POST', '/stream/preview/layers', full('/etc', '#00ff00'));
    t.equal(slash.status, 400);
    t.equal((await s.call('GET', '/stream/preview/layers/%2Fetc%2Fpasswd')).status, 404);
    // A batch past the limit of 100 operations: refused whole.
    const ops = Array.from({ length: 101 }, (_, i) => ({ op: 'create', layer: full(`b${i}`, '#ffffff') }));
    const huge = await s.call('POST', '/stream/preview/batch', { ops });
    t.equal(huge.status, 400);
    t.equal(huge.body.error.code, 'SM_ERR_VALIDATION');
    t.same(ids((await s.call('GET', '/stream/preview/layers')).body.layers), ['pbg'], 'nothing of it was applied');
    // Scenes: a saved scene loads into the preview only; {} saves the preview's layers.
    t.equal((await s.call('PUT', '/stream/scenes/greens', { layers: [full('g', '#00ff00')] })).status, 200);
    const loaded = await s.call('POST', '/stream/preview/scenes/greens/activate', {});
    t.equal(loaded.status, 200);
    t.same(ids(loaded.body.layers), ['g']);
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg'], 'the program is unchanged');
    t.equal((await s.call('GET', '/stream/scenes')).body.active, null, 'and no scene became active');
    const putBack = await s.call('PUT', '/stream/preview/scene', { ...doc, layers: [full('pbg', '#0000ff')] });
    t.equal(putBack.status, 200);
    t.same(ids((await s.call('PUT', '/stream/preview/scenes/prepared', {})).body.layers), ['pbg'], '{} saves the preview layers');
  });

  await t.test('the CLI takes, with a cut or a crossfade; --json prints the answer', async (t) => {
    const env = { STREAM_MANAGER_URL: s.base };
    const cut = await cli(['take'], env);
    t.equal(cut.code, 0, cut.stderr);
    t.match(cut.stdout, /took the preview to program \(cut\): 1 layers on program, 1 on preview/);
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['pbg']);
    const seen: any[] = [];
    const told = (): boolean => seen.some((p) => p.id === 'pbg' && p.removed) && seen.some((p) => p.id === 'bg' && p.layer);
    while (!told()) seen.push((await events.next('previewLayerUpdate')).payload);
    t.pass('WS: the take says the preview lost pbg and has bg');
    const fade = await cli(['take', '--crossfade', '4000', '--json'], env);
    const fadeEnds = performance.now() + 4100;
    t.equal(fade.code, 0, fade.stderr);
    const answer = JSON.parse(fade.stdout);
    t.equal(answer.transition, 'crossfade');
    t.equal(answer.durationMs, 4000);
    t.same(ids(answer.program), ['bg'], 'taken back');
    const busy = await cli(['take'], env);

    t.equal(busy.code, 5, 'a take during the crossfade: 409, exit 5');
    t.match(busy.stderr, /SM_ERR_TAKE_IN_PROGRESS/);
    await new Promise((r) => setTimeout(r, Math.max(0, fadeEnds - performance.now())));
  });

  await t.test('bad takes are refused and change nothing', async (t) => {
    for (const body of [
      { transition: 'wipe' },
      { durationMs: -5 },
      { transition: 'crossfade', durationMs: 10e6 },
      { transition: 'cut', extra: 1 },
      [],
    ]) {
      const r = await s.call('POST', '/stream/take', body);
      t.equal(r.status, 400, `${JSON.stringify(body)}: 400`);
      t.equal(r.body.error.code, 'SM_ERR_VALIDATION');
    }
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg']);
    t.same(ids((await s.call('GET', '/stream/preview/layers')).body.layers), ['pbg']);
  });

  const badBus = await connect(`${s.base.replace('http', 'ws')}/stream/ws?target=preview&bus=studio`).then(
    () => 'open',
    (err: Error) => err.message,
  );
  t.match(badBus, /upgrade refused: 400/, 'an unknown bus is refused before the upgrade');
  const program = await connect(`${s.base.replace('http', 'ws')}/stream/ws?target=preview&quality=low`);
  const preview = await connect(`${s.base.replace('http', 'ws')}/stream/ws?target=preview&quality=low&bus=preview`);
  t.teardown(() => (program.close(), preview.close()));

  await t.test('stopped: WS previews of both buses arrive within 1 s, each showing its scene', async (t) => {
    const t0 = performance.now();
    const [a, b] = await Promise.all([program.next('preview', 5000), preview.next('preview', 5000)]);
    const ms = performance.now() - t0;
    t.ok(ms < 1000, `both first frames within 1 s of connecting while stopped (${ms.toFixed(0)} ms)`);
    const pa = await decode(Buffer.from(a.payload.data, 'base64'));
    const pb = await decode(Buffer.from(b.payload.data, 'base64'));
    t.equal(pa.width, 160, 'at the low preview width');
    t.ok(pixelNear(pa, 80, 45, [255, 0, 0], 30), `bus=program shows the program (red): ${pa.at(80, 45)}`);
    t.ok(pixelNear(pb, 80, 45, [0, 0, 255], 30), `bus=preview shows the preview scene (blue): ${pb.at(80, 45)}`);
    t.equal(b.payload.bus, 'preview', "the preview bus's frames say so");
    t.notOk('bus' in a.payload, "the program's frames are as before");
  });

  await t.test('live: the recording shows the preview only from the take on, cut then crossfade', async (t) => {
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    await new Promise((r) => setTimeout(r, 600));
    // Prepared while live: a green box in the preview, not on air.
    t.equal((await s.call('POST', '/stream/preview/layers', BOX)).status, 201);
    await previewUntil(preview, (p) => pixelNear(p, 20, 15, [0, 255, 0], 40));
    t.pass('the preview bus shows the box');
    await new Promise((r) => setTimeout(r, 500));
    const cut = await s.call('POST', '/stream/take', { transition: 'cut' });
    t.equal(cut.status, 200);
    t.same(cut.body.transition, 'cut');
    t.same(ids(cut.body.program), ['pbg', 'box'], 'the preview is the program');
    t.same(ids(cut.body.preview), ['bg'], 'the old program is the preview');
    await previewUntil(preview, (p) => pixelNear(p, 80, 45, [255, 0, 0], 30));
    t.pass('the preview bus now shows the old program');
    await previewUntil(program, (p) => pixelNear(p, 80, 45, [0, 0, 255], 30));
    t.pass('the program bus shows the new program');
    await new Promise((r) => setTimeout(r, 600));
    const fade = await s.call('POST', '/stream/take', { transition: 'crossfade', durationMs: 1000 });
    t.equal(fade.status, 200);
    t.equal(fade.body.transition, 'crossfade');
    const again = await s.call('POST', '/stream/take', {});
    t.equal(again.status, 409, 'a take during the crossfade is refused');
    t.equal(again.body.error.code, 'SM_ERR_TAKE_IN_PROGRESS');
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg'], 'and changed nothing');
    await new Promise((r) => setTimeout(r, 1600));
    t.equal((await s.call('POST', '/stream/stop')).status, 200);

    const file = join(s.dir, 'recordings', readdirSync(join(s.dir, 'recordings'))[0]!);
    const frames = await recordedFrames(file);
    const kinds = frames.map(kind).join('');
    t.comment(`recording, frame by frame: ${kinds}`);
    const firstBlue = kinds.indexOf('B');
    t.ok(firstBlue > 5, 'red frames first');
    t.match(kinds.slice(0, firstBlue), /^R+$/, 'before the take, only the program (no preview pixel, no mix)');
    t.notOk(frames.slice(0, firstBlue).some(green), 'the preview box never shows before the take');
    t.ok(green(frames[firstBlue]!), 'the first frame after the cut shows the box');
    const afterCut = kinds.slice(firstBlue);
    t.match(afterCut, /^B+M{3,}R+$/, 'after the cut: the new program, then mixed frames of the crossfade, then the old program again');
  });

  await t.test('a take is answered with both scenes, and the swapped state is what the routes read', async (t) => {
    t.same(ids((await s.call('GET', '/stream/layers')).body.layers), ['bg']);
    t.same(ids((await s.call('GET', '/stream/preview/layers')).body.layers), ['pbg', 'box']);
    const snap = await s.snapshot();
    t.ok(pixelNear(snap, 160, 90, [255, 0, 0], 10), 'the snapshot is the program');
  });
});

t.test('video layers in the preview are cued: no decoder runs for them; a take starts and stops them', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-studio-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeClip(join(root, 'assets', 'studio-clip.mp4'), ['blue'], { width: 160, height: 90, fps: 10, secondsEach: 2 });
  const s: TestServer = await startServer({ ASSET_ROOT: root, WIDTH: String(W), HEIGHT: String(H), FPS: '10' });
  t.teardown(() => s.close());
  const decoders = (): number => ffmpegDescendants().filter((p) => p.cmdline.includes('studio-clip.mp4')).length;
  const until = async (ok: () => boolean, ms = 10_000): Promise<boolean> => {
    const end = performance.now() + ms;
    while (!ok() && performance.now() < end) await new Promise((r) => setTimeout(r, 100));
    return ok();
  };
  await s.call('POST', '/stream/layers', full('bg', '#ff0000'));
  const v = await s.call('POST', '/stream/preview/layers', {
    id: 'v',
    transform: { x: 0, y: 0, width: W, height: H },
    content: { type: 'video', src: 'assets/studio-clip.mp4', fit: 'fill', loop: true },
  });
  t.equal(v.status, 201);
  t.same(v.body.media.state, 'paused', 'cued: paused at its start');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(decoders(), 0, 'no decoder runs for a preview video layer');
  t.equal((await s.call('POST', '/stream/take', {})).status, 200);
  t.ok(await until(() => decoders() > 0), 'on the program it decodes');
  const shot = await s.snapshot();
  t.ok(
    pixelNear(shot, 160, 90, [0, 0, 255], 40) || pixelNear(shot, 160, 90, [255, 0, 0], 10),
    'the program shows it (or the moment before)',
  );
  for (let i = 0; i < 4; i++) t.equal((await s.call('POST', '/stream/take', {})).status, 200, `take ${i + 2}`);
  t.ok(await until(() => decoders() <= 1), 'back and forth: at most one decoder for the layer');
  t.equal((await s.call('POST', '/stream/take', {})).status, 200, 'the video to the preview again');
  t.ok(await until(() => decoders() === 0), 'off air again: its decoder ended');
  t.same((await s.call('GET', '/stream/preview/layers/v')).body.media.state, 'paused');

  // An uploaded image used only by the preview is in use: not deleted without force; with force its preview layer is hidden.
  const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#00ff00' } })
    .png()
    .toBuffer();
  const up = await uploadFile(s.base, png, 'dot.png', 'image/png');
  t.equal(up.status, 201);
  t.equal((await s.call('POST', '/stream/preview/layers', { id: 'img', content: { type: 'image', src: up.body.id } })).status, 201);
  const inUse = await s.call('DELETE', `/stream/assets/${up.body.id}`);
  t.equal(inUse.status, 409);
  t.same(inUse.body.error.details.preview, ['img'], 'a preview layer is a user of the asset');
  const forced = await s.call('DELETE', `/stream/assets/${up.body.id}?force=true`);
  t.equal(forced.status, 200);
  t.same(forced.body.hiddenPreviewLayers, ['img']);
  t.equal((await s.call('GET', '/stream/preview/layers/img')).body.visible, false);
});
