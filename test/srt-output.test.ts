import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild } from './helpers/child-server.js';
import { probeVideo } from './helpers/media.js';
import { freePort } from './helpers/rtmp-server.js';

/**
 * An SRT output against a real SRT peer: ffmpeg (libsrt) listening with a passphrase and
 * recording what it receives. The server is the caller, as with an SRT ingest (OBS, vMix, SRT
 * gateways).
 */

const PASSPHRASE = 'srt-secret-passphrase-42';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type View = { id: string; state: string; bytes: number; bitrateBps: number | null; url: string | null };

t.test('srt output: an encrypted SRT listener receives the stream; the passphrase stays out of views and logs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-srt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = join(dir, 'received.ts');
  const listener = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      `srt://127.0.0.1:${port}?mode=listener&passphrase=${PASSPHRASE}`,
      '-c',
      'copy',
      '-t',
      '3',
      '-y',
      file,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let listenerErr = '';
  listener.stderr.on('data', (d: Buffer) => (listenerErr += d.toString()));
  const listenerDone = new Promise<number | null>((resolve) => listener.once('exit', (code) => resolve(code)));
  t.teardown(() => listener.kill('SIGKILL'));

  const s = await startChild({
    WIDTH: '320',
    HEIGHT: '180',
    FPS: '30',
    DEFAULT_SCENE: 'auction',
    STATE_STORE: 'memory',
    AUTOSTART: 'false',
    DATA_DIR: join(dir, 'data'),
  });
  t.teardown(() => s.stop('SIGKILL'));
  const url = `srt://127.0.0.1:${port}?passphrase=${PASSPHRASE}&latency=200000`;
  const created = await s.call('POST', '/stream/outputs', { id: 'srt', kind: 'srt', url });
  t.equal(created.status, 201);
  t.equal(created.body.url, `srt://127.0.0.1:${port}?passphrase=***&latency=***`, 'the view hides query values');
  t.equal((await s.call('POST', '/stream/start')).status, 200);

  let view: View | undefined;
  for (let i = 0; i < 40; i++) {
    view = ((await s.call('GET', '/stream/outputs')).body.outputs as View[]).find((o) => o.id === 'srt');
    if (view?.state === 'live' && view.bytes > 0) break;
    await sleep(250);
  }
  t.equal(view?.state, 'live', 'the SRT output goes live');
  t.ok((view?.bytes ?? 0) > 0, `bytes sent: ${view?.bytes}`);

  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([listenerDone, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))]);
  clearTimeout(timer);
  t.equal(code, 0, `the listener recorded 3 s and exited (${listenerErr.trim() || 'no errors'})`);
  t.ok(existsSync(file) && statSync(file).size > 10_000, 'it wrote what it received');
  const probe = await probeVideo(file, true);
  t.match(probe, { codec: 'h264', width: 320, height: 180 }, 'the received stream decodes');
  const frames = probe.frames ?? 0;
  t.ok(frames >= 60, `about 3 s of 30 fps video arrived: ${frames} frames`);
  t.notMatch(s.output(), PASSPHRASE, 'the passphrase is in no log line');
});
