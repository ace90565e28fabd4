import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { startChild } from './helpers/child-server.js';
import { startServer } from './helpers/server.js';

/**
 * A video upload goes to disk as it arrives (issue 29): a clip of tens of MB is never held in
 * the server's memory, and a server killed with SIGKILL mid-upload starts again clean.
 */

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

// A full collection on demand: without it, the socket chunks already written out linger as
// garbage until V8 gets round to them (they are freed; they only look held).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Uploads `file` from another process (its memory is not this one's), as uploadFile does. */
async function uploadFromChild(base: string, file: string): Promise<{ status: number; body: any }> {
  const helper = resolve('dist/test/helpers/upload-file.js');
  const script = `import { uploadFile } from ${JSON.stringify(helper)};
    const r = await uploadFile(process.argv[1], process.argv[2], 'noise.mp4', 'video/mp4');
    process.stdout.write(JSON.stringify(r));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, base, file], { timeout: 60_000 });
  return JSON.parse(stdout);
}

t.test('a big clip is streamed to disk and hashed on the way: never whole in memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-video-mem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Noise, losslessly coded: ~60 MB of H.264 that no coder can shrink.
  const big = join(dir, 'noise.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=gray:s=640x360:r=30:d=4,noise=alls=100:allf=t',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-qp',
    '0',
    big,
  ]);
  const size = statSync(big).size;
  t.ok(size > 40 * MB, `${(size / MB).toFixed(1)} MB clip`);

  const s = await startServer();
  t.teardown(() => s.close());
  gc();
  gc();
  const before = process.memoryUsage();
  let peakBuffers = before.arrayBuffers;
  let peakRss = before.rss;
  const sampler = setInterval(() => {
    // Twice: the first collection's dead buffers are freed when the next one starts.
    gc();
    gc();
    const m = process.memoryUsage();
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss);
  }, 150);
  const up = await uploadFromChild(s.base, big).finally(() => clearInterval(sampler));
  t.equal(up.status, 201, JSON.stringify(up.body));
  t.match(up.body, { kind: 'video', width: 640, height: 360, bytes: size, video: { codec: 'h264', durationMs: 4000 } });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(big)) hash.update(chunk as Buffer);
  t.equal(up.body.id, hash.digest('hex'), 'hashed while streaming: the id is the SHA-256 of the bytes');
  const held = (peakBuffers - before.arrayBuffers) / MB;
  t.ok(held < 8, `at most ${held.toFixed(1)} MB of buffers held at once for a ${(size / MB).toFixed(1)} MB upload`);
  const grew = (peakRss - before.rss) / MB;
  t.ok(grew < size / MB / 2, `RSS grew ${grew.toFixed(1)} MB at most`);
  t.equal(statSync(join(s.dir, 'assets', up.body.id)).size, size, 'stored whole');
});

t.test('kill -9 mid-upload leaves nothing that breaks the next start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-video-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    ASSET_STORAGE_PATH: join(dir, 'assets'),
    DATA_DIR: join(dir, 'data'),
    STATE_STORE: 'file',
    AUTOSTART: 'false',
    DEFAULT_SCENE: 'empty',
    WORKERS: '1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
  };
  const clip = join(dir, 'clip.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=gray:s=320x240:r=30:d=3,noise=alls=100:allf=t',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-qp',
    '0',
    clip,
  ]);
  const bytes = readFileSync(clip);
  const s = await startChild(env);
  t.teardown(() => s.stop('SIGKILL'));
  const kept = await s.call('GET', '/stream/assets');
  t.same(kept.body.assets, []);

  const req = request({
    host: '127.0.0.1',
    port: new URL(s.base).port,
    path: '/stream/assets/upload',
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=sm-kill', 'content-length': bytes.length + 200 },
  });
  req.on('error', () => undefined);
  req.write(`--sm-kill\r\nContent-Disposition: form-data; name="file"; filename="half.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
  req.write(bytes.subarray(0, bytes.length >> 1));
  const incoming = join(env.ASSET_STORAGE_PATH, '.incoming');
  const received = (): number =>
    readdirSync(incoming).reduce(
      (sum, d) => sum + readdirSync(join(incoming, d)).reduce((n, f) => n + statSync(join(incoming, d, f)).size, 0),
      0,
    );
  for (let i = 0; i < 100 && received() < bytes.length / 4; i++) await sleep(50);
  t.ok(received() >= bytes.length / 4, `${(received() / MB).toFixed(1)} MB received when the server is killed`);
  t.equal(await s.stop('SIGKILL'), null, 'killed');
  req.destroy();
  // And the temp file of an asset write that a kill interrupted.
  const stray = join(env.ASSET_STORAGE_PATH, `${'a'.repeat(64)}.tmp-1-2`);
  writeFileSync(stray, 'half an image');

  const again = await startChild(env);
  t.teardown(() => again.stop());
  t.same(readdirSync(incoming), [], 'the half upload is gone at start');
  t.notOk(existsSync(stray), 'so is the temp file of an interrupted write');
  t.same((await again.call('GET', '/stream/assets')).body.assets, [], 'no asset from the half upload');
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'video/mp4' }), 'clip.mp4');
  const up = await fetch(`${again.base}/stream/assets/upload`, { method: 'POST', body: form });
  t.equal(up.status, 201, 'the same clip uploads whole after the restart');
  const meta = (await up.json()) as { id: string; bytes: number };
  t.equal(meta.bytes, bytes.length);
  t.equal((await fetch(`${again.base}/stream/assets/${meta.id}/poster`)).status, 200, 'with its poster');
  t.equal(await again.stop(), 0);
});
