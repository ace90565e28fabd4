import { readFileSync } from 'node:fs';
import t from 'tap';
import { WebSocket } from 'ws';
import { parseBinaryPreview } from '../shared/binary-preview.js';
import { startChild } from './helpers/child-server.js';
import { connect } from './helpers/ws-client.js';
import { decode, startServer } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process, bytes (Linux /proc). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

t.test('channels, quality, binary frames, limits', async (t) => {
  const s = await startServer({ PREVIEW_WIDTHS: '80,160,240', DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const url = `ws://127.0.0.1:${s.app.port}/stream/ws`;

  await t.test('a layer PATCH reaches a state subscriber as layerUpdate within 100 ms', async (t) => {
    const c = await connect(`${url}?target=state`);
    await c.next('stateUpdate');
    // The very first request also pays for the HTTP client's connection and first-time JIT (~100 ms here).
    await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'warm-up' } });
    await c.next('layerUpdate', 1000);
    for (let i = 1; i <= 5; i++) {
      const sent = performance.now();
      const patched = s.call('PATCH', '/stream/layers/overlay', { content: { content: `Current Bid: ${i} ETH` } });
      const msg = await c.next('layerUpdate', 1000);
      const ms = performance.now() - sent;
      t.equal((await patched).status, 200);
      t.equal(msg.payload.layer.content.content, `Current Bid: ${i} ETH`);
      t.ok(ms < 100, `layerUpdate ${ms.toFixed(1)} ms after the PATCH was sent`);
    }
    await s.call('POST', '/stream/layers/overlay/visibility');
    const vis = await c.next('layerVisibility');
    t.same([vis.payload.id, vis.payload.visible], ['overlay', false], 'layerVisibility on a toggle');
    await s.call('POST', '/stream/layers/overlay/visibility');
    c.close();
  });

  await t.test('subscribe/unsubscribe, quality switch changes the JPEG width, metricsUpdate while live', async (t) => {
    const c = await connect(`${url}?target=layers`);
    c.send({ type: 'subscribe', channels: ['preview', 'state'] });
    t.same((await c.next('subscribed')).payload, { channels: ['layers', 'preview', 'state'], quality: 'medium', format: 'json' });
    await s.call('POST', '/stream/start');
    t.teardown(() => s.call('POST', '/stream/stop'));
    const medium = await c.next('preview');
    t.equal(medium.payload.quality, 'medium');
    t.equal((await decode(Buffer.from(medium.payload.data, 'base64'))).width, 160);
    c.send({ type: 'quality', quality: 'high' });
    t.equal((await c.next('subscribed')).payload.quality, 'high');
    let high = await c.next('preview');
    while (high.payload.quality !== 'high') high = await c.next('preview');
    t.equal((await decode(Buffer.from(high.payload.data, 'base64'))).width, 240, 'high is 240 wide');
    const metrics = await c.next('metricsUpdate', 3000);
    t.equal(metrics.payload.targetFPS, 30);
    t.equal(metrics.payload.viewers, 1);
    c.send({ type: 'unsubscribe', channels: ['preview'] });
    t.same((await c.next('subscribed')).payload.channels, ['layers', 'state']);
    c.close();
  });

  await t.test('binary preview frames carry a header and JPEG bytes', async (t) => {
    await s.call('POST', '/stream/start');
    t.teardown(() => s.call('POST', '/stream/stop'));
    const ws = await openWs(`${url}?target=preview&format=binary&quality=low`);
    const frame = await new Promise<Buffer>((resolve) => ws.on('message', (data, isBinary) => isBinary && resolve(data as Buffer)));
    const p = parseBinaryPreview(frame);
    t.equal(p.quality, 'low');
    t.ok(Math.abs(p.timestamp - Date.now()) < 5000, 'timestamp');
    t.ok(p.frame >= 0);
    t.equal((await decode(p.jpeg)).width, 80);
    ws.close();
  });

  await t.test('oversized message closes with 1009; invalid ones get error and stay open', async (t) => {
    const c = await connect(`${url}`);
    c.send({ type: 'quality', quality: 'ultra' });
    t.match((await c.next('error')).payload, { code: 'SM_ERR_VALIDATION', message: /quality/ });
    c.send({ type: 'ping' });
    t.ok(await c.next('pong'));
    const code = await new Promise<number>((resolve) => {
      c.ws.once('close', (code) => resolve(code));
      c.ws.send('x'.repeat(65 * 1024));
    });
    t.equal(code, 1009);
  });
});

t.test('a vanished peer is reaped within two heartbeat intervals', async (t) => {
  const s = await startServer({ WS_HEARTBEAT_MS: '300' });
  t.teardown(() => s.close());
  const ws = await openWs(`ws://127.0.0.1:${s.app.port}/stream/ws?target=state`);
  const opened = performance.now();
  ws.pause(); // reads nothing, answers no ping: like a peer whose network vanished
  t.equal(s.app.ws.count('state'), 1);
  while (s.app.ws.count('state') > 0 && performance.now() - opened < 3000) await sleep(20);
  const ms = performance.now() - opened;
  t.equal(s.app.ws.count('state'), 0, 'reaped');
  t.ok(ms <= 2 * 300 + 100, `after ${ms.toFixed(0)} ms (two intervals: 600 ms)`);
  ws.terminate();
});

