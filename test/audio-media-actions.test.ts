import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeSound } from './helpers/audio.js';
import { startServer } from './helpers/server.js';

/**
 * `POST /stream/layers/:id/media` on an `audio` layer: pause and play (stored in `playing`),
 * seek and restart move its sound's position; a live feed does not seek; other layers are refused.
 */

t.test('media actions on an audio layer', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sm-audio-actions-'));
  mkdirSync(join(root, 'assets'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await makeSound(join(root, 'assets', 'tone.wav'), 'sine=f=1000:d=5');
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '320', HEIGHT: '180', FPS: '15' });
  t.teardown(() => s.close());
  const act = (id: string, body: unknown): ReturnType<typeof s.call> => s.call('POST', `/stream/layers/${id}/media`, body);
  t.equal(
    (await s.call('POST', '/stream/layers', { id: 'music', content: { type: 'audio', src: 'assets/tone.wav', startMs: 500 } })).status,
    201,
  );

  const paused = await act('music', { action: 'pause' });
  t.equal(paused.status, 200, JSON.stringify(paused.body));
  t.equal(paused.body.content.playing, false, 'pause is stored');
  t.equal(paused.body.media.state, 'paused');
  const seek = await act('music', { action: 'seek', positionMs: 3000 });
  t.equal(seek.status, 200);
  t.equal(seek.body.media.positionMs, 3000, 'seek: the sound is at 3000 ms');
  const restart = await act('music', { action: 'restart' });
  t.equal(restart.body.media.positionMs, 500, 'restart: back at startMs');
  const played = await act('music', { action: 'play' });
  t.equal(played.body.content.playing, true);
  t.equal(played.body.media.state, 'playing');
  t.equal((await s.call('GET', '/stream/layers/music')).body.content.playing, true);

  t.equal(
    (await s.call('POST', '/stream/layers', { id: 'feed', content: { type: 'audio', src: 'rtmp://127.0.0.1:1/live/x' } })).status,
    201,
  );
  t.equal((await act('feed', { action: 'seek', positionMs: 10 })).status, 400, 'a live feed does not seek');
  t.equal((await s.call('POST', '/stream/layers', { id: 'c', content: { type: 'color', color: '#ff0000' } })).status, 201);
  t.equal((await act('c', { action: 'pause' })).status, 400, 'a colour layer has no media actions');
  const batch = await s.call('POST', '/stream/batch', { ops: [{ op: 'media', id: 'music', action: 'pause' }] });
  t.equal(batch.status, 200, JSON.stringify(batch.body));
  t.equal((await s.call('GET', '/stream/layers/music')).body.content.playing, false, 'a batch media op pauses it too');
});
