import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startChild } from './helpers/child-server.js';
import { startServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload-file.js';

/**
 * A video upload goes to disk as it arrives (issue 29): a clip of 145 MB does not grow the
 * server's memory by its size, and a server killed with SIGKILL mid-upload starts again clean.
 * The memory check runs the server as a child process, so that its memory is its own. And a
 * probe that hangs is killed at its timeout.
 */

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

/** Resident memory of process `pid`, bytes. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) * 1024;
}

t.test('a big clip is streamed to disk and hashed on the way: the server does not grow by its size', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-video-mem-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // ~145 MB of uncompressed noise in MKV (random bytes: the multipart parser often splits a chunk
  // where a byte might start the boundary): more than V8 lets garbage buffers (the socket's chunks,
  // once written out) pile up before it collects them (64 MB), so a clip held whole would show.
  const big = join(dir, 'raw.mkv');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=640x360:r=30:d=14',
    '-c:v',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    big,
  ]);
  const size = statSync(big).size;
  t.ok(size > 120 * MB, `${(size / MB).toFixed(1)} MB clip`);
  const small = join(dir, 'small.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x120:r=25:d=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    small,
  ]);

  // A child process: its memory is the server's alone (this process sends the file from disk).
  const s = await startChild({
    ASSET_STORAGE_PATH: join(dir, 'assets'),
    DATA_DIR: join(dir, 'data'),
    STATE_STORE: 'memory',
    AUTOSTART: 'false',
    DEFAULT_SCENE: 'empty',
    WORKERS: '1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    REQUEST_TIMEOUT_MS: '300000',
  });
  t.teardown(() => s.stop('SIGKILL'));
  const pid = s.proc.pid!;
  t.equal((await uploadFile(s.base, small, 'small.mp4')).status, 201, 'a first upload (its code paths warm)');
  const before = rss(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  const up = await uploadFile(s.base, big, 'raw.mkv').finally(() => clearInterval(sampler));
  t.equal(up.status, 201, JSON.stringify(up.body));
  t.match(up.body, {
    kind: 'video',
    mime: 'video/matroska',
    width: 640,
    height: 360,
    bytes: size,
    video: { codec: 'rawvideo', durationMs: 14000 },
  });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(big)) hash.update(chunk as Buffer);
  t.equal(up.body.id, hash.digest('hex'), 'hashed while streaming: the id is the SHA-256 of the bytes');
  const grew = (peak - before) / MB;
  t.ok(grew < size / MB / 2, `the server's RSS grew ${grew.toFixed(1)} MB at most for a ${(size / MB).toFixed(1)} MB upload`);
  t.equal(statSync(join(dir, 'assets', up.body.id)).size, size, 'stored whole');
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

t.test('a probe that hangs is killed, and the upload refused', async (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'sm-hang-'));
  const { stdout } = await run('sh', ['-c', 'command -v ffmpeg']);
  symlinkSync(stdout.trim(), join(bin, 'ffmpeg'));
  const pidFile = join(bin, 'pid');
  writeFileSync(join(bin, 'ffprobe'), `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 600\n`);
  chmodSync(join(bin, 'ffprobe'), 0o755);
  t.teardown(() => rmSync(bin, { recursive: true, force: true }));
  const clip = join(bin, 'clip.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=160x120:r=25:d=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    clip,
  ]);
  const s = await startServer({ FFMPEG_PATH: join(bin, 'ffmpeg') });
  t.teardown(() => s.close());
  const started = Date.now();
  const res = await uploadFile(s.base, clip, 'clip.mp4');
  const ms = Date.now() - started;
  t.equal(res.status, 422, JSON.stringify(res.body));
  t.equal(res.body.error.code, 'SM_ERR_UNDECODABLE');
  t.ok(ms >= 9_000 && ms < 20_000, `refused after ${ms} ms (the probe's 10 s timeout)`);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  t.notOk(alive(), `the hung ffprobe (pid ${pid}) is gone`);
  t.same(readdirSync(join(s.dir, 'assets', '.incoming')), []);
});
