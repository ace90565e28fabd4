import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { probeVideo } from './helpers/media.js';
import { freePort } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';
import { childEnv } from './helpers/child-env.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a resolution change while live restarts the encoder into a new file', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/start');
  await sleep(1000);
  const changed = await s.call('PATCH', '/stream/config', { width: 256, height: 144 });
  t.equal(changed.status, 200);
  const status = await s.call('GET', '/stream/status');
  t.equal(status.body.isLive, true, 'still live');
  await sleep(1000);
  const snap = await s.snapshot();
  t.same([snap.width, snap.height], [256, 144], 'frames at the new size');
  await s.call('POST', '/stream/stop');
  const files = readdirSync(join(s.dir, 'recordings')).sort();
  t.equal(files.length, 2, `two recordings: ${files.join(', ')}`);
  const sizes = await Promise.all(files.map((f) => probeVideo(join(s.dir, 'recordings', f))));
  t.same(sizes.map((p) => `${p.codec} ${p.width}x${p.height}`).sort(), ['h264 256x144', 'h264 320x240'].sort());
});

t.test('pause holds the last frame in the output', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'empty' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/layers', {
    id: 'box',
    transform: { x: 0, y: 0, width: 50, height: 50 },
    content: { type: 'color', color: '#ff0000' },
  });
  await s.call('POST', '/stream/start');
  await sleep(300);
  await s.call('POST', '/stream/pause');
  const before = (await s.call('GET', '/stream/status')).body.frameCount;
  await s.call('PATCH', '/stream/layers/box', { content: { color: '#00ff00' } });
  await sleep(500);
  const paused = await s.call('GET', '/stream/status');
  t.ok(paused.body.frameCount > before + 8, `frames keep going out while paused (${before} -> ${paused.body.frameCount})`);
  t.same((await s.snapshot()).at(10, 10).slice(0, 3), [255, 0, 0], 'the held frame: the change is not shown');
  await s.call('POST', '/stream/resume');
  await sleep(200);
  t.same((await s.snapshot()).at(10, 10).slice(0, 3), [0, 255, 0], 'after resume the change shows');
  await s.call('POST', '/stream/stop');
});

t.test('a missing ffmpeg is a 502 with a code, and the stream stays stopped', async (t) => {
  const s = await startServer({ FFMPEG_PATH: '/nonexistent/ffmpeg' });
  t.teardown(() => s.close());
  const res = await s.call('POST', '/stream/start');
  t.equal(res.status, 502);
  t.equal(res.body.error.code, 'SM_ERR_ENCODER');
  t.match(res.body.error.message, /ENOENT/);
  t.equal((await s.call('GET', '/stream/status')).body.isLive, false);
});

t.test('an encoder that keeps dying is restarted with backoff, then given up on with the error in the state', async (t) => {
  const s = await startServer({
    FFMPEG_PATH: resolve('test/fixtures/dying-ffmpeg.sh'),
    ENCODER_MAX_RETRIES: '2',
    ENCODER_RESTART_DELAY_MS: '100',
  });
  t.teardown(() => s.close());
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  let state = (await s.call('GET', '/stream/status')).body;
  for (let i = 0; i < 100 && state.isLive; i++) {
    await sleep(100);
    state = (await s.call('GET', '/stream/status')).body;
  }
  t.equal(state.isLive, false);
  t.match(state.error, /failed 2 restarts in a row.*simulated encoder crash/);
  t.match((await s.call('GET', '/health')).body, { status: 'degraded', stream: { stoppedInError: true } }, '/health says so');
  t.match(await s.call('GET', '/health/ready'), { status: 503, body: { failing: ['stream'] } }, '/health/ready too');
  const metrics = await (await fetch(`${s.base}/metrics`)).text();
  t.match(metrics, /stream_manager_encoder_restarts_total 2/, 'two restarts before giving up');
  t.equal((await s.call('POST', '/stream/start')).status, 200, 'can be started again');
  await s.call('POST', '/stream/stop').catch(() => undefined);
});

t.test('SIGTERM stops cleanly and leaves a playable recording', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-sigterm-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/orchestrator/main.js'], {
    env: {
      ...childEnv(),
      PORT: String(port),
      WS_PORT: '0',
      WIDTH: '320',
      HEIGHT: '180',
      RECORDINGS_DIR: join(dir, 'rec'),
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // Live first, then listening: the first status a client reads already says live.
  for (let i = 0; i < 100 && !out.includes('stream manager listening'); i++) await sleep(100);
  t.match(out, /stream is live/, 'autostarts with the default scene');
  const status = (await (await fetch(`http://127.0.0.1:${port}/stream/status`)).json()) as { isLive: boolean };
  t.equal(status.isLive, true);
  await sleep(1500);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.equal(code, 0, 'exit 0');
  const files = readdirSync(join(dir, 'rec'));
  t.equal(files.length, 1);
  const probe = await probeVideo(join(dir, 'rec', files[0]!), true);
  t.equal(probe.codec, 'h264');
  t.ok(probe.frames! >= 30, `${probe.frames} frames`);
});
