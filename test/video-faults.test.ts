import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { MediaState } from '../shared/media.js';
import { FIRST_PICTURE_MS } from '../orchestrator/media/video-source.js';
import { ffmpegChildren, makeClip } from './helpers/media.js';
import { freePort } from './helpers/rtmp-server.js';
import { startServer, type TestServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload-file.js';

/**
 * Video sources that fail stay with their layer (issue 29): unreachable feeds reconnect, a file
 * that does not decode is `error`, refused sources spawn nothing; the rest of the program, and
 * every answer, carry on.
 */

async function waitState(s: TestServer, id: string, states: readonly MediaState[], ms: number): Promise<MediaState> {
  const t0 = performance.now();
  for (;;) {
    const st = s.app.pipeline.media.status(id);
    if (st && states.includes(st.state)) return st.state;
    if (performance.now() - t0 > ms) throw new Error(`layer ${id} not ${states.join('/')} after ${ms} ms: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

t.test('failing video sources stay with their layer', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-video-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'assets', 'broken.mp4'), Buffer.from('this is not a video file at all, just some bytes '.repeat(50)));
  const s = await startServer({ ASSET_ROOT: root, ENCODER_RESTART_DELAY_MS: '300' });
  t.teardown(() => s.close());
  const closed = await freePort();

  t.equal(
    (
      await s.call('POST', '/stream/layers', {
        id: 'box',
        transform: { x: 10, y: 10, width: 40, height: 40 },
        content: { type: 'color', color: '#ff0000' },
      })
    ).status,
    201,
  );

  await t.test('sources ffmpeg may not be handed are refused before anything is spawned', async (t) => {
    const before = ffmpegChildren().length;
    for (const src of [
      'file:///etc/passwd',
      'concat:assets/a.mp4|assets/b.mp4',
      'subfile:,start,0,end,0,:assets/a.mp4',
      'pipe:0',
      'data:video/mp4;base64,AAAA',
      'lavfi:testsrc',
      '-i',
      '-filter_complex',
      'assets/../../etc/passwd',
      '/etc/passwd',
      'ftp://127.0.0.1/x.mp4',
      'rtmp://host/app/key with space',
    ]) {
      const r = await s.call('POST', '/stream/layers', { id: 'bad', content: { type: 'video', src } });
      t.equal(r.status, 400, `${src}: ${r.body?.error?.message}`);
      t.equal(r.body?.error?.code, 'SM_ERR_VALIDATION');
    }
    t.equal(s.app.pipeline.media.status('bad'), undefined, 'no source');
    t.equal(ffmpegChildren().length, before, 'no ffmpeg spawned');
  });

  await t.test('unreachable feeds reconnect; a file that does not decode is an error; the program carries on', async (t) => {
    const layers: Array<{ id: string; src: string; transform?: Record<string, number> }> = [
      { id: 'rtmp', src: `rtmp://127.0.0.1:${closed}/live/x` },
      { id: 'http', src: `http://127.0.0.1:${closed}/live.m3u8` },
      { id: 'srt', src: `srt://127.0.0.1:${closed}` },
      { id: 'file', src: 'assets/broken.mp4' },
      { id: 'missing', src: 'assets/missing.mp4' },
      { id: 'huge', src: 'assets/broken.mp4', transform: { x: 0, y: 0, width: 16384, height: 16384, scale: 64 } },
    ];
    // A file that vanishes once its layer is stored (the API refuses a path to no file: 404).
    writeFileSync(join(root, 'assets', 'missing.mp4'), 'gone soon');
    for (const [i, l] of layers.entries()) {
      const r = await s.call('POST', '/stream/layers', {
        id: l.id,
        transform: l.transform ?? { x: 60 + i * 50, y: 10, width: 40, height: 30 },
        content: { type: 'video', src: l.src, slate: '#00ff00' },
      });
      t.equal(r.status, 201, `${l.id} added`);
      if (l.id === 'missing') rmSync(join(root, 'assets', 'missing.mp4'));
    }
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    for (const id of ['rtmp', 'http', 'srt'])
      t.ok(['reconnecting', 'error'].includes(await waitState(s, id, ['reconnecting', 'error'], 8000)), `${id} reconnects`);
    t.match(
      s.app.pipeline.media.status('huge'),
      { state: 'error', lastError: /larger than a video picture may be/ },
      'a box too large for a picture is refused',
    );
    for (const id of ['file', 'missing']) {
      t.equal(await waitState(s, id, ['error'], 8000), 'error', `${id} is an error`);
      t.ok(s.app.pipeline.media.status(id)!.lastError, `${id} says why: ${s.app.pipeline.media.status(id)!.lastError}`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const p = await s.snapshot();
    t.same(p.at(30, 30).slice(0, 3), [255, 0, 0], 'the colour layer is drawn');
    t.same(p.at(80, 25).slice(0, 3), [0, 255, 0], 'a feed with no picture yet shows its slate');
    t.same(p.at(230, 25).slice(0, 3), [0, 0, 0], 'a file in error shows nothing');
    for (const path of ['/stream/layers', '/stream/status', '/stream/scene', '/metrics', '/health']) {
      const r = await s.call('GET', path);
      t.ok(r.status < 500, `GET ${path}: ${r.status}`);
    }
    const layer = await s.call('GET', '/stream/layers/rtmp');
    t.equal(layer.status, 200);
    const status = (await s.call('GET', '/stream/status')).body;
    t.equal(status.isLive, true, 'still live');
    t.ok(status.fps >= 25, `the program keeps its rate: ${status.fps} fps`);
    t.equal(status.error, null);
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
    // The feeds are retried meanwhile, but never more than one decoder per layer.
    t.ok(ffmpegChildren(String(closed)).length <= 3, 'one decoder per feed at most');
  });

  await t.test('a file that gives no picture (a FIFO nothing writes to) is an error after FIRST_PICTURE_MS', async (t) => {
    // The API refuses a path that is not a regular file; an uploaded asset's file can still be
    // swapped on disk by someone with access to the host: here for a FIFO, whose open blocks ffmpeg.
    const clip = join(root, 'up.mp4');
    await makeClip(clip, ['blue'], { width: 32, height: 18, fps: 5 });
    const up = await uploadFile(s.base, clip, 'up.mp4', 'video/mp4');
    t.equal(up.status, 201, JSON.stringify(up.body));
    const stored = join(s.dir, 'assets', up.body.id as string);
    rmSync(stored);
    execFileSync('mkfifo', [stored]);
    const r = await s.call('POST', '/stream/layers', {
      id: 'fifo',
      transform: { x: 0, y: 0, width: 32, height: 18 },
      content: { type: 'video', src: up.body.id },
    });
    t.equal(r.status, 201, JSON.stringify(r.body));
    const t0 = performance.now();
    t.equal(await waitState(s, 'fifo', ['error'], FIRST_PICTURE_MS + 10_000), 'error');
    const took = performance.now() - t0;
    t.ok(took >= FIRST_PICTURE_MS - 1000, `given up after ${(took / 1000).toFixed(1)} s, not at once`);
    t.match(s.app.pipeline.media.status('fifo')?.lastError, /No picture from the file within 20 s/);
    t.same(ffmpegChildren(up.body.id as string), [], 'its decoder is gone');
    t.equal((await s.call('DELETE', '/stream/layers/fifo')).status, 204);
  });
});
