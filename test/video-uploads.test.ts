import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { decode, startServer, type TestServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload-file.js';

/**
 * Video uploads (issue 29): MP4, MOV, MKV and WebM made by ffmpeg now, sent by a real HTTP client
 * that streams them from disk; what the server stores, refuses, serves as a poster and keeps
 * while layers use it.
 */

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'sm-video-up-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** Runs ffmpeg (quiet, overwrite) and returns `out`'s path under the scratch folder. */
async function ffmpeg(out: string, args: string[]): Promise<string> {
  const path = join(work, out);
  await run('ffmpeg', ['-v', 'error', '-y', ...args, path], { timeout: 60_000 });
  return path;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const upload = uploadFile;

/** Files in the storage folder other than the upload folder, and what is left in the upload folder. */
function storage(s: TestServer): { files: string[]; incoming: string[] } {
  const dir = join(s.dir, 'assets');
  return { files: readdirSync(dir).filter((f) => f !== '.incoming'), incoming: readdirSync(join(dir, '.incoming')) };
}

const near = (actual: number, expected: number, tolerance: number): boolean => Math.abs(actual - expected) <= tolerance;

t.test('video uploads', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const assetList = async (): Promise<string[]> => (await s.call('GET', '/stream/assets')).body.assets.map((a: { id: string }) => a.id);

  await t.test('MP4, MOV, MKV and WebM are accepted by their bytes, with what ffprobe found', async (t) => {
    const cases = [
      {
        file: await ffmpeg('a.mp4', [
          '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=2',
          '-f', 'lavfi', '-i', 'sine=f=440:d=2:sample_rate=48000',
          '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
        ]), // prettier-ignore
        name: 'clip.bin',
        expect: {
          mime: 'video/mp4',
          width: 320,
          height: 240,
          codec: 'h264',
          fps: 25,
          ms: 2000,
          audio: { codec: 'aac', sampleRate: 48000, channels: 1 },
        },
      },
      {
        file: await ffmpeg('b.mov', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=s=176x144:r=30:d=1.5',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
        ]),
        name: 'b.mov',
        expect: { mime: 'video/quicktime', width: 176, height: 144, codec: 'h264', fps: 30, ms: 1500, audio: null },
      },
      {
        file: await ffmpeg('c.mkv', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=s=160x120:r=24:d=3',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p',
        ]),
        name: 'c.png',
        expect: { mime: 'video/matroska', width: 160, height: 120, codec: 'h264', fps: 24, ms: 3000, audio: null },
      },
      {
        file: await ffmpeg('d.webm', [
          '-f', 'lavfi', '-i', 'testsrc2=s=192x108:r=30:d=2', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k',
        ]), // prettier-ignore
        name: 'd.webm',
        expect: { mime: 'video/webm', width: 192, height: 108, codec: 'vp9', fps: 30, ms: 2000, audio: null },
      },
    ];
    // WebM written to a pipe, as browsers' MediaRecorder writes it: no duration in its header, so it is measured.
    const { stdout } = await run(
      'ffmpeg',
      ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=2', '-c:v', 'libvpx', '-b:v', '200k', '-f', 'webm', 'pipe:1'],
      {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    writeFileSync(join(work, 'piped.webm'), stdout);
    const header = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', join(work, 'piped.webm')]);
    t.equal(header.stdout.trim(), 'N/A', 'the piped WebM has no duration in its header');
    cases.push({
      file: join(work, 'piped.webm'),
      name: 'piped.webm',
      expect: { mime: 'video/webm', width: 160, height: 90, codec: 'vp8', fps: 25, ms: 2000, audio: null },
    });

    for (const c of cases) {
      const bytes = readFileSync(c.file);
      const up = await upload(s.base, c.file, c.name, 'text/plain');
      t.equal(up.status, 201, `${c.name}: ${JSON.stringify(up.body)}`);
      const e = c.expect;
      t.match(up.body, { kind: 'video', mime: e.mime, width: e.width, height: e.height, bytes: bytes.length, name: c.name }, c.name);
      t.equal(up.body.id, sha256(bytes), `${c.name}: the id is the SHA-256 of its bytes`);
      t.equal(up.body.video.codec, e.codec, `${c.name}: codec`);
      t.ok(near(up.body.video.fps, e.fps, 0.01), `${c.name}: ${up.body.video.fps} fps`);
      t.ok(near(up.body.video.durationMs, e.ms, 50), `${c.name}: ${up.body.video.durationMs} ms`);
      t.same(up.body.video.audio, e.audio, `${c.name}: audio`);
      t.same((await s.call('GET', `/stream/assets/${up.body.id}`)).body, up.body, `${c.name}: GET /assets/:id`);
      const again = await upload(s.base, c.file, 'again.mp4');
      t.equal(again.status, 200, `${c.name}: the same bytes again are the same asset`);
      t.equal(again.body.id, up.body.id);
      const content = await fetch(`${s.base}/stream/assets/${up.body.id}/content`);
      t.equal(content.headers.get('content-type'), e.mime);
      t.equal(sha256(Buffer.from(await content.arrayBuffer())), up.body.id, `${c.name}: the bytes back`);
    }
    t.equal((await assetList()).length, cases.length, 'one asset per clip');
    t.same(storage(s).incoming, [], 'nothing left in the upload folder');
  });

  await t.test('the poster is a frame 1 s in, at the clip size, in its colours', async (t) => {
    // Red for 0.5 s, then #3366cc: a poster cut at 0 would be red.
    const file = await ffmpeg('poster.mp4', [
      '-f', 'lavfi', '-i', 'color=c=red:s=96x64:r=25:d=0.5[a];color=c=0x3366cc:s=96x64:r=25:d=1.5[b];[a][b]concat=n=2:v=1:a=0[out0]',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    ]); // prettier-ignore
    const up = await upload(s.base, file, 'poster.mp4');
    t.equal(up.status, 201, JSON.stringify(up.body));
    const res = await fetch(`${s.base}/stream/assets/${up.body.id}/poster`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-type'), 'image/jpeg');
    const etag = res.headers.get('etag')!;
    const p = await decode(Buffer.from(await res.arrayBuffer()));
    t.same([p.width, p.height], [96, 64], 'the clip size');
    for (const [x, y] of [
      [48, 32],
      [2, 2],
      [93, 61],
    ] as const) {
      const [r, g, b] = p.at(x, y);
      t.ok(near(r, 0x33, 12) && near(g, 0x66, 12) && near(b, 0xcc, 12), `(${x},${y}) is ${r},${g},${b}, about #3366cc`);
    }
    t.equal((await fetch(`${s.base}/stream/assets/${up.body.id}/poster`, { headers: { 'if-none-match': etag } })).status, 304);
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const image = await upload(s.base, png, 'x.png');
    const none = await s.call('GET', `/stream/assets/${image.body.id}/poster`);
    t.equal(none.status, 404, 'an image has no poster');
    t.match(none.body.error.message, /only videos have a poster/);
    await s.call('DELETE', `/stream/assets/${image.body.id}`);
  });

  await t.test('refused: not a video (415), undecodable (422); nothing stored', async (t) => {
    const before = { assets: await assetList(), files: storage(s).files };
    const mp4 = await ffmpeg('whole.mp4', [
      '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=4', '-f', 'lavfi', '-i', 'sine=d=4',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
    ]); // prettier-ignore
    const faststart = await ffmpeg('faststart.mp4', ['-i', mp4, '-c', 'copy', '-movflags', '+faststart']);
    const whole = readFileSync(mp4);
    const front = readFileSync(faststart);
    const webm = readFileSync(join(work, 'd.webm'));
    const mdat = front.indexOf('mdat');
    const scrambled = Buffer.concat([front.subarray(0, mdat + 20), randomBytes(front.length - mdat - 20)]);
    const audioOnly = readFileSync(await ffmpeg('audio.webm', ['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'libopus']));

    const cases: [string, Buffer, number, string, RegExp?][] = [
      ['page.mp4', Buffer.from('<!doctype html><html><body>not a clip</body></html>'), 415, 'SM_ERR_UNSUPPORTED_TYPE'],
      ['noise.webm', randomBytes(64 * 1024), 415, 'SM_ERR_UNSUPPORTED_TYPE'],
      ['moov-cut.mp4', whole.subarray(0, whole.length >> 1), 422, 'SM_ERR_UNDECODABLE', /ffprobe cannot read/],
      ['mdat-cut.mp4', front.subarray(0, front.length >> 1), 422, 'SM_ERR_UNDECODABLE', /cut short/],
      ['ftyp-then-garbage.mp4', Buffer.concat([whole.subarray(0, 32), randomBytes(100 * 1024)]), 422, 'SM_ERR_UNDECODABLE'],
      ['ebml-then-garbage.webm', Buffer.concat([webm.subarray(0, 48), randomBytes(100 * 1024)]), 422, 'SM_ERR_UNDECODABLE'],
      ['scrambled-pictures.mp4', scrambled, 422, 'SM_ERR_UNDECODABLE'],
      ['sound-only.webm', audioOnly, 422, 'SM_ERR_UNDECODABLE', /no video stream/],
    ];
    for (const [name, bytes, status, code, message] of cases) {
      const res = await upload(s.base, bytes, name, 'video/mp4');
      t.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      t.equal(res.body.error?.code, code, name);
      if (message) t.match(res.body.error.message, message, name);
    }
    t.same(await assetList(), before.assets, 'no asset added');
    t.same(storage(s).files, before.files, 'no file left in the storage folder');
    t.same(storage(s).incoming, [], 'nothing left in the upload folder');

    const png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const renamed = await upload(s.base, png, 'clip.mp4', 'video/mp4');
    t.equal(renamed.status, 201, 'a PNG named .mp4 is what its bytes say: an image');
    t.match(renamed.body, { kind: 'image', mime: 'image/png', width: 8, height: 6 });
    t.equal((await s.call('DELETE', `/stream/assets/${renamed.body.id}`)).status, 200);

    // A client that goes away mid-upload leaves nothing behind.
    const big = await ffmpeg('abort.mp4', [
      '-f',
      'lavfi',
      '-i',
      'color=gray:s=320x240:r=30:d=2,noise=alls=100:allf=t',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-qp',
      '0',
    ]);
    const abort = await new Promise<string>((resolve) => {
      const boundary = 'sm-abort';
      const req = request({
        host: '127.0.0.1',
        port: s.app.port,
        path: '/stream/assets/upload',
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': statSync(big).size + 500 },
      });
      req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
      req.write(readFileSync(big).subarray(0, 1024 * 1024), () => {
        setTimeout(() => {
          const [folder] = storage(s).incoming;
          const received = folder ? readdirSync(join(s.dir, 'assets', '.incoming', folder)) : [];
          t.equal(received.length, 1, 'the upload is being received into a file of its own');
          req.destroy();
          resolve('destroyed');
        }, 300);
      });
    });
    t.equal(abort, 'destroyed');
    for (let i = 0; i < 40 && storage(s).incoming.length; i++) await new Promise((r) => setTimeout(r, 50));
    t.same(storage(s).incoming, [], 'an aborted upload leaves nothing behind');
    t.same(await assetList(), before.assets);

    const two = new FormData();
    two.append('a', new Blob([readFileSync(join(work, 'b.mov'))], { type: 'video/quicktime' }), 'a.mov');
    two.append('b', new Blob([readFileSync(join(work, 'd.webm'))], { type: 'video/webm' }), 'b.webm');
    const both = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: two });
    t.equal(both.status, 400, 'two files in one upload');
    t.match(((await both.json()) as { error: { message: string } }).error.message, /exactly one file/);

    // A part without a Content-Type is a form field to formidable, held in memory: refused past 64 KiB.
    const form = new FormData();
    form.append('file', 'x'.repeat(200 * 1024));
    const field = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form });
    t.equal(field.status, 400, 'a 200 KiB form field');
    t.match(((await field.json()) as { error: { message: string } }).error.message, /send the file as a file part/);
  });

  await t.test('video layers: src must be a video asset or a file under assets/; in use, it is not deleted without force', async (t) => {
    const file = join(work, 'b.mov');
    const video = (await upload(s.base, file, 'b.mov')).body.id as string;
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0000ff' } })
      .png()
      .toBuffer();
    const image = (await upload(s.base, png, 'blue.png')).body.id as string;
    const layer = (id: string, src: string) => ({ id, transform: { x: 0, y: 0, width: 160, height: 90 }, content: { type: 'video', src } });

    const wrongKind = await s.call('POST', '/stream/layers', layer('v0', image));
    t.equal(wrongKind.status, 400, 'an image id in a video layer');
    t.equal(wrongKind.body.error.code, 'SM_ERR_ASSET_NOT_FOUND');
    t.match(wrongKind.body.error.message, /is an image, not a video/);
    const unknown = await s.call('POST', '/stream/layers', layer('v0', 'e'.repeat(64)));
    t.equal(unknown.status, 400, 'an unknown id');
    t.match(unknown.body.error.message, /No video asset/);
    for (const path of ['assets/no-such-clip.mp4', 'assets/fonts', 'assets/fonts/LiberationSans-Bold.ttf/x']) {
      const res = await s.call('POST', '/stream/layers', layer('v0', path));
      t.equal(res.status, 400, `${path}: not a file`);
      t.equal(res.body.error.code, 'SM_ERR_ASSET_NOT_FOUND');
    }
    const asImage = await s.call('POST', '/stream/layers', { id: 'i0', content: { type: 'image', src: video } });
    t.equal(asImage.status, 400, 'a video id in an image layer');
    t.match(asImage.body.error.message, /is a video, not an image/);
    t.same((await s.call('GET', '/stream/layers')).body.layers, [], 'nothing created');

    t.equal((await s.call('POST', '/stream/layers', layer('clip', video))).status, 201, 'a video asset');
    const live = await s.call('POST', '/stream/layers', layer('feed', 'rtmp://127.0.0.1:1/live/none'));
    t.equal(live.status, 201, 'a live URL is not checked for existence here');
    await s.call('DELETE', '/stream/layers/feed');
    t.equal((await s.call('PUT', '/stream/scenes/promo', { layers: [layer('promo-clip', video)] })).status, 200);

    const refused = await s.call('DELETE', `/stream/assets/${video}`);
    t.equal(refused.status, 409);
    t.equal(refused.body.error.code, 'SM_ERR_ASSET_IN_USE');
    t.same(refused.body.error.details, { layers: ['clip'], scenes: [{ name: 'promo', layers: ['promo-clip'] }] });
    t.ok(storage(s).files.includes(video) && storage(s).files.includes(`${video}.poster.jpg`), 'file and poster kept');

    const forced = await s.call('DELETE', `/stream/assets/${video}?force=true`);
    t.equal(forced.status, 200);
    t.same(forced.body, { deleted: video, hiddenLayers: ['clip'], removedFromScenes: [{ name: 'promo', layers: ['promo-clip'] }] });
    t.equal((await s.call('GET', `/stream/assets/${video}`)).status, 404);
    t.equal((await s.call('GET', `/stream/assets/${video}/poster`)).status, 404);
    t.notOk(
      storage(s).files.some((f) => f.startsWith(video)),
      'file and poster removed',
    );
    await s.call('DELETE', '/stream/layers/clip');
    await s.call('DELETE', `/stream/assets/${image}`);
  });
});

t.test('limits: MAX_VIDEO_PIXELS, MAX_VIDEO_DURATION_S (422) and the upload size by kind (413)', async (t) => {
  const s = await startServer({
    MAX_VIDEO_PIXELS: String(100 * 100),
    MAX_VIDEO_DURATION_S: '1',
    MAX_UPLOAD_SIZE: '20000',
    MAX_VIDEO_UPLOAD_SIZE: '200000',
  });
  t.teardown(() => s.close());
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const wide = await ffmpeg('wide.mp4', ['-f', 'lavfi', '-i', 'testsrc2=s=128x96:r=25:d=0.5', ...x264]);
  const long = await ffmpeg('long.mp4', ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25:d=2', ...x264]);
  const fine = await ffmpeg('fine.mp4', ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25:d=0.8', ...x264]);
  const heavy = await ffmpeg('heavy.mp4', [
    '-f',
    'lavfi',
    '-i',
    'color=gray:s=96x96:r=25:d=0.8,noise=alls=100:allf=t',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-qp',
    '0',
  ]);
  t.ok(statSync(heavy).size > 200_000, `${statSync(heavy).size} bytes`);
  const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff00ff' } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  t.ok(png.length > 20_000 && png.length < 200_000, `${png.length} bytes`);

  const pixels = await upload(s.base, wide, 'wide.mp4');
  t.equal(pixels.status, 422);
  t.equal(pixels.body.error.code, 'SM_ERR_VIDEO_LIMIT');
  t.match(pixels.body.error.message, /128x96 \(12288 pixels\); at most 10000 pixels .*MAX_VIDEO_PIXELS/);
  t.same(pixels.body.error.details, { limit: 'MAX_VIDEO_PIXELS', value: 12288, max: 10000 });

  const duration = await upload(s.base, long, 'long.mp4');
  t.equal(duration.status, 422);
  t.equal(duration.body.error.code, 'SM_ERR_VIDEO_LIMIT');
  t.match(duration.body.error.message, /2\.0 s long; at most 1 s .*MAX_VIDEO_DURATION_S/);

  const tooBig = await upload(s.base, heavy, 'heavy.mp4');
  t.equal(tooBig.status, 413, 'a video over MAX_VIDEO_UPLOAD_SIZE');
  t.match(tooBig.body.error.message, /over 200000 bytes .*MAX_VIDEO_UPLOAD_SIZE/);
  const image = await upload(s.base, png, 'big.png');
  t.equal(image.status, 413, 'an image over MAX_UPLOAD_SIZE, though under MAX_VIDEO_UPLOAD_SIZE');
  t.match(image.body.error.message, /over 20000 bytes \(MAX_UPLOAD_SIZE\)/);

  const dir = join(s.dir, 'assets');
  t.same(readdirSync(dir), ['.incoming'], 'nothing stored');
  t.same(readdirSync(join(dir, '.incoming')), [], 'nothing left in the upload folder');
  t.same((await s.call('GET', '/stream/assets')).body.assets, []);
  const ok = await upload(s.base, fine, 'fine.mp4');
  t.equal(ok.status, 201, 'within every limit');
  t.match(ok.body, { width: 64, height: 48, video: { durationMs: 800 } });
});
