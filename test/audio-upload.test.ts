import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound } from './helpers/audio.js';
import { startServer } from './helpers/server.js';
import { uploadFile } from './helpers/upload-file.js';

/**
 * Audio uploads and `audio` layers' sources (issue 30): files made at test time, told by their
 * bytes and probed as videos are; an HTML page is refused (415), a truncated MP3 too (422); an
 * audio layer's `src` follows a video layer's rules (no pseudo-protocols, options or hosts that
 * VIDEO_LIVE_HOSTS does not allow).
 */

t.test('audio uploads and audio layer sources', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-audio-up-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startServer({ VIDEO_LIVE_HOSTS: 'cams.example.com' });
  t.teardown(() => s.close());
  const tone = 'sine=f=440:r=48000:d=2';
  const kinds: Array<[string, string[], RegExp]> = [
    ['tone.wav', [], /^audio\/(wav|vnd\.wave|x-wav)$/],
    ['tone.mp3', ['-c:a', 'libmp3lame', '-b:a', '96k'], /^audio\/mpeg$/],
    ['tone.flac', [], /^audio\/(x-)?flac$/],
    ['tone.opus', ['-c:a', 'libopus', '-f', 'ogg'], /^audio\/(ogg|opus)/],
    ['tone.m4a', ['-c:a', 'aac'], /^audio\/(x-m4a|mp4)$/],
  ];
  const ids: Record<string, string> = {};
  for (const [name, args, mime] of kinds) {
    await makeSound(join(dir, name), tone, args);
    const up = await uploadFile(s.base, join(dir, name), name);
    t.equal(up.status, 201, `${name}: ${JSON.stringify(up.body)}`);
    t.equal(up.body.kind, 'audio', `${name} is an audio asset`);
    t.match(up.body.mime, mime, `${name}: ${up.body.mime}`);
    t.ok(Math.abs(up.body.audio.durationMs - 2000) < 120, `${name}: ${up.body.audio.durationMs} ms`);
    t.equal(up.body.audio.channels, 2, `${name}: stereo`);
    ids[name] = up.body.id;
  }

  const html = Buffer.from(
    '<!doctype html><html><head><title>x</title></head><body><audio src="a.mp3"></audio></body></html>\n'.repeat(40),
  );
  const refusedHtml = await uploadFile(s.base, html, 'song.mp3', 'audio/mpeg');
  t.equal(refusedHtml.status, 415, `an HTML page named .mp3: ${JSON.stringify(refusedHtml.body)}`);
  t.equal(refusedHtml.body.error.code, 'SM_ERR_UNSUPPORTED_TYPE');

  await makeSound(join(dir, 'long.mp3'), 'sine=f=440:r=48000:d=6', ['-c:a', 'libmp3lame', '-b:a', '128k']);
  const whole = readFileSync(join(dir, 'long.mp3'));
  const cut = await uploadFile(s.base, whole.subarray(0, Math.floor(whole.length / 3)), 'cut.mp3');
  t.equal(cut.status, 422, `a truncated MP3: ${JSON.stringify(cut.body)}`);
  t.equal(cut.body.error.code, 'SM_ERR_UNDECODABLE');
  t.match(cut.body.error.message, /cut short/);

  const layer = (id: string, src: string): Promise<{ status: number; body: any }> =>
    s.call('POST', '/stream/layers', { id, content: { type: 'audio', src } });
  t.equal((await layer('music', ids['tone.mp3']!)).status, 201, 'an audio layer plays an uploaded file');
  t.equal((await layer('feed', 'rtmp://cams.example.com/live/mic')).status, 201, 'or a feed from an allowed host');
  const refused: Array<[string, string, number]> = [
    ['a host VIDEO_LIVE_HOSTS does not allow', 'rtmp://evil.example.org/live/x', 400],
    ['file:', 'file:/etc/passwd', 400],
    ['a pseudo-protocol', 'concat:/etc/passwd|/etc/hosts', 400],
    ['an option', '-i', 400],
    ['a path out of assets/', 'assets/../../etc/passwd', 400],
    ['an unknown asset', 'f'.repeat(64), 400],
  ];
  for (const [what, src, status] of refused) {
    const res = await layer('bad', src);
    t.ok(res.status === status || res.status === 403, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  t.equal((await s.call('GET', '/stream/layers/bad')).status, 404, 'no refused layer was stored');
  const body = (await s.call('GET', '/stream/layers')).body as { layers: Array<{ id: string }> } | Array<{ id: string }>;
  const listed = Array.isArray(body) ? body : body.layers;
  t.same(listed.map((l) => l.id).sort(), ['feed', 'music'], 'the layers stored');
});
