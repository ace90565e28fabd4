import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import t from 'tap';
import { startServer, type TestServer } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** POSTs one file as multipart/form-data. */
async function upload(
  s: TestServer,
  bytes: Uint8Array,
  name: string,
  type = 'application/octet-stream',
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const res = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json() };
}

/** A solid-colour PNG made now by sharp. */
function png(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A 60-byte PNG whose header declares `w` x `h` pixels (a decompression bomb's calling card). */
function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const uploadTemps = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('sm-upload-'));

t.test('assets', async (t) => {
  const s = await startServer({ BACKGROUND: '#000000', MAX_UPLOAD_SIZE: String(5 * 1024 * 1024) });
  t.teardown(() => s.close());
  const stored = (): string[] => readdirSync(s.app.state.store.kind === 'memory' ? `${s.dir}/assets` : '.');
  const assetCount = async (): Promise<number> => (await s.call('GET', '/stream/assets')).body.assets.length;

  await t.test('an uploaded PNG becomes an image layer where its transform says', async (t) => {
    const bytes = await png(40, 30, [255, 0, 255]);
    const up = await upload(s, bytes, '../../evil name?.png', 'text/html');
    t.equal(up.status, 201, JSON.stringify(up.body));
    t.match(up.body, { kind: 'image', mime: 'image/png', width: 40, height: 30, bytes: bytes.length, name: 'evil_name_.png' });
    t.match(up.body.id, /^[a-f0-9]{64}$/);
    const again = await upload(s, bytes, 'other.png');
    t.equal(again.status, 200, 'same bytes: the same asset, not a duplicate');
    t.equal(again.body.id, up.body.id);
    t.equal(await assetCount(), 1);

    const layer = await s.call('POST', '/stream/layers', {
      id: 'logo',
      transform: { x: 100, y: 50 },
      content: { type: 'image', src: up.body.id },
    });
    t.equal(layer.status, 201);
    const p = await s.snapshot();
    t.same(p.at(100, 50).slice(0, 3), [255, 0, 255], 'top-left of the box');
    t.same(p.at(139, 79).slice(0, 3), [255, 0, 255], 'bottom-right of the box');
    t.same(p.at(140, 80).slice(0, 3), [0, 0, 0], 'outside');
    t.same(p.at(99, 50).slice(0, 3), [0, 0, 0], 'outside');

    const content = await fetch(`${s.base}/stream/assets/${up.body.id}/content`);
    t.equal(content.status, 200);
    t.equal(content.headers.get('content-type'), 'image/png');
    t.equal(content.headers.get('etag'), `"${up.body.id}"`);
    t.match(content.headers.get('cache-control'), /immutable/);
    t.same(Buffer.from(await content.arrayBuffer()), bytes, 'the bytes back');
    const cached = await fetch(`${s.base}/stream/assets/${up.body.id}/content`, { headers: { 'if-none-match': `"${up.body.id}"` } });
    t.equal(cached.status, 304);
    t.same((await s.call('GET', `/stream/assets/${up.body.id}`)).body, up.body, 'metadata');
  });

  await t.test('an uploaded TTF changes how a text layer renders', async (t) => {
    const text = {
      transform: { x: 10, y: 150 },
      content: { type: 'text', content: 'Current Bid: 1.5 ETH', style: { font: 'Arial', fontSize: 28, color: '#ffffff' } },
    };
    await s.call('POST', '/stream/layers', { id: 'bid', ...text });
    const before = await s.snapshot();
    const font = await upload(s, readFileSync('assets/fonts/LiberationSans-Bold.ttf'), 'bold.ttf');
    t.equal(font.status, 201);
    t.match(font.body, { kind: 'font', mime: 'font/ttf' });
    t.equal((await s.call('PATCH', '/stream/layers/bid', { content: { style: { font: font.body.id } } })).status, 200);
    const after = await s.snapshot();
    let differ = 0;
    for (let y = 150; y < 190; y++) for (let x = 10; x < 320; x++) if (before.at(x, y)[0] !== after.at(x, y)[0]) differ++;
    t.ok(differ > 300, `${differ} text pixels differ from the default font`);
    const badFont = await s.call('PATCH', '/stream/layers/bid', { content: { style: { font: 'f'.repeat(64) } } });
    t.equal(badFont.status, 400, 'an unknown font asset id is refused');
    await s.call('DELETE', '/stream/layers/bid');
  });

  await t.test('bad uploads: status, code, and nothing left behind', async (t) => {
    const filesBefore = stored();
    const countBefore = await assetCount();

    const huge = Buffer.alloc(100 * 1024 * 1024, 7);
    const big = await upload(s, huge, 'big.png');
    t.equal(big.status, 413);
    t.equal(big.body.error.code, 'SM_ERR_UPLOAD_TOO_LARGE');

    // Chunked, no Content-Length: formidable's own limit stops it mid-stream.
    const chunked = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const boundary = 'sm-test-boundary';
      const req = request(
        {
          host: '127.0.0.1',
          port: s.app.port,
          path: '/stream/assets/upload',
          method: 'POST',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
      );
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
      const piece = Buffer.alloc(256 * 1024, 9);
      let sent = 0;
      const pump = (): void => {
        while (sent < 8 * 1024 * 1024) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      pump();
    });
    t.equal(chunked.status, 413, 'chunked body over the limit');
    t.equal(chunked.body.error.code, 'SM_ERR_UPLOAD_TOO_LARGE');

    const html = await upload(s, Buffer.from('<!doctype html><html><body>hi</body></html>'), 'picture.png', 'image/png');
    t.equal(html.status, 415, 'HTML named .png');
    t.equal(html.body.error.code, 'SM_ERR_UNSUPPORTED_TYPE');

    const svg = await upload(s, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'x.svg');
    t.equal(svg.status, 415, 'SVG refused by default');

    const full = await png(64, 64, [1, 2, 3]);
    const truncated = await upload(s, full.subarray(0, full.length - 30), 'cut.png');
    t.equal(truncated.status, 422, 'truncated PNG');
    t.equal(truncated.body.error.code, 'SM_ERR_UNDECODABLE');

    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const bomb = await upload(s, bombPng(50000, 50000), 'bomb.png');
    const ms = performance.now() - started;
    t.equal(bomb.status, 422, '50000x50000 declared');
    t.match(bomb.body.error.message, /50000x50000/);
    t.ok(ms < 1000, `answered in ${ms.toFixed(0)} ms`);
    const grew = (process.memoryUsage().rss - rssBefore) / 1048576;
    t.ok(grew < 20, `RSS steady (+${grew.toFixed(1)} MB; decoding it would need 7.5 GB)`);

    t.same(stored(), filesBefore, 'no file stored');
    t.equal(await assetCount(), countBefore, 'no metadata');
    t.same(uploadTemps(), [], 'no temp folder left');
  });

  await t.test('bad ids are 400 or 404 with a code', async (t) => {
    const raw = (path: string): Promise<{ status: number; body: any }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: s.app.port, path, method: 'GET' }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const [path, status, code] of [
      ['/stream/assets/..%2F..%2Fetc%2Fpasswd', 400, 'SM_ERR_INVALID_ASSET_ID'],
      ['/stream/assets/%2e%2e%2f', 400, 'SM_ERR_INVALID_ASSET_ID'],
      ['/stream/assets/%2Fetc%2Fpasswd/content', 400, 'SM_ERR_INVALID_ASSET_ID'],
      ['/stream/assets/abc%00def', 400, 'SM_ERR_INVALID_ASSET_ID'],
      ['/stream/assets/../../etc/passwd', 404, 'SM_ERR_NOT_FOUND'],
      [`/stream/assets/${'0'.repeat(64)}`, 404, 'SM_ERR_ASSET_UNKNOWN'],
      [`/stream/assets/${'0'.repeat(64)}/content`, 404, 'SM_ERR_ASSET_UNKNOWN'],
    ] as const) {
      const res = await raw(path);
      t.equal(res.status, status, path);
      t.equal(res.body.error.code, code, path);
    }
    const nul = await s.call('POST', '/stream/layers', { content: { type: 'image', src: 'assets/x\u0000.png' } });
    t.equal(nul.status, 400, 'NUL in a layer path');
  });

  await t.test('deleting an asset in use: 409; with force its layers are hidden and the render goes on', async (t) => {
    const id = (await s.call('GET', '/stream/layers/logo')).body.content.src as string;
    const refused = await s.call('DELETE', `/stream/assets/${id}`);
    t.equal(refused.status, 409);
    t.equal(refused.body.error.code, 'SM_ERR_ASSET_IN_USE');
    t.same(refused.body.error.details.layers, ['logo']);
    t.equal(await assetCount(), 2, 'still there');

    await s.call('POST', '/stream/start');
    t.teardown(() => s.call('POST', '/stream/stop'));
    await sleep(300);
    const forced = await s.call('DELETE', `/stream/assets/${id}?force=true`);
    t.equal(forced.status, 200);
    t.same(forced.body.hiddenLayers, ['logo']);
    t.equal((await s.call('GET', '/stream/layers/logo')).body.visible, false);
    t.equal((await s.call('GET', `/stream/assets/${id}`)).status, 404);
    t.notOk(stored().includes(id), 'file removed');
    const f0 = (await s.call('GET', '/stream/status')).body.frameCount;
    await sleep(500);
    const st = (await s.call('GET', '/stream/status')).body;
    t.ok(st.frameCount > f0 + 8, 'still rendering');
    t.equal(st.isLive, true);
    t.same((await s.snapshot()).at(110, 60).slice(0, 3), [0, 0, 0], 'the hidden layer is gone from the program');
  });

  await t.test(
    'an asset used only by a saved scene: 409 naming it; with force its layers leave the scene, which still activates',
    async (t) => {
      const up = await upload(s, await png(20, 20, [0, 255, 0]), 'badge.png');
      t.equal(up.status, 201);
      const layers = [
        { id: 'badge', transform: { x: 10, y: 10 }, content: { type: 'image', src: up.body.id } },
        {
          id: 'title',
          transform: { x: 200, y: 10 },
          content: { type: 'text', content: 'Promo', style: { font: 'Arial', fontSize: 20, color: '#ffffff' } },
        },
      ];
      t.equal((await s.call('PUT', '/stream/scenes/promo', { layers })).status, 200);
      const refused = await s.call('DELETE', `/stream/assets/${up.body.id}`);
      t.equal(refused.status, 409);
      t.equal(refused.body.error.code, 'SM_ERR_ASSET_IN_USE');
      t.same(refused.body.error.details, { layers: [], scenes: [{ name: 'promo', layers: ['badge'] }] });
      t.match(refused.body.error.message, /saved scenes promo/);
      t.same(
        (await s.call('GET', '/stream/scenes/promo')).body.layers.map((l: { id: string }) => l.id),
        ['badge', 'title'],
        'the refusal changed nothing',
      );

      const forced = await s.call('DELETE', `/stream/assets/${up.body.id}?force=true`);
      t.equal(forced.status, 200);
      t.same(forced.body, { deleted: up.body.id, hiddenLayers: [], removedFromScenes: [{ name: 'promo', layers: ['badge'] }] });
      t.same(
        (await s.call('GET', '/stream/scenes/promo')).body.layers.map((l: { id: string }) => l.id),
        ['title'],
      );
      const activated = await s.call('POST', '/stream/scenes/promo/activate', {});
      t.equal(activated.status, 200, 'the scene activates (a missing asset would make that a 404)');
      t.same(
        (await s.call('GET', '/stream/layers')).body.layers.map((l: { id: string }) => l.id),
        ['title'],
      );
      t.same((await s.snapshot()).at(20, 20).slice(0, 3), [0, 0, 0], 'no badge in the program');
    },
  );
});

t.test('ALLOW_SVG=true rasterises SVG to PNG', async (t) => {
  const s = await startServer({ ALLOW_SVG: 'true' });
  t.teardown(() => s.close());
  const up = await upload(
    s,
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="#00ff00"/></svg>'),
    'box.svg',
  );
  t.equal(up.status, 201, JSON.stringify(up.body));
  t.match(up.body, { kind: 'image', mime: 'image/png', width: 20, height: 10 });
  const huge = await upload(s, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>'), 'huge.svg');
  t.equal(huge.status, 422, 'too many pixels');
});
