import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { phaseCount } from '../workers/renderers/shifted-picture.js';
import { ConfigError, loadConfig } from '../orchestrator/config/env.js';
import { buildFfmpegArgs, muxerFor } from '../orchestrator/output/ffmpeg-args.js';
import { resolveOutput } from '../orchestrator/output/output-path.js';
import { FrameClock } from '../orchestrator/render/frame-clock.js';
import { FramePool } from '../orchestrator/render/frame-pool.js';
import { mergePatch } from '../orchestrator/scene/merge-patch.js';
import { auctionScene } from '../orchestrator/scene/default-scene.js';
import { ERRORS, AppError } from '../shared/errors.js';
import { LayerCreateSchema } from '../shared/scene.js';
import { childEnv } from './helpers/child-env.js';

t.test('error registry: unique codes, valid statuses, wire shape', async (t) => {
  for (const [code, entry] of Object.entries(ERRORS)) {
    t.match(code, /^SM_ERR_[A-Z_]+$/);
    t.ok(entry.status >= 400 && entry.status < 600, `${code} status ${entry.status}`);
    const err = new AppError(code as keyof typeof ERRORS);
    t.equal(err.code, code);
    t.same(err.toJSON(), { error: { code, message: entry.message } });
  }
  t.same(new AppError('SM_ERR_VALIDATION', 'x', [1]).toJSON().error.details, [1]);
});

