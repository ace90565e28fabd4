import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeClip } from './helpers/media.js';
import { ffmpegDescendants, watchSpawns } from './helpers/processes.js';
import { startServer } from './helpers/server.js';

/**
 * Issue 29: a video layer's `src` is an uploaded video's id, a path under `assets/`, or an
 * rtmp/rtmps/srt/rtsp/http/https URL. Every other scheme, every ffmpeg pseudo-protocol and every
 * trick to reach one is refused with 400 SM_ERR_VALIDATION by every route that takes a layer, and
 * no process is started for it: every spawn of this (server) process is watched, and the process
 * table is read for ffmpeg/ffprobe children before and after.
 */

const REFUSED = [
  // local files and ffmpeg's pseudo-protocols
  'file:///etc/passwd',
  'file:/etc/passwd',
  'file://localhost/etc/passwd',
  'concat:assets/a.mp4|/etc/passwd',
  'subfile,,start,0,end,100,,:/etc/passwd',
  'subfile:/etc/passwd',
  'pipe:0',
  'pipe:',
  'data:video/mp4;base64,AAAAIGZ0eXBpc29t',
  'data:,x',
  'lavfi',
  'lavfi:testsrc',
  'testsrc=size=320x240',
  'fd:3',
  // options and absolute or escaping paths
  '-i',
  '-f',
  '-filter_complex',
  '--',
  '-y',
  '/etc/passwd',
  '/dev/zero',
  '//etc/passwd',
  './assets/x.mp4',
  '../x.mp4',
  'assets/../../etc/passwd',
  'assets/..\\..\\etc\\passwd',
  'assets/videos/../../../etc/passwd',
  // network schemes that are not sources, and nested ones
  'ftp://example.com/x.mp4',
  'gopher://example.com/',
  'udp://0.0.0.0:1234',
  'tcp://example.com:1',
  'ws://example.com/',
  'wss://example.com/',
  'unix:/tmp/sock',
  'unix:///tmp/sock',
  'async:http://example.com/x.mp4',
  'cache:http://example.com/x.mp4',
  'crypto:http://example.com/x.ts',
  'crypto+http://example.com/x.ts',
  'hls+http://example.com/x.m3u8',
  'hls+https://example.com/x.m3u8',
  'httpproxy://example.com/',
  'tls://example.com:443',
  'rtp://example.com:5004',
  'mmsh://example.com/',
  'sftp://example.com/x',
  'smb://example.com/x',
  'icecast://example.com/',
  'zmq:tcp://example.com:1',
  'ipfs://x',
  'javascript:alert(1)',
  'blob:http://example.com/x',
  // case, missing or odd authority
  'FILE:///etc/passwd',
  'File:///etc/passwd',
  'HTTP://example.com/x.mp4',
  'Rtmp://example.com/live',
  'http:',
  'http://',
  'https:///x',
  'rtmp:///app',
  'srt://',
  'rtmp:/example.com/x',
  'http:example.com/x',
  'https:file:///etc/passwd',
  'http:\\\\example.com\\x',
  // whitespace, controls, invisible characters
  ' file:///etc/passwd',
  'http://example.com/x.mp4 -i /etc/passwd',
  '\thttp://example.com/x',
  'http://example.com/x\n',
  'http://example.com/x\r\n-i',
  'http://example.com/x\u0000',
  'http://example.com/\u007f',
  'http://example.com/\u00a0x',
  'http://example.com/\u2028',
  'http://example.com/\u202e4pm.x',
  'http://exa\u200bmple.com/',
  '\ufeffhttp://example.com/',
  // lookalikes and percent-encoding
  'ｆｉｌｅ:///etc/passwd',
  '%66ile:///etc/passwd',
  'file%3A///etc/passwd',
  '%2Fetc%2Fpasswd',
  '%2D%69',
  // userinfo
  'file://user@localhost/etc/passwd',
  'file://http://example.com@/etc/passwd',
  'ftp://user:pass@example.com/x',
  // empty and too long
  '',
  `http://example.com/${'a'.repeat(2100)}`,
];

