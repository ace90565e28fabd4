import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { makeClip } from './helpers/media.js';

/**
 * A 2xx from `POST /stream/layers/:id/media` with `play` or `pause` is a stored change: the server
 * is killed with SIGKILL the moment the answer's status arrives, restarted on the same DATA_DIR,
 * and the layer must be playing or paused as acknowledged, its source too. `seek` is transport
 * only: after a restart the file starts at `startMs` again.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('play/pause survive a kill -9 right after the 2xx', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-video-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'assets'));
  await makeClip(join(dir, 'assets', 'clip.mp4'), ['red', 'green', 'blue'], { width: 160, height: 90, fps: 15 });
  const env = {
    STATE_STORE: 'file',
    DATA_DIR: join(dir, 'data'),
    RECORDINGS_DIR: join(dir, 'rec'),
    ASSET_ROOT: dir,
    AUTOSTART: 'false',
    DEFAULT_SCENE: 'empty',
    WORKERS: '1',
    LOG_LEVEL: 'warn',
    // No tap coverage hook in the child: a SIGKILLed process writes none, and it slows each start.
    NODE_OPTIONS: '',
    _TAPJS_PROCESSINFO_COVERAGE_: '0',
  };
  let server: ChildServer = await startChild(env);
  t.teardown(() => server.stop('SIGKILL'));
  const created = await server.call('POST', '/stream/layers', {
    id: 'v',
    transform: { x: 0, y: 0, width: 160, height: 90 },
    content: { type: 'video', src: 'assets/clip.mp4', loop: true, startMs: 1000 },
  });
  t.equal(created.status, 201);

  /** The layer's media once it is out of `loading` (the decoder started after a restart). */
  const settled = async (): Promise<any> => {
    for (let i = 0; i < 100; i++) {
      const layer = (await server.call('GET', '/stream/layers/v')).body;
      if (layer.media.state !== 'loading') return layer;
      await sleep(100);
    }
    throw new Error('the source stayed loading for 10 s');
  };

  for (const [round, action] of (['pause', 'play', 'pause'] as const).entries()) {
    if (action === 'pause') {
      // A seek before the pause: transport only, so after the restart the file is back at startMs.
      t.equal((await server.call('POST', '/stream/layers/v/media', { action: 'seek', positionMs: 2500 })).status, 200);
    }
    const res = await fetch(`${server.base}/stream/layers/v/media`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action }),
    });
    // Killed on the status line, before the body is read: nothing more can be written after the 2xx.
    server.proc.kill('SIGKILL');
    t.equal(res.status, 200, `round ${round}: ${action} answered 200, then kill -9`);
    await res.arrayBuffer().catch(() => undefined);
    await new Promise<void>((r) =>
      server.proc.exitCode !== null || server.proc.signalCode !== null ? r() : server.proc.once('exit', () => r()),
    );
    server = await startChild(env);
    const layer = await settled();
    const playing = action === 'play';
    t.equal(layer.content.playing, playing, `round ${round}: after the restart content.playing is ${playing}`);
    t.equal(layer.media.state, playing ? 'playing' : 'paused', `round ${round}: the source is ${layer.media.state}`);
    if (!playing)
      t.ok(
        Math.abs(layer.media.positionMs - 1000) <= 100,
        `round ${round}: the seek was not stored: at startMs (${layer.media.positionMs} ms)`,
      );
  }
});
