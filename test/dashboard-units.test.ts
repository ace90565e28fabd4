import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';

/**
 * The dashboard's pure functions, loaded from the browser build (`dist/ui`, plain ES modules with
 * no runtime imports), so what is tested is what the page runs.
 */
const UI = fileURLToPath(new URL('../ui/orchestrator/dashboard/ui/', import.meta.url));
const load = async (file: string): Promise<any> => import(pathToFileURL(resolve(UI, file)).href);

t.test('backoff: 0.5 s doubling to 10 s, +-20% jitter', async (t) => {
  const { backoffDelay, DEFAULT_BACKOFF } = await load('connection.js');
  t.same(
    [0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, DEFAULT_BACKOFF, 0.5)),
    [500, 1000, 2000, 4000, 8000, 10000, 10000],
  );
  t.equal(backoffDelay(0, DEFAULT_BACKOFF, 0), 400, 'least jitter: -20%');
  t.equal(backoffDelay(10, DEFAULT_BACKOFF, 0.999999), 12000, 'most jitter: +20% of the cap');
});

t.test('layers in display order and the z-index moves', async (t) => {
  const { displayOrder, moveChanges } = await load('layers-view.js');
  const L = (id: string, zIndex: number): object => ({ id, zIndex });
  const layers = [L('bg', 0), L('a', 10), L('b', 10), L('top', 20)];
  t.same(
    displayOrder(layers).map((l: { id: string }) => l.id),
    ['top', 'b', 'a', 'bg'],
    'ties: the later one is in front, as composited',
  );
  t.same(moveChanges(layers, 'a', 'up'), [{ id: 'a', zIndex: 11 }], 'a tie is broken by going one past');
  t.same(
    moveChanges(layers, 'b', 'up'),
    [
      { id: 'b', zIndex: 20 },
      { id: 'top', zIndex: 10 },
    ],
    'otherwise a swap',
  );
  t.same(moveChanges(layers, 'top', 'up'), [], 'nothing above the top');
  t.same(moveChanges(layers, 'bg', 'down'), [], 'nothing below the bottom');
});

t.test('error messages for people', async (t) => {
  const { ApiError, explain } = await load('api.js');
  t.match(explain(new ApiError(401, 'SM_ERR_UNAUTHORIZED', 'x')), /token.*401/);
  const refused = explain(new ApiError(403, 'SM_ERR_FORBIDDEN', 'Role "operator" may not POST /stream/outputs; it needs "admin"'));
  t.match(refused, /role may not do this: .*it needs "admin".*403/, 'an operator is told the admin role is needed');
  t.notMatch(refused, /operator or admin token/, 'not that an operator token would do');
  t.match(explain(new ApiError(403, 'SM_ERR_ORIGIN_FORBIDDEN', 'x')), /origin/);
  t.equal(explain(new ApiError(429, 'SM_ERR_RATE_LIMITED', 'x', 7)), 'Too many requests: try again in 7 s (429).');
  t.equal(explain(new ApiError(0, 'NETWORK', 'x')), 'The server cannot be reached.');
  t.equal(explain(new ApiError(400, 'SM_ERR_VALIDATION', 'opacity: too big')), 'opacity: too big (400 SM_ERR_VALIDATION)');
});

t.test('formatting', async (t) => {
  const { formatBitrate, formatDuration } = await load('format.js');
  t.equal(formatBitrate(2_512_000), '2.51 Mbit/s');
  t.equal(formatBitrate(849_600), '850 kbit/s');
  t.equal(formatBitrate(null), '–');
  t.equal(formatDuration(62_000), '1:02');
  t.equal(formatDuration(3_723_000), '1:02:03');
});

t.test('video layers: position between updates and how a status reads', async (t) => {
  const { formatPosition, positionNow, describeMedia } = await load('media-view.js');
  const status = { state: 'playing', positionMs: 1000, durationMs: 3000, width: 320, height: 180, fps: 30, lastError: null };
  t.equal(formatPosition(7_449), '0:07.4');
  t.equal(formatPosition(62_000), '1:02.0');
  t.equal(positionNow(status, 500, 1, false), 1500, 'moves on while playing');
  t.equal(positionNow(status, 500, 2, false), 2000, 'at the layer rate');
  t.equal(positionNow(status, 5000, 1, false), 3000, 'held at the end of a file that does not loop');
  t.equal(positionNow(status, 2500, 1, true), 500, 'wrapped when it loops');
  t.equal(positionNow({ ...status, state: 'paused' }, 5000, 1, false), 1000, 'still while paused');
  t.equal(positionNow({ ...status, durationMs: null }, 5000, 1, false), 6000, 'a live feed has no end');
  t.equal(describeMedia(status, 1500), 'playing · 0:01.5 / 0:03.0 · 320x180');
  t.equal(
    describeMedia({ ...status, state: 'reconnecting', durationMs: null, width: 0, lastError: 'Connection refused' }, 0),
    'reconnecting · 0:00.0 · Connection refused',
  );
});
