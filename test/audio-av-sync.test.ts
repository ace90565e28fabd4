import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startServer } from './helpers/server.js';

const run = promisify(execFile);

/**
 * A/V sync (issue 30): a clip with a white flash and a 1 kHz beep at the same instant every
 * second, played as a video layer while the program is recorded; in the recording every beep's
 * onset is within one frame interval (33 ms at 30 fps) of its flash, over the whole recording
 * (no drift) and after a pause and a seek. `AV_SYNC_SECONDS` sets how long (default 10 s, for the
 * CI's time budget; the issue asks for 60 s: run it with AV_SYNC_SECONDS=60).
 */

const SECONDS = Math.max(8, Number(process.env['AV_SYNC_SECONDS'] ?? '10'));
const FPS = 30;
const RATE = 48_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test(
  `every beep within one frame of its flash over ${SECONDS} s, through a pause and a seek`,
  { timeout: 60_000 + SECONDS * 4000 },
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'sm-avsync-'));
    mkdirSync(join(root, 'assets'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const clipS = SECONDS + 4;
    await run(
      'ffmpeg',
      [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `color=c=black:s=320x180:r=${FPS}:d=${clipS},drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.1)'`,
        '-f',
        'lavfi',
        '-i',
        `aevalsrc='if(lt(mod(t\\,1)\\,0.1)\\,0.5*sin(2*PI*1000*t)\\,0)':s=${RATE}:d=${clipS}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        String(FPS),
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-ac',
        '2',
        join(root, 'assets', 'flash.mp4'),
      ],
      { timeout: 60_000 },
    );
    const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: String(FPS) });
    t.teardown(() => s.close());
    t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'sync.mp4' } })).status, 200);
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    const layer = { id: 'v', transform: { x: 0, y: 0, width: 320, height: 180 }, content: { type: 'video', src: 'assets/flash.mp4' } };
    t.equal((await s.call('POST', '/stream/layers', layer)).status, 201);
    const media = (body: unknown): Promise<{ status: number }> => s.call('POST', '/stream/layers/v/media', body);
    await sleep(SECONDS * 400);
    t.equal((await media({ action: 'pause' })).status, 200);
    await sleep(700);
    t.equal((await media({ action: 'play' })).status, 200);
    await sleep(SECONDS * 200);
    t.equal((await media({ action: 'seek', positionMs: 2500 })).status, 200);
    await sleep(SECONDS * 400);
    const file = (await s.call('GET', '/stream/status')).body.outputs[0].file as string;
    t.equal((await s.call('POST', '/stream/stop')).status, 200);

    // Flashes and beeps on the recording's own timestamps, found by ffmpeg: the end of each black
    // stretch (blackdetect) and of each silence (silencedetect, sample-exact on the source clip).
    const { stderr } = await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostats',
        '-i',
        file,
        '-vf',
        'blackdetect=d=0.01:pix_th=0.5',
        '-af',
        'silencedetect=n=-30dB:d=0.2',
        '-f',
        'null',
        '-',
      ],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const times = (re: RegExp): number[] => [...stderr.matchAll(re)].map((m) => Number(m[1]));
    // A flash in the last half second may have lost its beep to the stop.
    const lastS = Math.max(...times(/black_start:\s*([0-9.]+)/g), ...times(/black_end:\s*([0-9.]+)/g));
    // The first flash is the layer's start, while its decoders start (the picture shows once decoded): not measured.
    const flashes = times(/black_end:\s*([0-9.]+)/g)
      .filter((f) => f < lastS - 0.5)
      .slice(1);
    const beeps = times(/silence_end:\s*([0-9.]+)/g);
    // Pairs: each flash with the nearest beep onset within 300 ms.
    const offsets: number[] = [];
    for (const f of flashes) {
      const b = beeps.reduce((best, x) => (Math.abs(x - f) < Math.abs(best - f) ? x : best), Number.POSITIVE_INFINITY);
      if (Math.abs(b - f) < 0.3) offsets.push((b - f) * 1000);
    }
    const worst = Math.max(...offsets.map(Math.abs));
    const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
    t.comment(
      `${flashes.length} flashes, ${beeps.length} beeps, ${offsets.length} pairs; beep - flash: mean ${mean.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`,
    );
    t.comment(`offsets (ms): ${offsets.map((o) => o.toFixed(0)).join(' ')}`);
    t.ok(offsets.length >= SECONDS - 4, `${offsets.length} flashes with their beep (of ${flashes.length})`);
    t.ok(worst <= 1000 / FPS + 1, `every beep onset within one frame (33 ms) of its flash: worst ${worst.toFixed(1)} ms`);
    // And no beep without its flash (a beep from another moment of the clip than the picture), but
    // for the pause and the seek: paused in the middle of a beep, its rest starts again on play
    // while the picture, held white all along, makes no new flash.
    const lone = beeps.filter((b) => b < lastS - 0.5 && b > (flashes[0] ?? 0) - 0.3 && !flashes.some((f) => Math.abs(f - b) < 0.3));
    t.ok(lone.length <= 2, `every beep has its flash but at the pause and the seek: ${lone.length} without (${beeps.length} beeps)`);
  },
);
