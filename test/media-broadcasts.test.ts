import t from 'tap';
import type { MediaStatus } from '../shared/media.js';
import type { ServerMessage, WsChannel } from '../shared/ws-messages.js';
import { broadcastMedia, MEDIA_JUMP_MS } from '../orchestrator/ws/media-broadcasts.js';

/**
 * Which source reports become WS messages (orchestrator/ws/media-broadcasts.ts), driven with a
 * manual clock: a source may report as often as it likes; clients hear changes and jumps only.
 */

type Listener = (layerId: string, status: MediaStatus) => void;

function setup(rate = 1): {
  sent: { channels: readonly WsChannel[]; message: ServerMessage }[];
  update: Listener;
  end: Listener;
  advance(ms: number): void;
  retain(ids: string[]): void;
  close(): void;
} {
  let now = 0;
  const updates = new Set<Listener>();
  const endings = new Set<Listener>();
  const sent: { channels: readonly WsChannel[]; message: ServerMessage }[] = [];
  const b = broadcastMedia(
    { broadcast: (channels, message) => sent.push({ channels, message }) },
    {
      onUpdate: (l) => (updates.add(l), () => void updates.delete(l)),
      onEnded: (l) => (endings.add(l), () => void endings.delete(l)),
    },
    () => rate,
    () => now,
  );
  return {
    sent,
    update: (id, s) => updates.forEach((l) => l(id, s)),
    end: (id, s) => endings.forEach((l) => l(id, s)),
    advance: (ms) => void (now += ms),
    retain: (ids) => b.retain(ids),
    close: () => b.close(),
  };
}

const status = (state: MediaStatus['state'], positionMs: number): MediaStatus => ({
  state,
  positionMs,
  durationMs: 10_000,
  width: 320,
  height: 180,
  fps: 30,
  lastError: null,
});

t.test('state changes and jumps are sent, the position moving on is not', async (t) => {
  const m = setup();
  m.update('v', status('loading', 0));
  m.update('v', status('loading', 0));
  m.update('v', status('playing', 0));
  for (let i = 1; i <= 30; i++) {
    m.advance(100);
    m.update('v', status('playing', i * 100)); // a report every frame would be this
  }
  t.same(
    m.sent.map((s) => (s.message as { payload: { media: MediaStatus } }).payload.media.state),
    ['loading', 'playing'],
    '3 s of playing reported 30 times: no message',
  );
  t.same(m.sent[0]!.channels, ['state', 'layers'], 'on the state and layers channels');
  m.advance(100);
  m.update('v', status('playing', 8000));
  t.equal(m.sent.length, 3, `a jump of more than ${MEDIA_JUMP_MS} ms (a seek) is sent`);
  m.advance(500);
  m.update('v', status('paused', 8500));
  t.equal(m.sent.at(-1)!.message.type, 'mediaUpdate');
  t.equal(m.sent.length, 4, 'pause is sent');
  m.advance(5000);
  m.update('v', status('paused', 8500));
  t.equal(m.sent.length, 4, 'a paused source does not move: the same report is not sent');
  m.update('v', { ...status('paused', 8500), width: 640 });
  t.equal(m.sent.length, 5, 'a new size is sent');
  m.update('v', { ...status('paused', 8500), width: 640, lastError: 'x' });
  t.equal(m.sent.length, 6, 'a new error is sent');
  m.close();
  m.update('v', status('playing', 0));
  t.equal(m.sent.length, 6, 'nothing after close');
});

t.test('the rate counts when telling a jump from playing on', async (t) => {
  const m = setup(4);
  m.update('v', status('playing', 0));
  m.advance(1000);
  m.update('v', status('playing', 4000));
  t.equal(m.sent.length, 1, 'at rate 4, 4 s of file in 1 s is playing on');
  m.advance(1000);
  m.update('v', status('playing', 5000));
  t.equal(m.sent.length, 2, 'and 1 s of file in 1 s is a jump back');
});

t.test('mediaEnded: once per end, after a mediaUpdate saying ended', async (t) => {
  const m = setup();
  m.update('v', status('playing', 9000));
  m.advance(1000);
  m.end('v', status('playing', 10_000)); // a source that reports the end only through onEnded
  t.same(
    m.sent.map((s) => s.message.type),
    ['mediaUpdate', 'mediaUpdate', 'mediaEnded'],
  );
  t.equal((m.sent[1]!.message as { payload: { media: MediaStatus } }).payload.media.state, 'ended', 'the update says ended');
  m.update('v', status('ended', 10_000));
  m.end('v', status('ended', 10_000));
  t.equal(m.sent.length, 3, 'the same end is not sent twice');
  m.update('v', status('playing', 0));
  m.advance(10_000);
  m.update('v', status('ended', 10_000));
  m.end('v', status('ended', 10_000));
  t.same(
    m.sent.slice(3).map((s) => s.message.type),
    ['mediaUpdate', 'mediaUpdate', 'mediaEnded'],
    'played again and ended again: a new mediaEnded',
  );
});

t.test('a removed layer is forgotten', async (t) => {
  const m = setup();
  m.update('a', status('playing', 0));
  m.update('b', status('playing', 0));
  m.retain(['b']);
  m.update('a', status('playing', 0));
  m.update('b', status('playing', 0));
  t.same(
    m.sent.map((s) => (s.message as { payload: { layerId: string } }).payload.layerId),
    ['a', 'b', 'a'],
    'a layer with the same id again is news',
  );
});
