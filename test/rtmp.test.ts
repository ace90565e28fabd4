import t from 'tap';
import { probeVideo } from './helpers/media.js';
import { startRtmpServer } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';

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