t.test('config from env: defaults, coercion, every bad variable named', async (t) => {
  const c = loadConfig({});
  t.match(c, {
    port: 4200,
    wsPort: 4201,
    stream: { width: 1280, height: 720, targetFPS: 30, output: { url: null } },
    ffmpegPath: 'ffmpeg',
  });
  t.equal(c.stream.encoder.keyframeIntervalSeconds, 2, 'GOP of 2 s by default');
  t.equal(loadConfig({ PORT: '', FPS: '60' }).port, 4200, 'empty counts as unset');
  t.equal(loadConfig({ FPS: '60' }).stream.targetFPS, 60);
  t.equal(loadConfig({ OUTPUT_URL: 'rtmp://a/b' }).stream.output.url, 'rtmp://a/b');
  t.equal(
    loadConfig({ VIDEO_BITRATE_KBPS: '3000' }).stream.encoder.bitrateKbps,
    3000,
    'VIDEO_BITRATE_KBPS is coerced like the other numbers',
  );
  t.throws(() => loadConfig({ VIDEO_BITRATE_KBPS: '50' }), /VIDEO_BITRATE_KBPS/, 'and bounded like the config field');
  try {
    loadConfig({ PORT: 'eighty', WIDTH: '1281', OUTPUT_URL: 'ftp://x', X264_PRESET: 'warp' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path).sort();
    t.same(paths, ['OUTPUT_URL', 'PORT', 'WIDTH', 'X264_PRESET']);
  }
});

t.test('the server exits 1 with a clear message on invalid env', async (t) => {
  const res = spawnSync(process.execPath, ['dist/orchestrator/main.js'], {
    env: { ...childEnv(), FPS: 'fast', PORT: '0', WS_PORT: '0' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.equal(res.status, 1);
  t.match(res.stdout, /FPS/);
  t.match(res.stdout, /Invalid configuration/);
});

t.test('ffmpeg arguments', async (t) => {
  const args = buildFfmpegArgs({
    width: 1280,
    height: 720,
    targetFPS: 30,
    output: 'rtmp://live/app/key',
    encoder: { preset: 'veryfast', bitrateKbps: 3000, keyframeIntervalSeconds: 2, audio: 'silent', colorMatrix: 'auto', latency: 'normal' },
  });
  const after = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
  t.equal(after('-video_size'), '1280x720');
  t.equal(after('-pix_fmt'), 'yuv420p', 'input is I420 (converted by the compositor)');
  t.equal(after('-g'), '60', 'GOP = 2 s x 30 fps');
  t.equal(after('-keyint_min'), '60');
  t.equal(after('-b:v'), '3000k');
  t.equal(after('-bufsize'), '6000k');
  t.ok(args.includes('yuv420p'));
  t.equal(after('-f'), 'rawvideo');
  t.equal(args.at(-1), 'rtmp://live/app/key');
  t.ok(args.includes('flv'));
  t.ok(args.includes('aac'), 'silent AAC track');
  t.equal(after('-colorspace'), 'bt709', '720p is HD: tagged BT.709');
  t.equal(after('-color_range'), 'tv');
  t.equal(args.filter((a) => a === '-color_primaries').length, 2, 'tags on the raw input and on the encoder');
  const noAudio = buildFfmpegArgs({
    width: 2,
    height: 2,
    targetFPS: 25,
    output: 'a.mkv',
    encoder: { preset: 'fast', bitrateKbps: 500, keyframeIntervalSeconds: 1, audio: 'none', colorMatrix: 'auto', latency: 'normal' },
  });
  t.equal(noAudio[noAudio.indexOf('-colorspace') + 1], 'smpte170m', 'below 720 lines: BT.601 (SMPTE 170M)');
  t.notOk(noAudio.includes('aac'));
  t.notOk(noAudio.includes('1:a:0'));
  t.same(muxerFor('x.ts'), ['-f', 'mpegts']);
  t.same(muxerFor('x.mkv'), ['-f', 'matroska']);
  t.same(muxerFor('x.flv'), ['-f', 'flv']);
  t.match(muxerFor('x.MP4').join(' '), /frag_keyframe/);
  t.throws(() => muxerFor('x.avi'), /No container/);
});

t.test('output paths: recordings get a time-stamped name; files are never overwritten', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-out-'));
  t.equal(resolveOutput('rtmp://h/app/k', dir), 'rtmp://h/app/k');
  const rec = resolveOutput(null, join(dir, 'rec'), Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  t.equal(rec, join(dir, 'rec', 'stream-2026-01-02T03-04-05-006Z.mp4'));
  const file = join(dir, 'out.mp4');
  t.equal(resolveOutput(file, dir), file);
  writeFileSync(file, 'x');
  t.equal(resolveOutput(file, dir), join(dir, 'out-1.mp4'));
  writeFileSync(join(dir, 'out-1.mp4'), 'x');
  t.equal(resolveOutput(file, dir), join(dir, 'out-2.mp4'));
});

t.test('JSON merge patch (RFC 7396)', async (t) => {
  const target = { a: 1, b: { c: 2, d: 3 }, e: [1, 2] };
  t.same(mergePatch(target, { b: { c: 9 }, e: [3] }), { a: 1, b: { c: 9, d: 3 }, e: [3] });
  t.same(mergePatch(target, { b: { d: null }, a: null }), { b: { c: 2 }, e: [1, 2] });
  t.same(target, { a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, 'target not mutated');
});

t.test('frame pool: reuses buffers, caps allocations, counts references', async (t) => {
  const pool = new FramePool(4, 2, 2, 0);
  const a = pool.acquire()!;
  const b = pool.acquire()!;
  t.equal(pool.acquire(), null, 'capped at max');
  t.equal(a.bytes.length, 4 * 2 * 4);
  pool.retain(a);
  pool.release(a);
  t.equal(pool.acquire(), null, 'still referenced');
  pool.release(a);
  t.equal(pool.acquire(), a, 'the same buffer comes back');
  t.equal(pool.allocated, 2);
  pool.release(b);
  t.throws(() => pool.release(b), /more times/);
});

t.test('frame clock: ticks at the target rate and reports skipped ticks', async (t) => {
  const ticks: [number, number][] = [];
  const clock = new FrameClock(100, (n, skipped) => ticks.push([n, skipped]));
  clock.start();
  await new Promise((r) => setTimeout(r, 105));
  const busyUntil = performance.now() + 60;
  while (performance.now() < busyUntil); // block the loop past ~6 ticks
  await new Promise((r) => setTimeout(r, 100));
  clock.stop();
  const last = ticks.at(-1)![0];
  t.ok(last >= 22 && last <= 30, `last frame index ${last} after ~265 ms at 100 fps`);
  const skipped = ticks.reduce((s, [, k]) => s + k, 0);
  t.ok(skipped >= 4, `skipped ${skipped} ticks while blocked`);
  t.equal(ticks.length + skipped, last + 1, 'every frame index is ticked or reported skipped');
  t.equal(clock.running, false);
});

t.test('default auction scene fits the layer model at common sizes', async (t) => {
  for (const [w, h] of [
    [1280, 720],
    [1920, 1080],
    [320, 240],
  ] as const) {
    const layers = auctionScene(w, h);
    t.same(
      layers.map((l) => l.id),
      ['background', 'host', 'overlay'],
    );
    for (const l of layers) t.ok(LayerCreateSchema.safeParse(l).success, `${l.id} at ${w}x${h}`);
  }
});

t.test('a host picture gets sub-pixel phases by size: many when small, whole pixels when huge', async (t) => {
  t.equal(phaseCount(170, 220), 16, 'a small host: 16 phases (1/16 px steps)');
  t.equal(phaseCount(708, 921), 6, 'the S1 host at 1080p, 2.6 MB a copy: 6 phases in 16 MB');
  t.equal(phaseCount(1920, 1080), 2, 'a full-frame 1080p host, 8.3 MB a copy: 2 phases');
  t.equal(phaseCount(3840, 2160), 1, 'a full-frame 4K host, 33 MB a copy: whole pixels only');
});