/** A source that is fine (a clip under ASSET_ROOT's assets/): the `src` the refused ones replace. */
const GOOD = 'assets/clip.mp4';

/** A scene document without the sources' status (it moves on by itself). */
const still = (doc: { layers: Record<string, unknown>[] }): unknown => ({
  ...doc,
  version: 0, // a refused batch's earlier ops still took version numbers
  layers: doc.layers.map((l) => Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'media'))),
});

t.test('refused video sources: 400 from every route, nothing changed, no process started', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-refusals-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'assets'));
  await makeClip(join(root, 'assets', 'clip.mp4'), ['red', 'blue'], { width: 64, height: 36, fps: 10 });
  const s = await startServer({ ASSET_ROOT: root });
  t.teardown(() => s.close());
  const ok = async (res: Promise<{ status: number; body: any }>, status: number, what: string): Promise<any> => {
    const r = await res;
    if (r.status !== status) t.fail(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // A colour layer, and a video layer whose source is paused and unreachable (a src to patch).
  await ok(s.call('POST', '/stream/layers', { id: 'col', content: { type: 'color', color: '#123456' } }), 201, 'colour layer');
  await ok(
    s.call('POST', '/stream/layers', {
      id: 'vid',
      content: { type: 'video', src: GOOD, playing: false, loop: true },
      transform: { width: 64, height: 36 },
    }),
    201,
    'video layer',
  );
  // The valid layer's decoder (and probe) have started before the watch does.
  for (let i = 0; i < 50 && (await s.call('GET', '/stream/layers/vid')).body.media.state === 'loading'; i++)
    await new Promise((r) => setTimeout(r, 100));
  const before = {
    scene: (await s.call('GET', '/stream/scene')).body,
    scenes: (await s.call('GET', '/stream/scenes')).body,
    ffmpeg: ffmpegDescendants().map((p) => p.pid),
  };
  const watch = watchSpawns();
  t.teardown(() => watch.stop());
  // The process table, read every 20 ms while the refused requests go in.
  const sampled = new Set<string>();
  const sampler = setInterval(() => {
    for (const p of ffmpegDescendants()) if (!before.ffmpeg.includes(p.pid)) sampled.add(`${p.pid} ${p.cmdline}`);
  }, 20);
  t.teardown(() => clearInterval(sampler));

  const video = (src: string): { type: 'video'; src: string } => ({ type: 'video', src });
  const canvas = before.scene.canvas;
  const requests = (src: string): [string, string, unknown][] => [
    ['POST', '/stream/layers', { id: 'new', content: video(src) }],
    ['POST', '/api/stream/layers', { content: video(src) }],
    ['PUT', '/stream/layers/vid', { content: video(src) }],
    ['PATCH', '/stream/layers/vid', { content: { src } }],
    ['PATCH', '/stream/layers/col', { content: video(src) }],
    ['POST', '/stream/batch', { ops: [{ op: 'create', layer: { id: 'new', content: video(src) } }] }],
    ['POST', '/stream/batch', { ops: [{ op: 'patch', id: 'vid', patch: { content: { src } } }] }],
    [
      'POST',
      '/stream/batch',
      {
        ops: [
          { op: 'patch', id: 'col', patch: { opacity: 0.5 } },
          { op: 'replace', id: 'vid', layer: { content: video(src) } },
        ],
      },
    ],
    ['PUT', '/stream/scene', { canvas, layers: [{ id: 'other', content: video(src) }] }],
    ['PUT', '/stream/scenes/evil', { layers: [{ id: 'other', content: video(src) }] }],
  ];

  let refused = 0;
  const wrong: string[] = [];
  for (const src of REFUSED) {
    for (const [method, path, body] of requests(src)) {
      const res = await s.call(method, path, body);
      const issues: { path: string }[] = res.body?.error?.details?.errors ?? res.body?.error?.details ?? [];
      const onSrc = Array.isArray(issues) && issues.some((i) => /src$/.test(i.path));
      if (res.status === 400 && res.body?.error?.code === 'SM_ERR_VALIDATION' && onSrc) refused++;
      else wrong.push(`${method} ${path} ${JSON.stringify(src)}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }
  }
  const total = REFUSED.length * requests('').length;
  t.same(wrong, [], 'every refusal is a 400 SM_ERR_VALIDATION pointing at content.src');
  t.equal(refused, total, `${refused} of ${total} requests refused`);

  const after = {
    scene: (await s.call('GET', '/stream/scene')).body,
    scenes: (await s.call('GET', '/stream/scenes')).body,
  };
  t.same(still(after.scene), still(before.scene), 'the scene (layers, canvas) did not change');
  t.same(after.scenes, before.scenes, 'no saved scene was added');
  t.equal((await s.call('GET', '/stream/layers/new')).status, 404, 'no layer was created');

  // Processes: none started (the watch sees even one that exited at once), none running now.
  await new Promise((r) => setTimeout(r, 200));
  t.same(watch.spawned, [], 'no process was started for a refused source');
  clearInterval(sampler);
  t.same([...sampled], [], 'no new ffmpeg/ffprobe seen in the process table while the requests went in (read every 20 ms)');
  const now = ffmpegDescendants();
  t.same(
    now.filter((p) => !before.ffmpeg.includes(p.pid)).map((p) => p.cmdline),
    [],
    `no new ffmpeg/ffprobe below the server (pid ${process.pid}) in the process table`,
  );

  // The watch and the process table do see the processes the server starts: an allowed source
  // starts its decoder at once.
  t.equal((await s.call('POST', '/stream/layers', { id: 'ok', content: { type: 'video', src: GOOD, loop: true } })).status, 201);
  t.ok(
    watch.spawned.some((c) => /^run /.test(c) && c.includes(join(root, 'assets', 'clip.mp4'))),
    `the watch saw its decoder run start: ${watch.spawned.map((c) => c.slice(0, 100)).join(' | ')}`,
  );
  t.ok(
    watch.spawned.some((c) => /ffprobe/.test(c) && c.includes(join(root, 'assets', 'clip.mp4'))),
    `and its ffprobe`,
  );
  const decoders = ffmpegDescendants().filter((p) => !before.ffmpeg.includes(p.pid));
  t.ok(decoders.length >= 1, `the process table shows it: ${decoders.map((p) => `${p.pid} ${p.comm}`).join(', ')}`);
});

t.test('sources that are allowed are stored as written', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const allowed = [
    'http://example.com/clip.mp4',
    'https://example.com/live/index.m3u8',
    'rtmp://example.com/live/stream',
    'rtmps://example.com:443/live/stream',
    'srt://0.0.0.0:9000?mode=listener',
    'rtsp://camera.local:554/stream1',
    'assets/videos/clip.mp4',
    'a'.repeat(64),
  ];
  for (const src of allowed) {
    const res = await s.call('POST', '/stream/layers', { content: { type: 'video', src, playing: false } });
    // A file that does not exist may be refused by the asset check (its own code), never as a bad source.
    if (!src.includes('://') && res.status !== 201) {
      t.equal(res.body?.error?.code, 'SM_ERR_ASSET_NOT_FOUND', `${src.slice(0, 24)}: only the asset check refuses it`);
      continue;
    }
    t.equal(res.status, 201, `${src.slice(0, 24)}: ${res.status} ${JSON.stringify(res.body?.error ?? '')}`);
    t.equal(res.body.content.src, src, 'stored as written');
    t.equal(res.body.media?.state === undefined, false, 'the answer carries the source status');
    await s.call('DELETE', `/stream/layers/${res.body.id}`);
  }
});
