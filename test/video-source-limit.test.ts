import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ffmpegChildren } from './helpers/media.js';
import { makeClip } from './helpers/media.js';
import { startServer } from './helpers/server.js';

/**
 * A scene may hold 1000 layers; each video layer is an ffmpeg and a reader thread. At most
 * MAX_VIDEO_SOURCES (16; 4 here, to spare CI's CPU) decode at once: one request with many video layers starts no more decoders
 * than that; the others say `error` (why, in lastError) and start when a source is freed.
 */

/** The limit under test (the env setting). */
const MAX_VIDEO_SOURCES = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('video sources are capped; a freed slot starts a waiting layer', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-video-cap-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeClip(join(root, 'assets', 'tiny.mp4'), ['red', 'blue'], { width: 16, height: 16, fps: 5 });
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '160', HEIGHT: '90', FPS: '5', MAX_VIDEO_SOURCES: String(MAX_VIDEO_SOURCES) });
  t.teardown(() => s.close());

  const n = MAX_VIDEO_SOURCES + 4;
  const layers = Array.from({ length: n }, (_, i) => ({
    id: `v${i}`,
    transform: { x: i, y: 0, width: 16, height: 16 },
    content: { type: 'video', src: 'assets/tiny.mp4', loop: true },
  }));
  const { canvas } = (await s.call('GET', '/stream/scene')).body as { canvas: unknown };
  const put = await s.call('PUT', '/stream/scene', { canvas, layers });
  t.equal(put.status, 200, 'PUT /stream/scene');
  const playing = async (ids: string[], ms: number): Promise<boolean> => {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      if (ids.every((id) => s.app.pipeline.media.status(id)?.state === 'playing')) return true;
      await sleep(100);
    }
    return false;
  };
  const first = layers.slice(0, MAX_VIDEO_SOURCES).map((l) => l.id);
  // A loaded machine starts 16 threads and ffmpegs slowly.
  t.ok(await playing(first, 40_000), `the first ${MAX_VIDEO_SOURCES} play`);
  const pids = layers.map((l) => s.app.pipeline.media.decoderPid(l.id)).filter((p) => p !== undefined);
  t.equal(pids.length, MAX_VIDEO_SOURCES, `${pids.length} decoders for ${n} video layers`);
  t.ok(ffmpegChildren('tiny.mp4').length <= MAX_VIDEO_SOURCES, 'no more ffmpegs in the process table');
  const over = await s.call('GET', `/stream/layers/v${n - 1}`);
  t.equal(over.body.media.state, 'error');
  t.match(over.body.media.lastError, /Too many video sources/);

  t.equal((await s.call('DELETE', '/stream/layers/v0')).status, 204);
  t.ok(await playing([`v${MAX_VIDEO_SOURCES}`], 20_000), 'the first waiting layer plays once a source is freed');
  t.equal(s.app.pipeline.media.status(`v${n - 1}`)?.state, 'error', 'the others still wait');
});
