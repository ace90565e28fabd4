import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound, median, pcmOf, rmsDb } from './helpers/audio.js';
import { startServer } from './helpers/server.js';

/**
 * A scene crossfade crossfades the sound too (issue 30): the outgoing scene's tone fades out over
 * the crossfade's 1000 ms (linear) instead of stopping at its start, and the incoming scene's
 * tone fades in over the same time; measured on the recording's envelope.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const RATE = 48_000;

t.test('a scene crossfade fades the outgoing sound out and the incoming in', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-audio-xfade-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeSound(join(root, 'assets', 'tone.wav'), 'aevalsrc=0.5*sin(2*PI*1000*t):s=48000:d=2');
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: '15' });
  t.teardown(() => s.close());
  const scene = (id: string): unknown => ({ layers: [{ id, content: { type: 'audio', src: 'assets/tone.wav', loop: true } }] });
  t.equal((await s.call('PUT', '/stream/scenes/a', scene('one'))).status, 200);
  t.equal((await s.call('PUT', '/stream/scenes/b', { layers: [] })).status, 200);
  t.equal((await s.call('PUT', '/stream/scenes/c', scene('two'))).status, 200);
  t.equal((await s.call('POST', '/stream/scenes/a/activate', {})).status, 200);
  t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'xfade.mp4' } })).status, 200);
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  const fade = { transition: 'crossfade', durationMs: 1000, easing: 'linear' };
  await sleep(1200);
  t.equal((await s.call('POST', '/stream/scenes/b/activate', fade)).status, 200, 'a -> b: the tone fades out');
  await sleep(1600);
  t.equal((await s.call('POST', '/stream/scenes/c/activate', fade)).status, 200, 'b -> c: a tone fades in');
  await sleep(1600);
  t.same(s.app.pipeline.audio.sourceIds, ['two'], 'the outgoing source is closed once the crossfade is over');
  const file = (await s.call('GET', '/stream/status')).body.outputs[0].file as string;
  t.equal((await s.call('POST', '/stream/stop')).status, 200);

  const win = 240;
  const db = rmsDb(await pcmOf(file), win);
  const sec = (i: number): number => (i * win) / RATE;
  const soundAt = db.findIndex((d) => d > -20);
  const full = median(db.slice(soundAt + 20, soundAt + 120));
  const amp = (d: number): number => 10 ** ((d - full) / 20);
  // Fade out: the first window under 75 % of full after the start, then under 25 %.
  const out75 = db.findIndex((d, i) => i > soundAt + 20 && amp(d) < 0.75);
  const out25 = db.findIndex((d, i) => i > out75 && amp(d) < 0.25);
  const outMs = (sec(out25) - sec(out75)) * 1000;
  t.ok(Math.abs(outMs - 500) <= 100, `fade out: 75 % -> 25 % took ${outMs.toFixed(0)} ms (500 +- 100; a cut: 0)`);
  const silentAt = db.findIndex((d, i) => i > out25 && d < -80);
  const in25 = db.findIndex((d, i) => i > silentAt && amp(d) > 0.25);
  const in75 = db.findIndex((d, i) => i > in25 && amp(d) > 0.75);
  const inMs = (sec(in75) - sec(in25)) * 1000;
  // (The incoming decoder starts with the fade, some ms late on a loaded machine: the ramp's start may be lost, not its slope.)
  t.ok(silentAt > 0 && inMs >= 250 && inMs <= 600, `fade in: 25 % -> 75 % took ${inMs.toFixed(0)} ms (500; a cut: 0)`);
});
