import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { probeVideo } from './helpers/media.js';
import { startServer } from './helpers/server.js';

const FPS = 30;
const SECONDS = 3;

t.test('a 3 s live run records H.264 at the configured size and rate', async (t) => {
  const s = await startServer({ WIDTH: '640', HEIGHT: '360', FPS: String(FPS), DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const started = await s.call('POST', '/stream/start');
  t.equal(started.status, 200);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));

  // A layer change while live shows in the program within 1 s.
  const region = async (): Promise<Buffer> => {
    const p = await s.snapshot();
    const rows: Buffer[] = [];
    for (let y = 25; y < 60; y++) rows.push(p.data.subarray((y * p.width + 352) * 4, (y * p.width + 560) * 4));
    return Buffer.concat(rows);
  };
  const before = await region();
  const patchedAt = Date.now();
  const patch = await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Current Bid: 9.9 ETH' } });
  t.equal(patch.status, 200);
  let shownAfter = Infinity;
  while (Date.now() - patchedAt < 3000) {
    if (!(await region()).equals(before)) {
      shownAfter = Date.now() - patchedAt;
      break;
    }
  }
  t.ok(shownAfter <= 1000, `the new bid is in the snapshot ${shownAfter} ms after the PATCH`);
  const live = await s.call('GET', '/stream/status');
  t.equal(live.body.isLive, true);
  t.ok(live.body.fps > FPS * 0.8, `measured fps ${live.body.fps}`);
  t.ok(live.body.averageRenderTime > 0, `averageRenderTime ${live.body.averageRenderTime} ms`);

  const stopped = await s.call('POST', '/stream/stop');
  const elapsed = (Date.now() - t0) / 1000;
  t.equal(stopped.status, 200);
  const files = readdirSync(join(s.dir, 'recordings'));
  t.equal(files.length, 1, 'one recording');
  t.match(files[0], /^stream-.*\.mp4$/);

  const probe = await probeVideo(join(s.dir, 'recordings', files[0]!), true);
  t.equal(probe.codec, 'h264');
  t.equal(probe.width, 640);
  t.equal(probe.height, 360);
  const expected = FPS * elapsed;
  t.ok(
    Math.abs(probe.frames! - expected) <= expected * 0.1,
    `${probe.frames} frames for ${elapsed.toFixed(2)} s at ${FPS} fps (expected ~${expected.toFixed(0)})`,
  );
  t.equal(probe.frames, stopped.body.frameCount, 'every frame counted as delivered is in the file');
});
