import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ffmpegColorReader, hex, measureChanges, type Rgb } from '../bench/glass.js';
import { buildFfmpegArgs, encodeArgs } from '../orchestrator/output/ffmpeg-args.js';
import { encodeGroupKey, GroupEncoder, groupEncoderArgs } from '../orchestrator/output/group-encoder.js';
import { FramePool } from '../orchestrator/render/frame-pool.js';
import { createLogger } from '../orchestrator/logger.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { StreamConfigSchema, type EncoderSettings } from '../shared/stream-config.js';
import { startRtmpServer } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';

/**
 * `encoder.latency` (issue 34): `normal` keeps every ffmpeg argument as it was; `low` tunes x264
 * for zero latency, shortens the VBV buffer, flushes every packet, and lets no more than one
 * frame wait between the compositor and an encoder. Glass-to-glass through a real nginx-rtmp:
 * `low` is faster than `normal` measured side by side (the figures are the bench's).
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const enc = (over: Partial<EncoderSettings> = {}): EncoderSettings => ({
  preset: 'veryfast',
  bitrateKbps: 2500,
  keyframeIntervalSeconds: 2,
  audio: 'silent',
  colorMatrix: 'auto',
  latency: 'normal',
  ...over,
});

t.test('normal: the arguments are exactly those from before the setting', async (t) => {
  // Printed by the code on main before issue 34 (commit 8fe379d), for these jobs.
  t.same(buildFfmpegArgs({ width: 1280, height: 720, targetFPS: 30, encoder: enc(), output: 'rtmp://127.0.0.1/live/key' }), [
    '-hide_banner', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1', '-stats_period', '1',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '1280x720', '-framerate', '30', '-i', 'pipe:0',
    '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=44100', '-map', '0:v:0', '-map', '1:a:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '44100', '-shortest', '-f', 'flv', '-flvflags', 'no_duration_filesize', '-y', 'rtmp://127.0.0.1/live/key',
  ]); // prettier-ignore
  t.same(buildFfmpegArgs({ width: 640, height: 360, targetFPS: 25, encoder: enc({ audio: 'none' }), output: '/tmp/x.mp4' }), [
    '-hide_banner', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1', '-stats_period', '1',
    '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m', '-color_range', 'tv',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', '640x360', '-framerate', '25', '-i', 'pipe:0',
    '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=44100', '-map', '0:v:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
    '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m', '-color_range', 'tv',
    '-shortest', '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-y', 'file:/tmp/x.mp4',
  ]); // prettier-ignore
  const group = groupEncoderArgs({ width: 1280, height: 720, targetFPS: 30, encoder: enc() });
  t.same(group, [
    '-hide_banner', '-loglevel', 'warning', '-nostats', ...encodeArgs({ width: 1280, height: 720, targetFPS: 30, encoder: enc() }),
    '-f', 'mpegts', '-mpegts_pmt_start_pid', '4096', '-mpegts_start_pid', '256', '-muxdelay', '0', '-flush_packets', '1', 'pipe:1',
  ], 'the shared encode is as before'); // prettier-ignore
  t.equal(encodeGroupKey(enc()), 'veryfast-2500k-gop2s-silent', 'the group key of a normal encode reads as before');
});

t.test('low: zerolatency, a short VBV buffer, a one-frame input queue, packets flushed', async (t) => {
  const args = buildFfmpegArgs({ width: 1280, height: 720, targetFPS: 30, encoder: enc({ latency: 'low' }), output: 'rtmp://h/live/k' });
  const after = (flag: string, from = 0): string | undefined => args[args.indexOf(flag, from) + 1];
  t.equal(after('-tune'), 'zerolatency', 'no lookahead, no B-frames, sliced threads');
  t.equal(after('-bufsize'), '333k', 'VBV: 4 frame intervals of 2500 kbit/s at 30 fps');
  t.equal(after('-b:v'), '2500k', 'same bitrate');
  t.equal(after('-g'), '60', 'same keyframe interval');
  t.ok(args.indexOf('-thread_queue_size') < args.indexOf('pipe:0'), 'an input option of the raw frames');
  t.equal(after('-thread_queue_size'), '1');
  const out = args.indexOf('-f', args.indexOf('-c:v'));
  t.same(args.slice(out, out + 3), ['-f', 'flv', '-flvflags']);
  t.equal(after('-flush_packets', out), '1', 'every packet written at once');
  t.equal(after('-muxdelay', out), '0');
  t.equal(args.at(-1), 'rtmp://h/live/k');
  const group = groupEncoderArgs({ width: 1280, height: 720, targetFPS: 30, encoder: enc({ latency: 'low' }) });
  t.equal(group[group.indexOf('-omit_video_pes_length') + 1], '0', 'a reader of the shared TS knows when a frame is whole');
  t.equal(group[group.indexOf('-pes_payload_size') + 1], '0', 'audio is not held back to fill PES packets');
  t.equal(encodeGroupKey(enc({ latency: 'low' })), 'veryfast-2500k-gop2s-silent-low', 'latency is part of the encode group');
});

t.test('config: ENCODER_LATENCY, PATCH /config, old stored configs load as normal', async (t) => {
  t.equal(loadConfig({}).stream.encoder.latency, 'normal');
  t.equal(loadConfig({ ENCODER_LATENCY: 'low' }).stream.encoder.latency, 'low');
  t.throws(() => loadConfig({ ENCODER_LATENCY: 'fast' }), /ENCODER_LATENCY/);
  const old = { ...loadConfig({}).stream, encoder: { preset: 'veryfast', bitrateKbps: 2500, keyframeIntervalSeconds: 2, audio: 'silent' } };
  t.equal(StreamConfigSchema.parse(old).encoder.latency, 'normal', 'a config stored before the setting');
  const s = await startServer();
  t.teardown(() => s.close());
  t.equal((await s.call('PATCH', '/stream/config', { encoder: { latency: 'low' } })).body.encoder.latency, 'low');
  t.equal(
    (await s.call('PATCH', '/stream/config', { encoder: { bitrateKbps: 900 } })).body.encoder.latency,
    'low',
    'kept by other patches',
  );
  const bad = await s.call('PATCH', '/stream/config', { encoder: { latency: 'ultra' } });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'SM_ERR_VALIDATION');
  t.equal((await s.call('GET', '/stream/config')).body.encoder.latency, 'low', 'unchanged by the refused patch');
  const out = await s.call('POST', '/stream/outputs', { id: 'fast', kind: 'hls', encoder: { latency: 'normal' } });
  t.equal(out.status, 201);
  t.equal(out.body.encodeGroup, 'veryfast-900k-gop2s-silent', 'an output overrides the config’s latency: its own encode');
  t.equal((await s.call('POST', '/stream/outputs', { kind: 'hls', encoder: { latency: 'slow' } })).status, 400);
});

t.test('the compositor-to-encoder queue: at most one frame at low latency, three at normal', async (t) => {
  for (const [latency, max] of [
    ['low', 1],
    ['normal', 3],
  ] as const) {
    const s = await startServer({ ENCODER_LATENCY: latency, ENCODER_STALL_MS: '30000' });
    t.teardown(() => s.close());
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    await sleep(500);
    const pid = s.app.pipeline.encoderPid!;
    const before = s.app.pipeline.counters.dropped.encoder_backpressure;
    // The encoder stops reading: frames pile up only as far as the bound, the rest are dropped.
    process.kill(pid, 'SIGSTOP');
    let most = 0;
    const poll = setInterval(() => (most = Math.max(most, s.app.pipeline.hub.queued)), 2);
    await sleep(1500);
    clearInterval(poll);
    process.kill(pid, 'SIGCONT');
    t.equal(most, max, `${latency}: at most ${max} frame(s) waited for the encoder`);
    // 45 frame intervals stopped: all but the bound (and what the pipe holds) are dropped; fewer
    // are made on a loaded machine (late frames), so 10 is the floor asserted.
    t.ok(s.app.pipeline.counters.dropped.encoder_backpressure - before >= 10, `${latency}: the rest were dropped, not queued`);
    await s.call('POST', '/stream/stop');
  }
});

t.test('a shared encode takes one unread frame at low latency, three at normal', async (t) => {
  // An "ffmpeg" that never reads its stdin.
  const dir = mkdtempSync(join(tmpdir(), 'sm-stuck-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const stuck = join(dir, 'stuck.sh');
  writeFileSync(stuck, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(stuck, 0o755);
  const pool = new FramePool(320, 240, 16);
  for (const [latency, max] of [
    ['low', 1],
    ['normal', 3],
  ] as const) {
    const g = new GroupEncoder(stuck, { width: 320, height: 240, targetFPS: 30, encoder: enc({ latency }) }, pool, createLogger('silent'));
    t.teardown(() => g.kill());
    const frame = pool.acquire()!;
    const took = Array.from({ length: 5 }, () => g.write(frame));
    t.same(
      took,
      [true, true, true, true, true].map((_, i) => i < max),
      `${latency}: ${max} taken, the rest refused`,
    );
    t.equal(g.dropped, 5 - max);
    g.kill();
    await g.exited;
  }
});

t.test('RTMP read back from nginx-rtmp: a change shows sooner at low latency than at normal', async (t) => {
  const p50: Record<string, number> = {};
  for (const latency of ['normal', 'low'] as const) {
    const rtmp = await startRtmpServer();
    const url = rtmp.url(`glass-${latency}`);
    const s = await startServer({ OUTPUT_URL: url, WIDTH: '640', HEIGHT: '360', ENCODER_LATENCY: latency });
    const reader = ffmpegColorReader('ffmpeg', url);
    try {
      const layer = {
        id: 'glass',
        zIndex: 10,
        transform: { x: 0, y: 0, width: 640, height: 360 },
        content: { type: 'color', color: '#000000' },
      };
      t.equal((await s.call('POST', '/stream/layers', layer)).status, 201);
      t.equal((await s.call('POST', '/stream/start')).status, 200);
      for (let i = 0; i < 150 && reader.frames < 15; i++) await sleep(100);
      t.ok(reader.frames > 0, `${latency}: the player decodes the program`);
      const set = async (rgb: Rgb): Promise<void> => {
        const res = await s.call('PATCH', '/stream/layers/glass', { content: { color: hex(rgb) } });
        if (res.status !== 200) throw new Error(`PATCH ${res.status}`);
      };
      const run = await measureChanges(reader, set, { changes: 7, timeoutMs: 4000, gapMs: () => 200 + Math.random() * 200 });
      t.equal(run.missed, 0, `${latency}: every change was seen`);
      const ms = [...run.ms].sort((a, b) => a - b);
      p50[latency] = ms[ms.length >> 1]!;
      t.comment(`${latency}: ms from PATCH to the new colour decoded: ${ms.map((m) => m.toFixed(0)).join(' ')}`);
    } finally {
      await reader.stop();
      await s.close();
      await rtmp.stop();
    }
  }
  t.ok(p50['low']! < p50['normal']!, `low p50 ${p50['low']!.toFixed(0)} ms < normal p50 ${p50['normal']!.toFixed(0)} ms`);
});
