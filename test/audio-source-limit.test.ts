import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound } from './helpers/audio.js';
import { startServer } from './helpers/server.js';
import { MAX_AUDIO_SOURCES } from '../orchestrator/audio/program-audio.js';

/**
 * At most MAX_AUDIO_SOURCES layers decode sound at once (a scene holds up to 1000 layers): one
 * more is left silent, and gets its decoder once a place comes free (a layer deleted); a video
 * without sound takes no place.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('the audio source limit, and a freed place', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-audio-limit-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeSound(join(root, 'assets', 'tone.wav'), 'sine=f=1000:d=0.5');
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: '15' });
  t.teardown(() => s.close());
  const audio = s.app.pipeline.audio;
  for (let i = 0; i <= MAX_AUDIO_SOURCES; i++) {
    const res = await s.call('POST', '/stream/layers', { id: `s${i}`, content: { type: 'audio', src: 'assets/tone.wav', loop: true } });
    t.equal(res.status, 201);
  }
  t.equal(audio.sourceIds.length, MAX_AUDIO_SOURCES, `${MAX_AUDIO_SOURCES} decode`);
  t.notOk(audio.sourceIds.includes(`s${MAX_AUDIO_SOURCES}`), 'the one over the limit is silent');
  t.equal((await s.call('DELETE', '/stream/layers/s0')).status, 204);
  t.ok(audio.sourceIds.includes(`s${MAX_AUDIO_SOURCES}`), 'a place came free: the left-out layer decodes now');
  t.equal(audio.sourceIds.length, MAX_AUDIO_SOURCES);
  // Decoders start (and a 0.5 s looping file's decoder starts again) a little after: on a loaded
  // machine some are between runs at any one moment. Never more than the limit, all of them soon.
  let pids = audio.decoderPids();
  let most = 0;
  for (let i = 0; i < 100; i++) {
    pids = audio.decoderPids();
    most = Math.max(most, Object.keys(pids).length);
    if (Object.keys(pids).length === MAX_AUDIO_SOURCES && pids[`s${MAX_AUDIO_SOURCES}`]) break;
    await sleep(50);
  }
  t.ok(most <= MAX_AUDIO_SOURCES, `never more decoders than the limit: at most ${most}`);
  t.equal(Object.keys(pids).length, MAX_AUDIO_SOURCES, 'as many decoders run as the limit (looping files)');
  t.ok(pids[`s${MAX_AUDIO_SOURCES}`], 'the new one among them');
});
