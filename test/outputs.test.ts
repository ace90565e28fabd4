import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild } from './helpers/child-server.js';
import { probeVideo } from './helpers/media.js';
import { startRtmpServer } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

/**
 * One render to several destinations: two real nginx-rtmp servers, a recording and an HLS
 * playlist, against the real server as a child process (so its log lines can be searched for
 * stream keys).
 */

const KEY_A = 'sk_live_alpha_0123456789';
const KEY_B = 'sk_live_bravo_9876543210';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type View = {
  id: string;
  state: string;
  bytes: number;
  bitrateBps: number | null;
  restarts: number;
  url: string | null;
  location: string | null;
  encodeGroup: string;
};

t.test('outputs: two RTMP servers, a file and HLS from one encode, each supervised on its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = [await startRtmpServer(), await startRtmpServer()];
  t.teardown(() => a.stop());
  t.teardown(() => b.stop());
  const s = await startChild({
    WIDTH: '640',
    HEIGHT: '360',
    FPS: '30',
    DEFAULT_SCENE: 'auction',
    STATE_STORE: 'memory',
    AUTOSTART: 'false',
    DATA_DIR: join(dir, 'data'),
    RECORDINGS_DIR: join(dir, 'rec'),
    ENCODER_RESTART_DELAY_MS: '1000',
    ENCODER_STALL_MS: '4000',
  });
  t.teardown(() => s.stop('SIGKILL'));
  const outputs = async (): Promise<Record<string, View>> =>
    Object.fromEntries(((await s.call('GET', '/stream/outputs')).body.outputs as View[]).map((o) => [o.id, o]));

  for (const body of [
    { id: 'a', kind: 'rtmp', url: a.url(KEY_A) },
    { id: 'b', kind: 'rtmp', url: b.url(KEY_B) },
    { id: 'rec', kind: 'file', url: 'takes/auction.mp4' },
    { id: 'web', kind: 'hls' },
  ]) {
    const res = await s.call('POST', '/stream/outputs', body);
    t.equal(res.status, 201, `POST ${body.id}`);
  }
  t.equal((await s.call('POST', '/stream/outputs', { id: 'a', kind: 'rtmp', url: a.url('x') })).status, 409, 'ids are unique');
  t.equal((await s.call('POST', '/stream/outputs', { kind: 'rtmp', url: 'http://nope' })).body.error.code, 'SM_ERR_VALIDATION');
  t.equal((await s.call('PATCH', '/stream/outputs/main', { enabled: false })).status, 400, 'main is changed through /config');

  const ws = await connect(`ws://${new URL(s.base).host}/stream/ws`);
  t.teardown(() => ws.close());
  t.equal((await s.call('POST', '/stream/start')).status, 200);

  await t.test('all three destinations read back by ffprobe, from one shared encode', async (t) => {
    for (let i = 0; i < 40; i++) {
      const o = await outputs();
      if (['a', 'b', 'rec', 'web'].every((id) => o[id]!.state === 'live')) break;
      await sleep(250);
    }
    const o = await outputs();
    t.same(
      ['main', 'a', 'b', 'rec', 'web'].map((id) => o[id]!.state),
      ['live', 'live', 'live', 'live', 'live'],
    );
    t.equal(new Set(['a', 'b', 'rec', 'web'].map((id) => o[id]!.encodeGroup)).size, 1, 'equal settings: one encode group');
    await sleep(2500);
    for (const [name, url] of [
      ['a', a.url(KEY_A)],
      ['b', b.url(KEY_B)],
    ] as const) {
      const p = await probeVideo(url, false, 15_000);
      t.match(p, { codec: 'h264', width: 640, height: 360 }, `RTMP ${name} plays`);
    }
    const file = o['rec']!.location!;
    t.match(file, /takes\/auction-.*\.mp4$/, `recording at ${file}`);
    t.match(await probeVideo(file), { codec: 'h264', width: 640 }, 'the recording being written reads back');
  });

  await t.test('one RTMP server stopped: the others keep going; it reconnects and is live again', async (t) => {
    const before = await outputs();
    const fileBefore = statSync(before['rec']!.location!).size;
    await a.kill();
    let down: any;
    for (;;) {
      const m = await ws.next('outputUpdate', 10_000);
      if (m.payload.id === 'a' && m.payload.event === 'reconnecting') {
        down = m.payload;
        break;
      }
    }
    t.match(down, { state: 'reconnecting', attempt: 1 }, 'a is reconnecting');
    t.notMatch(JSON.stringify(down), KEY_A, 'no stream key in the WS event');
    await sleep(3000);
    const mid = await outputs();
    t.equal(mid['a']!.state, 'reconnecting');
    t.same(
      ['b', 'rec', 'web', 'main'].map((id) => mid[id]!.state),
      ['live', 'live', 'live', 'live'],
      'the others stay live',
    );
    t.ok(mid['b']!.bytes > before['b']!.bytes, `b keeps sending (${before['b']!.bytes} -> ${mid['b']!.bytes} bytes)`);
    t.ok(statSync(mid['rec']!.location!).size > fileBefore, 'the recording keeps growing');
    t.equal(mid['b']!.restarts, 0, 'b was never restarted');
    t.equal((await s.call('GET', '/stream/status')).body.isLive, true);

    await a.restart();
    for (;;) {
      const m = await ws.next('outputUpdate', 15_000);
      if (m.payload.id === 'a' && m.payload.event === 'reconnected') break;
    }
    await sleep(2500);
    t.match(await probeVideo(a.url(KEY_A), false, 15_000), { codec: 'h264' }, 'a plays again');
    const after = await outputs();
    t.equal(after['a']!.state, 'live');
    t.ok(after['a']!.restarts >= 1, `a restarts: ${after['a']!.restarts}`);
  });

  await t.test('the HLS playlist is valid over HTTP and advances', async (t) => {
    const url = `${s.base}/stream/hls/web/index.m3u8`;
    const seq = async (): Promise<number> => {
      const text = await (await fetch(url)).text();
      t.match(text, /^#EXTM3U/);
      return Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? -1);
    };
    const first = await seq();
    t.match(await probeVideo(url, false, 15_000), { codec: 'h264', width: 640 }, 'ffprobe plays the playlist over HTTP');
    let later = first;
    for (let i = 0; i < 40 && later <= first; i++) {
      await sleep(250);
      later = await seq();
    }
    t.ok(later > first, `media sequence ${first} -> ${later}`);
    // ffmpeg's HLS muxer reports no size: bytes and bitrate come from what was passed to it.
    const o1 = await outputs();
    await sleep(1500);
    const o2 = await outputs();
    t.ok(o1['web']!.bytes > 0 && o2['web']!.bytes > o1['web']!.bytes, `HLS bytes grow: ${o1['web']!.bytes} -> ${o2['web']!.bytes}`);
    const [hls, rtmp] = [o2['web']!.bitrateBps, o2['a']!.bitrateBps];
    t.ok(
      hls !== null && rtmp !== null && hls > rtmp * 0.5 && hls < rtmp * 2,
      `HLS ${hls} bit/s near RTMP a's ${rtmp} bit/s (the same encode)`,
    );
    const res = await fetch(`${s.base}/stream/hls/web/..%2F..%2Fstate.json`);
    t.equal(res.status, 404, 'only playlist and segment names are served');
  });

  await t.test('adding and removing an output while live leaves the others alone', async (t) => {
    const before = await outputs();
    t.equal(
      (await s.call('POST', '/stream/outputs', { id: 'low', kind: 'file', url: 'takes/low.mkv', encoder: { bitrateKbps: 500 } })).status,
      201,
    );
    await sleep(3000);
    const mid = await outputs();
    t.equal(mid['low']!.state, 'live', 'the new output is live');
    t.not(mid['low']!.encodeGroup, mid['b']!.encodeGroup, 'other settings: an encode of its own');
    t.equal((await s.call('DELETE', '/stream/outputs/low')).status, 204);
    t.ok(existsSync(mid['low']!.location!), 'its file stays');
    const after = await outputs();
    t.notOk(after['low'], 'gone from the list');
    for (const id of ['a', 'b', 'rec']) {
      t.equal(after[id]!.restarts, before[id]!.restarts, `${id} was not restarted`);
      t.ok(after[id]!.bytes > before[id]!.bytes, `${id} kept going`);
    }
  });

  await t.test('a recording stops and starts on its own, a finished file each time', async (t) => {
    const first = (await s.call('POST', '/stream/outputs/rec/stop')).body as View;
    t.equal(first.state, 'stopped');
    const p1 = await probeVideo(first.location!, true);
    t.ok(p1.frames! > 30, `first file: ${p1.frames} frames`);
    const started = (await s.call('POST', '/stream/outputs/rec/start')).body as View;
    t.not(started.location, first.location, 'a new file');
    await sleep(2500);
    const second = (await s.call('POST', '/stream/outputs/rec/stop')).body as View;
    const p2 = await probeVideo(second.location!, true);
    t.ok(p2.frames! > 15, `second file: ${p2.frames} frames`);
    t.equal(readdirSync(join(dir, 'rec', 'takes')).filter((f) => f.startsWith('auction-')).length, 2);
    t.equal((await outputs())['b']!.state, 'live', 'the RTMP outputs never noticed');
  });

  await t.test('no stream key in any response, log line or metric', async (t) => {
    const texts = [
      JSON.stringify((await s.call('GET', '/stream/outputs')).body),
      JSON.stringify((await s.call('GET', '/stream/status')).body),
      JSON.stringify((await s.call('GET', '/stream/outputs/a')).body),
      await (await fetch(`${s.base}/metrics`)).text(),
      s.output(),
    ];
    for (const [i, text] of texts.entries()) {
      t.notMatch(text, KEY_A, `text ${i}: no key A`);
      t.notMatch(text, KEY_B, `text ${i}: no key B`);
    }
    t.match(texts[2], /rtmp:\/\/127\.0\.0\.1:\d+\/live\/\*\*\*/, 'the URL is shown redacted');
    t.match(texts[3], /stream_manager_output_state\{output="a",state="live"\} 1/, 'per-output metrics');
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
  });
});

