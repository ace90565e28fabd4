import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { probeVideo } from './helpers/media.js';
import { startServer } from './helpers/server.js';
import { connect } from './helpers/ws-client.js';

/**
 * Issue 28 item 7: the WS `outputUpdate` event and `GET /stream/outputs` name the file being
 * written (with the start's `-N` or `-<ISO time>` suffix), not the configured name; real server,
 * real ffmpeg, real WebSocket client.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ISO = '\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z';

t.test('outputUpdate and /stream/outputs carry the file being written', async (t) => {
  const s = await startServer({ FPS: '15', WIDTH: '160', HEIGHT: '120', ENCODER_RESTART_DELAY_MS: '200' });
  t.teardown(() => s.close());
  const rec = join(s.dir, 'recordings');
  const ws = await connect(`${s.base.replace('http', 'ws')}/stream/ws`);
  t.teardown(() => ws.close());
  const outputs = async (): Promise<Record<string, { url: string | null; file: string | null; location: string | null }>> =>
    Object.fromEntries(((await s.call('GET', '/stream/outputs')).body.outputs as { id: string }[]).map((o) => [o.id, o as never]));

  await t.test('the main output: a taken name becomes take-1.mp4, and the event says so', async (t) => {
    t.equal((await s.call('PATCH', '/stream/config', { output: { url: 'take.mp4' } })).status, 200);
    mkdirSync(rec, { recursive: true });
    writeFileSync(join(rec, 'take.mp4'), 'an earlier take');
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    const connecting = (await ws.next('outputUpdate')).payload;
    const expected = join(rec, 'take-1.mp4');
    t.match(connecting, { id: 'main', event: 'connecting', file: expected }, `connecting: file ${connecting.file}`);
    t.not(connecting.url, 'take.mp4', 'and its url is not the configured name either');
    const live = (await ws.next('outputUpdate', 10_000)).payload;
    t.match(live, { id: 'main', event: 'live', file: expected });
    t.equal((await outputs())['main']!.file, expected, 'GET /stream/outputs: file');
    t.equal((await outputs())['main']!.location, expected, 'and location');
    t.equal((await s.call('GET', '/stream/status')).body.outputs[0].file, expected, 'GET /stream/status too');
    await sleep(500);
    // ffmpeg killed: the restarted encoder claims the next free name (take-1 again when the
    // recording janitor already removed the cut, unreadable file; else take-2), and the events name it.
    const pid = s.app.pipeline.encoderPid!;
    process.kill(pid, 'SIGKILL');
    t.match(
      (await ws.next('outputUpdate', 10_000)).payload,
      { id: 'main', event: 'reconnecting', file: expected },
      'reconnecting: the file that ended',
    );
    const reconnected = (await ws.next('outputUpdate', 10_000)).payload;
    t.match(reconnected, { id: 'main', event: 'reconnected' });
    t.match(reconnected.file, /\/take-[12]\.mp4$/, `reconnected: the new file ${reconnected.file}`);
    t.not(s.app.pipeline.encoderPid, pid, 'written by a new ffmpeg');
    t.equal((await outputs())['main']!.file, reconnected.file);
    await sleep(1000);
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
    const stopped = (await ws.next('outputUpdate')).payload;
    t.match(stopped, { id: 'main', event: 'stopped', file: reconnected.file }, 'stopped: the file just finished');
    t.match(await probeVideo(reconnected.file, true), { codec: 'h264', width: 160 }, 'that file is the recording');
    t.equal(statSync(join(rec, 'take.mp4')).size, 'an earlier take'.length, 'the earlier take is untouched');
  });

  await t.test('a default recording (no url) names its stream-<ISO time>.mp4', async (t) => {
    t.equal((await s.call('PATCH', '/stream/config', { output: { url: null } })).status, 200);
    t.equal((await s.call('POST', '/stream/start')).status, 200);
    const connecting = (await ws.next('outputUpdate')).payload;
    t.match(connecting.file, new RegExp(`^${rec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/stream-${ISO}\\.mp4$`), `file ${connecting.file}`);
    t.ok(existsSync(connecting.file), 'it exists');
    t.equal((await outputs())['main']!.file, connecting.file);
  });

  await t.test('an extra file output: its event and its view name <name>-<ISO time>.mp4', async (t) => {
    const added = await s.call('POST', '/stream/outputs', { id: 'iso', kind: 'file', url: 'iso/cam.mp4' });
    t.equal(added.status, 201, JSON.stringify(added.body));
    let event = (await ws.next('outputUpdate', 10_000)).payload;
    while (event.id !== 'iso') event = (await ws.next('outputUpdate', 10_000)).payload;
    t.match(event, { id: 'iso', event: 'connecting', url: 'iso/cam.mp4' });
    t.match(event.file, new RegExp(`/iso/cam-${ISO}\\.mp4$`), `event file: ${event.file}`);
    t.ok(existsSync(event.file), 'the named file exists');
    const view = (await outputs())['iso']!;
    t.equal(view.file, event.file, 'GET /stream/outputs: the same file');
    t.equal(view.location, event.file);
    t.equal((await s.call('POST', '/stream/stop')).status, 200);
  });
});
