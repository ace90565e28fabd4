import t from 'tap';
import { connect } from './helpers/ws-client.js';
import { decode, startServer } from './helpers/server.js';

t.test('WebSocket channels', async (t) => {
  const s = await startServer({ PREVIEW_WIDTHS: '80,160,240', PREVIEW_FPS: '10', DEFAULT_SCENE: 'auction' });
  t.teardown(() => s.close());
  const httpWs = `ws://127.0.0.1:${s.app.port}`;
  const wsPort = `ws://127.0.0.1:${s.app.wsPort}`;

  await t.test('welcome, then the full state, on both ports and prefixes', async (t) => {
    for (const url of [`${httpWs}/stream/ws`, `${httpWs}/api/stream/ws?target=state`, `${wsPort}/?target=state`]) {
      const c = await connect(url);
      const welcome = await c.next('welcome');
      t.type(welcome.message, 'string');
      t.type(welcome.timestamp, 'number');
      const state = await c.next('stateUpdate');
      t.equal(state.payload.stream.isLive, false, url);
      t.type(state.payload.version, 'number', 'with its version');
      t.same(
        state.payload.layers.map((l: { id: string }) => l.id),
        ['background', 'host', 'overlay'],
        'and the whole scene',
      );
      t.equal(state.payload.config.width, 320);
      c.close();
    }
  });

  await t.test('a layer change reaches state subscribers as layerUpdate', async (t) => {
    const c = await connect(`${wsPort}/?target=state`);
    await c.next('stateUpdate');
    await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Current Bid: 3 ETH' } });
    const msg = await c.next('layerUpdate');
    t.equal(msg.payload.id, 'overlay');
    t.equal(msg.payload.layer.content.content, 'Current Bid: 3 ETH');
    c.close();
  });

  await t.test('ping gets pong; an invalid message gets error and the socket stays open', async (t) => {
    const c = await connect(`${httpWs}/stream/ws`);
    c.send({ type: 'ping' });
    t.type((await c.next('pong')).timestamp, 'number');
    c.send('{nope');
    t.equal((await c.next('error')).payload.code, 'SM_ERR_INVALID_JSON');
    c.send({ type: 'launch' });
    t.equal((await c.next('error')).payload.code, 'SM_ERR_VALIDATION');
    c.send({ type: 'ping' });
    t.ok(await c.next('pong'), 'still open');
    c.close();
  });

  await t.test('an unknown target or path is refused at the upgrade', async (t) => {
    await t.rejects(connect(`${httpWs}/stream/ws?target=everything`), /400/);
    await t.rejects(connect(`${httpWs}/elsewhere`), /404/);
  });

  await t.test('preview subscribers get JPEG frames at the preview width while live', async (t) => {
    const c = await connect(`${httpWs}/stream/ws?target=preview`);
    await s.call('POST', '/stream/start');
    t.teardown(() => s.call('POST', '/stream/stop'));
    const live = await c.next('stateUpdate');
    t.ok(live, 'state arrives on the preview channel too');
    const preview = await c.next('preview', 5000);
    t.equal(preview.payload.quality, 'medium');
    t.ok(Math.abs(preview.payload.timestamp - Date.now()) < 5000, 'timestamp is wall-clock ms');
    const img = await decode(Buffer.from(preview.payload.data, 'base64'));
    t.equal(img.width, 160);
    t.equal(img.height, 120, 'aspect kept (320x240 canvas)');
    const second = await c.next('preview', 5000);
    t.not(second.payload.data, preview.payload.data, 'frames keep coming and change (the host moves)');
    c.close();
  });
});
