import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { makeSound } from './helpers/audio.js';
import { startServer, type Pixels } from './helpers/server.js';

/**
 * Lip sync (issue 30): two identical hosts side by side, idle, one with `lipSync` on a voice-like
 * source (noise bursts, 0.5 s on, 0.5 s off). At chosen scene times (a ManualClock; snapshots of
 * the stopped stream) the synced host's mouth region differs from the other's (its closed pose)
 * while the voice is above the threshold, and equals it while the voice is silent.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pixels that differ (any channel by more than 8) between the same box of two places in `p`. */
function differing(p: Pixels, a: { x: number; y: number }, b: { x: number; y: number }, w: number, h: number): number {
  let n = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const pa = p.at(a.x + x, a.y + y);
      const pb = p.at(b.x + x, b.y + y);
      if (pa.some((v, i) => Math.abs(v - pb[i]!) > 8)) n++;
    }
  return n;
}

t.test("a host's mouth follows the voice", async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-lipsync-'));
  mkdirSync(join(root, 'assets', 'characters'), { recursive: true });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  copyFileSync('assets/characters/auctioneer.png', join(root, 'assets', 'characters', 'auctioneer.png'));
  await makeSound(join(root, 'assets', 'voice.wav'), "anoisesrc=c=pink:a=0.5:r=48000:d=4,volume='if(lt(mod(t,1),0.5),1,0)':eval=frame");
  const clock = new ManualClock(0);
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  t.equal((await s.call('POST', '/stream/layers', { id: 'voice', content: { type: 'audio', src: 'assets/voice.wav' } })).status, 201);
  const host = (id: string, x: number, lipSync?: unknown): unknown => ({
    id,
    transform: { x, y: 0, width: 150, height: 195 },
    content: {
      type: 'character',
      modelUrl: 'assets/characters/auctioneer.png',
      animations: { idle: 'idle', talking: 'talking' },
      ...(lipSync ? { lipSync } : {}),
    },
  });
  t.equal((await s.call('POST', '/stream/layers', host('still', 0))).status, 201);
  t.equal(
    (await s.call('POST', '/stream/layers', host('synced', 160, { source: 'voice', thresholdDb: -40, smoothingMs: 40 }))).status,
    201,
  );
  const bad = await s.call('PATCH', '/stream/layers/synced', { content: { lipSync: { source: 'voice', thresholdDb: 5 } } });
  t.equal(bad.status, 400, `thresholdDb 5: ${JSON.stringify(bad.body)}`);
  // The decoder reads the file ahead; a loaded machine takes a moment to start it.
  await sleep(1500);
  // The mouth (rig: x 0.5, y 0.375, width 0.13 of the picture) and around it.
  const box = { x: 45, y: 55, w: 60, h: 40 };
  for (const [ms, voiced] of [
    [250, true],
    [750, false],
    [1300, true],
    [1800, false],
    [2200, true],
  ] as const) {
    clock.set(ms);
    const p = await s.snapshot();
    const n = differing(p, { x: box.x, y: box.y }, { x: 160 + box.x, y: box.y }, box.w, box.h);
    if (voiced) t.ok(n > 20, `t=${ms} ms, voice on: the synced mouth is open (${n} pixels differ from the closed pose)`);
    else t.equal(n, 0, `t=${ms} ms, voice off: the synced mouth is the closed pose`);
  }
});
