import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound, median, pcmOf, rawSamples, rmsDb } from './helpers/audio.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

/**
 * The program mix (issue 30), measured on a real recording: an `audio` layer playing a 1 kHz sine
 * made at test time, its volume halved (6.02 dB lower), muted (digital silence), faded out over
 * 1000 ms (the envelope's slope), and a second, louder source summed past 0 dBFS (the limiter
 * keeps every sample below full scale). Bad input changes nothing.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Samples a second. */
const RATE = 48_000;

t.test('volume, mute, a fade and the limiter, on the recording', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-audio-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  // 4 s (a whole number of periods: it loops without a click), amplitude 0.5 (-6 dBFS peak, RMS -9.03 dBFS).
  await makeSound(join(root, 'assets', 'tone.wav'), 'aevalsrc=0.5*sin(2*PI*1000*t):s=48000:d=4');
  await makeSound(join(root, 'assets', 'loud.wav'), 'aevalsrc=0.9*sin(2*PI*440*t):s=48000:d=4');
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: '30' });
  t.teardown(() => s.close());

  const tone = { id: 'tone', content: { type: 'audio', src: 'assets/tone.wav', loop: true } };
  t.equal((await s.call('POST', '/stream/layers', tone)).status, 201);

  await t.test('bad input: 400 and nothing changed', async (t) => {
    const before = (await s.call('GET', '/stream/layers/tone')).body;
    const bad: Array<[string, unknown]> = [
      ['volume 3', { audio: { volume: 3 } }],
      ['volume a string', { audio: { volume: '0.5' } }],
      ['volume NaN (not JSON)', '{"audio":{"volume":NaN}}'],
      ['volume -1', { audio: { volume: -1 } }],
      ['syncOffsetMs 5000', { audio: { syncOffsetMs: 5000 } }],
      ['pan 2', { audio: { pan: 2 } }],
      ['volumeDb +12', { audio: { volumeDb: 12 } }],
      ['volume and volumeDb at once', { audio: { volume: 0.5, volumeDb: -6 } }],
      ['an unknown field', { audio: { gain: 1 } }],
    ];
    for (const [what, body] of bad) {
      const res = await s.call('PATCH', '/stream/layers/tone', body);
      t.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    }
    const created = await s.call('POST', '/stream/layers', { ...tone, id: 'tone2', audio: { volume: 3 } });
    t.equal(created.status, 400, 'a new layer with volume 3');
    t.same((await s.call('GET', '/stream/layers/tone')).body, before, 'the layer is as it was');
    t.equal((await s.call('GET', '/stream/layers/tone2')).status, 404, 'and no layer was made');
    // One of volume and volumeDb: setting one drops the other.
    t.equal((await s.call('PATCH', '/stream/layers/tone', { audio: { volumeDb: -6 } })).status, 200);
    t.same((await s.call('GET', '/stream/layers/tone')).body.audio, { volumeDb: -6 });
    t.equal((await s.call('PATCH', '/stream/layers/tone', { audio: { volume: 1 } })).status, 200);
    t.same((await s.call('GET', '/stream/layers/tone')).body.audio, { volume: 1 });
  });

  await t.test('the recording', async (t) => {
    t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'mix.mp4' } })).status, 200);
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    const patch = async (body: unknown): Promise<void> => {
      const res = await s.call('PATCH', '/stream/layers/tone', body);
      t.equal(res.status, 200, JSON.stringify(body));
    };
    await sleep(1000);
    // The meters: WS `audioLevels` (channel `audio`) about 10 a second, and /metrics.
    const ws = await connect(`ws://127.0.0.1:${s.app.port}/stream/ws?target=audio`);
    const got = [await ws.next('audioLevels'), await ws.next('audioLevels'), await ws.next('audioLevels')];
    ws.close();
    const last = got[2].payload;
    // Per channel: the mono tone was made stereo at -3 dB a channel (ffmpeg keeps the power), 0.354 peak.
    t.ok(Math.abs(last.sources.tone.rmsDb - -12.04) < 0.5, `audioLevels: the tone's RMS ${last.sources.tone.rmsDb} dBFS (-12.04)`);
    t.ok(Math.abs(last.sources.tone.peakDb - -9.03) < 0.5, `and its peak ${last.sources.tone.peakDb} dBFS (-9.03)`);
    t.ok(Math.abs(last.master.rmsDb - -12.04) < 0.5, `the master's RMS ${last.master.rmsDb} dBFS`);
    const apart = got[2].payload.atMs - got[1].payload.atMs;
    t.ok(apart >= 90 && apart <= 110, `about 10 a second: ${apart} ms of program apart`);
    const metrics = String((await s.call('GET', '/metrics')).body);
    const rms = /stream_manager_audio_level_dbfs\{source="tone",kind="rms"\} (-?[0-9.]+)/.exec(metrics);
    t.ok(rms && Math.abs(Number(rms[1]) - -12.04) < 0.5, `/metrics: ${rms?.[0]}`);
    t.match(metrics, /stream_manager_audio_level_dbfs\{source="master",kind="peak"\} -?[0-9.]+/);
    await sleep(300);
    await patch({ audio: { volume: 0.5 } });
    await sleep(1200);
    await patch({ audio: { muted: true } });
    await sleep(1000);
    await patch({ audio: { muted: false, volume: 1 } });
    await sleep(2000);
    await patch({ audio: { volume: 0 }, transition: { durationMs: 1000, easing: 'linear' } });
    await sleep(1500);
    await patch({ audio: { volume: 1 } });
    t.equal(
      (
        await s.call('POST', '/stream/layers', {
          id: 'loud',
          audio: { volume: 2 },
          content: { type: 'audio', src: 'assets/loud.wav', loop: true },
        })
      ).status,
      201,
    );
    await sleep(1500);
    const levels = s.app.pipeline.audio.levels;
    // The master bus (the stream config's `audio`, stored like the rest of it): bad input changes nothing; muted: silence.
    t.equal((await s.call('PATCH', '/stream/config', { audio: { volume: 3 } })).status, 400, 'master volume 3: 400');
    t.equal((await s.call('PATCH', '/stream/config', { audio: { muted: 'yes' } })).status, 400, 'master muted "yes": 400');
    t.equal((await s.call('PATCH', '/stream/config', { audio: { muted: true } })).status, 200);
    t.same((await s.call('GET', '/stream/config')).body.audio, { volume: 1, muted: true }, 'the master bus is stored');
    await sleep(800);
    const file = (await s.call('GET', '/stream/status')).body.outputs[0].file as string;
    t.equal((await s.call('POST', '/stream/stop')).status, 200);

    const pcm = await pcmOf(file);
    const win = 240; // 5 ms: five periods of 1 kHz
    const db = rmsDb(pcm, win);
    const at = (sec: number): number => Math.round((sec * RATE) / win);
    const sec = (i: number): number => (i * win) / RATE;
    // The steps are found in the recording itself (a loaded machine drops frames: its time is not
    // the wall clock's): muted is the first digital silence, unmuted the first sound after it.
    // A step is a level held for a while: on a loaded machine the mix may miss a block now and then
    // (it never waits: what is not mixed in time is silence), a short gap that is not the mute.
    const held = (i: number, sec: number, ok: (d: number) => boolean): boolean => db.slice(i, i + at(sec)).every(ok);
    const soundAt = db.findIndex((d, i) => d > -20 && held(i, 0.2, (x) => x > -20 || x < -80));
    const mutedAt = db.findIndex((_d, i) => i > soundAt + at(0.5) && held(i, 0.3, (x) => x < -80));
    const unmutedAt = db.findIndex((d, i) => i > mutedAt && held(i, 0.2, (x) => x > -20 || x < -80) && d > -20);
    t.ok(mutedAt > 0 && unmutedAt > mutedAt, `muted at ${sec(mutedAt).toFixed(2)} s, unmuted at ${sec(unmutedAt).toFixed(2)} s`);
    const halfFrom = db.findIndex(
      (d, i) => i > soundAt + at(0.2) && d < -12 && d > -20 && held(i, 0.2, (x) => (x < -12 && x > -20) || x < -80),
    );
    const full = median(db.slice(soundAt + at(0.2), halfFrom - at(0.1)));
    const half = median(db.slice(halfFrom + at(0.2), mutedAt - at(0.1)));
    const muted = Math.max(...db.slice(mutedAt + at(0.1), unmutedAt - at(0.1)));
    const again = median(db.slice(unmutedAt + at(0.2), unmutedAt + at(0.7)));
    t.ok(Math.abs(full - -9.03) < 0.5, `volume 1: RMS ${full.toFixed(2)} dBFS (a 0.5 sine: -9.03)`);
    t.ok(Math.abs(full - half - 6.02) <= 0.3, `volume 0.5: ${(full - half).toFixed(2)} dB lower (6.02 +- 0.3)`);
    t.ok(muted < -80, `muted: at most ${muted.toFixed(1)} dBFS (< -80)`);
    t.ok(Math.abs(again - full) < 0.3, `unmuted at volume 1 again: ${again.toFixed(2)} dBFS`);

    // The fade: the envelope (linear amplitude) falls from `full` to 0 in a straight line over 1000 ms:
    // from 75 % to 25 % of it takes 500 ms.
    const amp = (d: number): number => 10 ** ((d - full) / 20);
    const cross = (level: number): number => {
      for (let i = unmutedAt + at(1.2); i < db.length; i++) if (held(i, 0.05, (x) => amp(x) < level)) return sec(i);
      return Number.NaN;
    };
    const ms = (cross(0.25) - cross(0.75)) * 1000;
    t.ok(
      Math.abs(ms * 2 - 1000) <= 50,
      `1000 ms linear fade: 75 % -> 25 % took ${ms.toFixed(0)} ms (whole fade ${(ms * 2).toFixed(0)} ms, +-50)`,
    );
    const end = cross(0.25) + 0.3;
    const after = Math.max(...db.slice(at(end), at(end + 0.3)));
    t.ok(after < -80, `silent once faded: at most ${after.toFixed(1)} dBFS`);

    // Two sources summed past 0 dBFS (0.5 + 1.8 peak): the limiter keeps every sample below full scale.
    const raw = await rawSamples(file);

    // The master muted at the end: the last sound is where it took effect.
    let masterMutedAt = db.length;
    while (masterMutedAt > 0 && db[masterMutedAt - 1]! < -80) masterMutedAt--;
    t.ok(db.length - masterMutedAt > at(0.3), `master muted: the last ${sec(db.length - masterMutedAt).toFixed(2)} s are digital silence`);
    let peak = 0;
    for (let i = (masterMutedAt * win - RATE) * 2; i < raw.length; i++) peak = Math.max(peak, Math.abs(raw[i]!));
    const loud = median(db.slice(masterMutedAt - at(0.8), masterMutedAt - at(0.1)));
    t.ok(loud > full + 3, `the sum is loud: RMS ${loud.toFixed(2)} dBFS`);
    t.ok(peak < 1, `no sample clips: peak ${peak.toFixed(4)} (${(20 * Math.log10(peak)).toFixed(2)} dBFS)`);
    t.ok(levels && levels.master.peakDb <= -0.99, `the master meter's peak: ${levels?.master.peakDb} dBFS (limiter ceiling -1)`);
    t.ok(levels && levels.sources['loud']!.peakDb > 0, `the loud source alone is over full scale: ${levels?.sources['loud']?.peakDb} dBFS`);
  });
});