t.test('outputs persist in the state store across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outputs-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { STATE_STORE: 'file', DATA_DIR: join(dir, 'data') };
  const first = await startServer(env);
  t.equal(
    (
      await first.call('POST', '/stream/outputs', {
        id: 'yt',
        kind: 'rtmp',
        url: `rtmp://127.0.0.1:1935/live/${KEY_A}`,
        encoder: { bitrateKbps: 4500 },
      })
    ).status,
    201,
  );
  t.equal((await first.call('POST', '/stream/outputs', { id: 'web', kind: 'hls', enabled: false })).status, 201);
  await first.close();
  const stored = readFileSync(join(dir, 'data', 'state.json'), 'utf8');
  t.match(stored, KEY_A, 'the store keeps the full URL (as it keeps config.output.url)');

  const again = await startServer(env);
  t.teardown(() => again.close());
  const list = (await again.call('GET', '/stream/outputs')).body.outputs as (View & { enabled: boolean; encoder: object })[];
  t.same(
    list.map((o) => [o.id, o.enabled]),
    [
      ['main', true],
      ['yt', true],
      ['web', false],
    ],
  );
  t.same(list[1]!.encoder, { bitrateKbps: 4500 });
  t.equal(list[1]!.url, 'rtmp://127.0.0.1:1935/live/***');
  t.equal((await again.call('DELETE', '/stream/outputs/yt')).status, 204);
  await again.app.state.flush();
  t.notMatch(readFileSync(join(dir, 'data', 'state.json'), 'utf8'), KEY_A, 'a deleted output leaves the store');
});
