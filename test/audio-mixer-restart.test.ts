import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound, pcmOf, rmsDb } from './helpers/audio.js';
import { startServer } from './helpers/server.js';

/**
 * The mixer thread dies mid-program (issue 30's known gap): the program goes on, a new mixer is
 * started (counted in /metrics), the layer's sound comes back in the recording, and the dead
 * thread's decoder is not left running.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether process `pid` runs (not gone, not a zombie). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('a crashed mixer thread is replaced and the sound comes back', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-audio-crash-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeSound(join(root, 'assets', 'tone.wav'), 'aevalsrc=0.5*sin(2*PI*1000*t):s=48000:d=2');
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: '15' });
  t.teardown(() => s.close());
  const tone = { id: 'tone', content: { type: 'audio', src: 'assets/tone.wav', loop: true } };
  t.equal((await s.call('POST', '/stream/layers', tone)).status, 201);
  t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'crash.mp4' } })).status, 200);
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  await sleep(1000);
  const audio = s.app.pipeline.audio;
  const before = audio.decoderPids()['tone'];
  t.ok(before, `a decoder runs: pid ${before}`);

  await audio.killMixer();
  await sleep(2000);
  const after = audio.decoderPids()['tone'];
  t.ok(after && after !== before, `a new decoder: pid ${after}`);
  t.notOk(running(before!), 'the dead thread’s decoder was killed');
  const metrics = String((await s.call('GET', '/metrics')).body);
  t.match(metrics, /stream_manager_audio_mixer_restarts_total 1\b/, 'counted in /metrics');
  // Whatever the encoders read before it was mixed (a gap while the thread restarts, if any) is
  // counted once, in seconds, however many encoders read it.
  const underrun = Number(/stream_manager_audio_underrun_seconds_total ([0-9.e-]+)/.exec(metrics)?.[1]);
  t.ok(underrun >= 0 && underrun < 3, `underrun in /metrics: ${underrun} s of the ~3 s played`);
  t.ok(Math.abs(underrun - audio.underrunFrames / 48_000) < 0.2, 'the counter the mixer keeps');
  const file = (await s.call('GET', '/stream/status')).body.outputs[0].file as string;
  t.equal((await s.call('POST', '/stream/stop')).status, 200);

  const db = rmsDb(await pcmOf(file), 480);
  // 10 ms windows: sound, then (maybe) a gap while the mixer restarts, then sound to the end.
  const lastSecond = db.slice(-100, -10);
  const loud = lastSecond.filter((d) => d > -20).length;
  t.ok(loud > lastSecond.length * 0.9, `the tone is back at the end: ${loud} of ${lastSecond.length} windows loud`);
});