t.test('a congested socket: previews skipped, state held and sent whole once it drains, closed with 1013 if it never does', async (t) => {
  const s = await startServer({
    DEFAULT_SCENE: 'auction',
    WIDTH: '1280',
    HEIGHT: '720',
    PREVIEW_WIDTHS: '160,640,1280',
    PREVIEW_QUALITY: '95',
    WS_MAX_BUFFERED_BYTES: '65536',
    WS_CONGESTION_CLOSE_MS: '2500',
    WS_HEARTBEAT_MS: '600000',
  });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/start');
  t.teardown(() => s.call('POST', '/stream/stop'));
  const ws = await openWs(`ws://127.0.0.1:${s.app.port}/stream/ws?target=preview&quality=high`);
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['state'] }));
  const seen: { type: string; payload: { layers?: { id: string; content: { content?: string } }[] } }[] = [];
  ws.on('message', (d, bin) => !bin && seen.push(JSON.parse(d.toString())));
  await sleep(300);
  ws.pause();
  let skipped = 0;
  for (let i = 0; i < 150 && skipped === 0; i++) {
    await sleep(100);
    skipped = Number(
      /stream_manager_ws_preview_frames_skipped_total (\d+)/.exec(await (await fetch(`${s.base}/metrics`)).text())?.[1] ?? 0,
    );
  }
  t.ok(skipped > 0, `previews skipped while congested: ${skipped}`);
  await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid while congested' } });
  const before = seen.length;
  ws.resume();
  let full: (typeof seen)[number] | undefined;
  for (let i = 0; i < 40 && !full; i++) {
    await sleep(50);
    full = seen.slice(before).find((m) => m.type === 'stateUpdate' && m.payload.layers);
  }
  t.ok(full, 'a full state after draining');
  t.equal(
    full?.payload.layers?.find((l) => l.id === 'overlay')?.content.content,
    'Bid while congested',
    'with the change made while congested',
  );

  ws.pause();
  const paused = performance.now();
  while (s.app.ws.count('preview') > 0 && performance.now() - paused < 30_000) await sleep(100);
  t.equal(
    s.app.ws.count('preview'),
    0,
    `dropped by the server after staying congested (${((performance.now() - paused) / 1000).toFixed(1)} s)`,
  );
  const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
  ws.resume(); // a paused peer cannot read the close frame; let it read now
  const code = await closed;
  t.ok([1013, 1006].includes(code), `the client sees the close (code ${code}: 1013 try again later, or 1006 if it was terminated first)`);
});

t.test('a client that never reads: server memory stays bounded, 50 others keep their preview rate', async (t) => {
  const seconds = 10;
  const s = await startChild({
    STATE_STORE: 'memory',
    AUTOSTART: 'true',
    WIDTH: '640',
    HEIGHT: '360',
    PREVIEW_FPS: '10',
    PREVIEW_WIDTHS: '160,320,640',
    PREVIEW_QUALITY: '90',
    WS_CONGESTION_CLOSE_MS: '600000',
    LOG_LEVEL: 'warn',
    // 52 sockets from one address: above the default WS_MAX_PER_IP.
    WS_MAX_PER_IP: '64',
  });
  t.teardown(() => s.stop());
  const url = s.base.replace('http', 'ws') + '/stream/ws?target=preview';
  // What one high-quality preview message weighs, to know what an unbounded queue would hold.
  const probe = await openWs(`${url}&quality=high`);
  const messageBytes = await new Promise<number>((resolve) =>
    probe.on('message', (d, bin) => !bin && JSON.parse(d.toString()).type === 'preview' && resolve((d as Buffer).length)),
  );
  probe.terminate();
  const slow = await openWs(`${url}&quality=high`);
  slow.pause();
  const counts = new Array<number>(50).fill(0);
  const others = await Promise.all(
    counts.map(async (_, i) => {
      const ws = await openWs(`${url}&quality=low&format=binary`);
      ws.on('message', (_d, bin) => bin && counts[i]!++);
      return ws;
    }),
  );
  t.teardown(() => [slow, ...others].forEach((w) => w.terminate()));
  const metric = async (name: string): Promise<number> =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${s.base}/metrics`)).text())?.[1] ?? NaN);
  await sleep(2000);
  const rss0 = rss(s.proc.pid!);
  const skipped0 = await metric('stream_manager_ws_preview_frames_skipped_total');
  counts.fill(0);
  const t0 = performance.now();
  let maxBuffered = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(1000);
    maxBuffered = Math.max(maxBuffered, await metric('stream_manager_ws_buffered_bytes'));
  }
  const elapsed = (performance.now() - t0) / 1000;
  const grew = (rss(s.proc.pid!) - rss0) / 1048576;
  const skipped = (await metric('stream_manager_ws_preview_frames_skipped_total')) - skipped0;
  const unbounded = (skipped * messageBytes) / 1048576;
  t.ok(
    skipped > 50,
    `the slow client skipped ${skipped} frames of ${(messageBytes / 1024).toFixed(0)} KB (${unbounded.toFixed(0)} MB it did not queue)`,
  );
  t.ok(
    maxBuffered <= 4 * 1024 * 1024,
    `bytes queued for all sockets stayed <= ${(maxBuffered / 1048576).toFixed(2)} MB (threshold 1 MB per socket + one message)`,
  );
  t.ok(grew < 64, `server RSS +${grew.toFixed(1)} MB over ${seconds} s (sanity bound; GC noise with 51 sockets)`);
  const min = Math.min(...counts.map((n) => n / elapsed));
  // 10/s on a quiet machine; the floor leaves room for a loaded CI machine (the rate is the bench's).
  t.ok(min >= 10 * 0.6, `slowest of 50 viewers got ${min.toFixed(1)} previews/s (target 10)`);
});
