import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { ImageCache } from '../workers/images.js';

t.test('decoded images: LRU bounded by bytes, evict forgets, paths stay inside', async (t) => {
  const storage = mkdtempSync(join(tmpdir(), 'sm-cache-'));
  const ids = ['a', 'b', 'c'].map((c) => c.repeat(64));
  for (const id of ids)
    writeFileSync(
      join(storage, id),
      await sharp({ create: { width: 100, height: 100, channels: 3, background: '#123456' } })
        .png()
        .toBuffer(),
    );
  const one = 100 * 100 * 4;
  const cache = new ImageCache(resolve('.'), storage, 2 * one);
  await cache.get(ids[0]!);
  await cache.get(ids[1]!);
  t.equal(cache.bytes, 2 * one);
  await cache.get(ids[0]!); // a is now the most recent
  await cache.get(ids[2]!);
  await new Promise((r) => setImmediate(r));
  t.equal(cache.bytes, 2 * one, 'bounded: two pictures held');
  t.same(
    ids.map((id) => cache.has(id)),
    [true, false, true],
    'b, the least recently used, was dropped',
  );
  cache.evict(ids[0]!);
  t.equal(cache.bytes, one, 'evict forgets');
  t.throws(() => cache.pathOf('assets/../../etc/passwd'), /escapes/);
  await t.rejects(cache.get('assets/missing.png'));
  t.equal(cache.bytes, one, 'a failed load holds nothing');
});
