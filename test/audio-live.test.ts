import t from 'tap';
import { audioPackets, pcmOf, rmsDb, startSoundFeed } from './helpers/audio.js';
import { freePort } from './helpers/rtmp-server.js';
import { probeVideo } from './helpers/media.js';
import { startServer } from './helpers/server.js';

/**
 * A live audio feed (issue 30) killed mid-stream: an SRT listener publishing a tone, read by an
 * `audio` layer. Once the feed dies the program audio goes on (the feed contributes silence; the
 * mix never waits for it) and the recording's audio packets stay continuous (no timestamp gap).
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a live feed killed mid-stream: the program audio goes on, no gap', async (t) => {
  const port = await freePort();
  const feed = startSoundFeed(`srt://127.0.0.1:${port}?mode=listener`, 'aevalsrc=0.5*sin(2*PI*1000*t):s=48000');
  t.teardown(() => feed.kill());
  const s = await startServer({ WIDTH: '320', HEIGHT: '180', FPS: '30' });
  t.teardown(() => s.close());
  t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'live.mp4' } })).status, 200);
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  const t0 = performance.now();
  t.equal((await s.call('POST', '/stream/layers', { id: 'mic', content: { type: 'audio', src: `srt://127.0.0.1:${port}` } })).status, 201);
  // Until the feed is heard (a loaded machine takes a while to connect), then a little more.
  const audio = s.app.pipeline.audio;
  for (let i = 0; i < 150 && !((audio.levels?.sources['mic']?.rmsDb ?? -200) > -20); i++) await sleep(100);
  t.ok((audio.levels?.sources['mic']?.rmsDb ?? -200) > -20, `the feed is heard: ${JSON.stringify(audio.levels?.sources['mic'])}`);
  await sleep(1000);
  const killedAt = (performance.now() - t0) / 1000;
  await feed.kill();
  await sleep(2000);
  const status = (await s.call('GET', '/stream/status')).body;
  const file = status.outputs[0].file as string;
  t.equal((await s.call('POST', '/stream/stop')).status, 200);
  t.comment(`dropped frames: ${JSON.stringify(status.droppedFrames ?? status.dropped ?? null)}`);

  // 10 ms windows, in the recording's own time (a loaded machine drops frames: not the wall
  // clock's): the tone is heard, and the last second (the kill was 2 s before the stop) is silence.
  const db = rmsDb(await pcmOf(file), 480);
  const heard = Math.max(...db);
  const after = Math.max(...db.slice(db.length - 100, db.length - 5));
  t.ok(heard > -12, `the tone was in the program: ${heard.toFixed(1)} dBFS (killed at ${killedAt.toFixed(2)} s of wall time)`);
  t.ok(after < -80, `after the kill, silence: ${after.toFixed(1)} dBFS`);
  const video = await probeVideo(file, true);
  const videoS = video.frames! / 30;
  t.ok(
    Math.abs(db.length / 100 - videoS) < 0.15,
    `the program audio went on to the end: ${(db.length / 100).toFixed(2)} s of sound, ${videoS.toFixed(2)} s of picture`,
  );

  const packets = await audioPackets(file);
  // From the second packet: the first is the encoder's priming, placed by the container's edit list.
  const steps = packets.slice(2).map((p, i) => p.pts - packets[i + 1]!.pts);
  const frame = 1024 / 48_000;
  const worst = Math.max(...steps.map((d) => Math.abs(d - frame)));
  t.ok(packets.length > 100, `${packets.length} audio packets`);
  t.ok(
    worst < 0.001,
    `every audio packet follows the one before by one AAC frame (21.33 ms): worst deviation ${(worst * 1000).toFixed(3)} ms`,
  );
});
