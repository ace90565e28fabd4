import t from 'tap';
import { freePort } from './helpers/rtmp-server.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * `/health` and `/health/ready` tell the truth about the stream: a stream whose encoder gave up
 * (real ffmpeg, an RTMP destination where nothing listens) is `degraded` (200: the process is
 * alive) and not ready (503, `failing: ["stream"]`); an extra output that gave up degrades
 * `/health` only. A reset or a new start makes them whole again.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, s: TestServer, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await s.call('GET', '/stream/status')).body)}`);
    await sleep(100);
  }
}

const fast = {
  ENCODER_MAX_RETRIES: '1',
  ENCODER_RESTART_DELAY_MS: '100',
  ENCODER_RESTART_MAX_DELAY_MS: '200',
  FPS: '10',
  WIDTH: '160',
  HEIGHT: '90',
};

t.test('a stream stopped in error: /health degraded, /health/ready 503, until a reset', async (t) => {
  const closed = await freePort();
  const s = await startServer({ ...fast, OUTPUT_URL: `rtmp://127.0.0.1:${closed}/live/secret-key-123` });
  t.teardown(() => s.close());

  const before = await s.call('GET', '/health');
  t.equal(before.status, 200);
  t.match(before.body, { status: 'ok', stream: { isLive: false, stoppedInError: false }, failedOutputs: [] });
  t.equal((await s.call('GET', '/health/ready')).status, 200, 'ready before');

  t.equal((await s.call('POST', '/stream/start')).status, 200, 'goes live (ffmpeg starts)');
  await until('the encoder to give up', s, async () => {
    const st = (await s.call('GET', '/stream/status')).body;
    return !st.isLive && typeof st.error === 'string';
  });
  const status = (await s.call('GET', '/stream/status')).body;
  t.match(status.error, /restarts? in a row/, `the state has the error: ${status.error}`);

  for (const path of ['/health', '/stream/health', '/api/health']) {
    const h = await s.call('GET', path);
    t.equal(h.status, 200, `${path}: 200, the process is alive (a container health check must not restart it)`);
    t.match(
      h.body,
      { status: 'degraded', isLive: false, stream: { isLive: false, stoppedInError: true } },
      `${path}: degraded, stopped in error`,
    );
    t.notMatch(JSON.stringify(h.body), /secret-key-123|127\.0\.0\.1/, `${path}: the error text (hosts, keys) stays behind auth`);
  }
  for (const path of ['/health/ready', '/stream/health/ready']) {
    const r = await s.call('GET', path);
    t.equal(r.status, 503, `${path}: 503`);
    t.match(r.body, { status: 'unready', failing: ['stream'], checks: { ffmpeg: true, pool: true, store: true, stream: false } });
  }

  t.equal((await s.call('POST', '/stream/reset')).status, 200, 'reset clears the error');
  t.match((await s.call('GET', '/health')).body, { status: 'ok', stream: { stoppedInError: false } }, '/health ok again');
  t.equal((await s.call('GET', '/health/ready')).status, 200, 'ready again');
});

t.test('an extra output that gave up degrades /health; the stream stays ready', async (t) => {
  const closed = await freePort();
  const s = await startServer(fast);
  t.teardown(() => s.close());
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  t.equal((await s.call('POST', '/stream/outputs', { id: 'dead', kind: 'rtmp', url: `rtmp://127.0.0.1:${closed}/live/key` })).status, 201);
  await until('the output to give up', s, async () => (await s.call('GET', '/stream/outputs/dead')).body.state === 'failed');
  const h = await s.call('GET', '/health');
  t.equal(h.status, 200);
  t.match(h.body, { status: 'degraded', isLive: true, stream: { isLive: true, stoppedInError: false }, failedOutputs: ['dead'] });
  const r = await s.call('GET', '/health/ready');
  t.equal(r.status, 200, 'ready: the program still goes out');
  t.same(r.body.failing, []);
  t.equal((await s.call('DELETE', '/stream/outputs/dead')).status, 204);
  t.match((await s.call('GET', '/health')).body, { status: 'ok', failedOutputs: [] }, 'ok once the failed output is gone');
  await s.call('POST', '/stream/stop');
});
