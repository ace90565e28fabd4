import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { decoderArgs } from '../media/decoder-args.js';
import { written } from '../media/frame-ring.js';
import { SourceThread, type DecoderRun } from '../orchestrator/media/decoder-run.js';
import { makeClip } from './helpers/media.js';

/**
 * A source's reader thread (orchestrator/media/decoder-run.ts) outlives a stopped run whose exit
 * is late: on a loaded machine, or here because a child of the decoder holds its pipes open. The
 * thread still answers, so it is kept, and the source's other run (a seek's new one) goes on
 * decoding; the late run is over for the source after the grace period. Real ffmpeg, real thread.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a late exit of a stopped run ends neither the thread nor its other run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-reader-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clip = join(dir, 'clip.mp4');
  await makeClip(clip, ['blue'], { secondsEach: 4 });
  const args = decoderArgs({
    input: clip,
    live: false,
    startMs: 0,
    rate: 1,
    loop: true,
    fps: 30,
    box: { width: 64, height: 36, fit: 'fill' },
  });
  const thread = new SourceThread();
  t.teardown(() => thread.close());
  const spec = { ffmpegPath: '/bin/sh', live: false, frameMs: 1000 / 30 };
  const firstFrame = (run: DecoderRun | null): Promise<void> =>
    new Promise((resolve) => {
      const wait = (): void => void (run?.ring && written(run.ring) > 0 ? resolve() : setTimeout(wait, 20));
      wait();
    });

  // The late one: `sleep` inherits ffmpeg's stdout and stderr, so they stay open after ffmpeg is killed.
  const late = thread.run({ ...spec, args: ['-c', 'sleep 8 & exec ffmpeg "$@"', 'sh', ...args] }, {}, 1000);
  await firstFrame(late);
  const next = thread.run({ ...spec, args: ['-c', 'exec ffmpeg "$@"', 'sh', ...args] }, {}, 1000);
  await firstFrame(next);
  const pid = next.pid;
  t.ok(pid, 'the second run decodes');

  const t0 = performance.now();
  late.kill();
  const exit = await late.ended;
  const after = performance.now() - t0;
  t.equal(exit.state, 'exited', 'the stopped run ends as stopped');
  t.ok(after >= 1500 && after < 6000, `after the grace period, not when its pipes close (${after.toFixed(0)} ms)`);
  await sleep(2500);
  t.ok(next.running, 'the other run still runs: the thread answered and was kept');
  t.equal(next.pid, pid);
  const n = written(next.ring!);
  await sleep(300);
  t.ok(written(next.ring!) >= n, 'and its ring is still written (or full, waiting to be read)');

  const ended = await next.end();
  t.equal(ended.state, 'exited');
});
