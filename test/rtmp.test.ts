import t from 'tap';
import { probeVideo } from './helpers/media.js';
import { startRtmpServer } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

t.test('pushes H.264 to a real RTMP server, read back by ffprobe', async (t) => {
  const rtmp = await startRtmpServer();
  t.teardown(() => rtmp.stop());
  const url = rtmp.url('program');
  const s = await startServer({ OUTPUT_URL: url, DEFAULT_SCENE: 'auction', WIDTH: '640', HEIGHT: '360' });
  t.teardown(() => s.close());

  const started = await s.call('POST', '/stream/start');
  t.equal(started.status, 200, JSON.stringify(started.body));
  // Give the first GOP time to reach the server, then play the stream back from it.
  await new Promise((r) => setTimeout(r, 2500));
  const probe = await probeVideo(url, false, 15_000);
  t.equal(probe.codec, 'h264');
  t.equal(probe.width, 640);
  t.equal(probe.height, 360);
  const status = await s.call('GET', '/stream/status');
  t.equal(status.body.isLive, true, 'still live while a player reads it');
  t.equal(status.body.error, null);
  t.equal((await s.call('POST', '/stream/stop')).status, 200);
});

t.test('the RTMP server goes away and comes back: reconnecting, then reconnected and readable', async (t) => {
  const rtmp = await startRtmpServer();
  t.teardown(() => rtmp.stop());
  const url = rtmp.url('secret-key-123');
  const s = await startServer({ OUTPUT_URL: url, WIDTH: '320', HEIGHT: '180', ENCODER_RESTART_DELAY_MS: '1000' });
  t.teardown(() => s.close());
  const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws`);
  t.teardown(() => ws.close());
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  t.match((await ws.next('outputUpdate')).payload, { id: 'main', event: 'connecting' });
  t.match((await ws.next('outputUpdate')).payload, { event: 'live', state: 'live' }, 'live once frames flow');
  const main = (await s.call('GET', '/stream/status')).body.outputs[0];
  t.match(main, { id: 'main', state: 'live', restarts: 0, lastError: null });
  t.equal(main.url, url.replace('secret-key-123', '***'), 'the stream key is redacted');

  await rtmp.kill();
  const down = (await ws.next('outputUpdate', 10_000)).payload;
  t.match(down, { event: 'reconnecting', state: 'reconnecting', attempt: 1 }, 'the dropped connection is noticed');
  t.ok(down.delayMs >= 800 && down.delayMs <= 1200, `first retry after ${down.delayMs} ms (1000 +-20%)`);
  t.match((await s.call('GET', '/stream/status')).body, { isLive: true, outputs: [{ state: 'reconnecting' }] }, 'the stream stays live');
  // Stay down through at least one refused attempt, then come back.
  t.match((await ws.next('outputUpdate', 10_000)).payload, { event: 'reconnecting', attempt: 2 }, 'a refused connection backs off again');
  await rtmp.restart();
  t.match((await ws.next('outputUpdate', 15_000)).payload, { event: 'reconnected', state: 'live', attempt: 0 }, 'reconnected');
  await new Promise((r) => setTimeout(r, 2500));
  const probe = await probeVideo(url, false, 15_000);
  t.equal(probe.codec, 'h264', 'ffprobe reads the stream again');
  const after = (await s.call('GET', '/stream/status')).body;
  t.match(after.outputs[0], { state: 'live' });
  t.ok(after.outputs[0].restarts >= 2, `restarts counted: ${after.outputs[0].restarts}`);
  const metrics = (await s.call('GET', '/metrics')).body as string;
  t.match(metrics, /stream_manager_output_state\{output="main",state="live"\} 1/);
  t.notMatch(metrics, /secret-key-123/, 'no stream key in the metrics');
  t.equal((await s.call('POST', '/stream/stop')).status, 200);
});
