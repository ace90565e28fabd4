import t from 'tap';
import { parseEntityTags } from '../orchestrator/http/etag.js';
import { startServer } from './helpers/server.js';

/** `If-Match` per RFC 9110 section 13.1.1: `*`, or a list of entity-tags compared strongly. */

t.test('entity-tag lists parse per RFC 9110', async (t) => {
  t.same(parseEntityTags('"1"'), [{ weak: false, opaque: '1' }]);
  t.same(parseEntityTags('"1", W/"2" ,"3"'), [
    { weak: false, opaque: '1' },
    { weak: true, opaque: '2' },
    { weak: false, opaque: '3' },
  ]);
  t.same(
    parseEntityTags(' , "a,b" ,, '),
    [{ weak: false, opaque: 'a,b' }],
    'empty elements are accepted; a comma inside a tag is part of it',
  );
  t.same(parseEntityTags('""'), [{ weak: false, opaque: '' }]);
  for (const bad of ['1', '"1', '1"', 'W/1', 'w/"1"', '"1" "2"', '*, "1"', '"a"b', '"a\\"b"'])
    t.equal(parseEntityTags(bad), null, `malformed: ${bad}`);
});

t.test('If-Match against a real server: lists, *, weak tags, malformed values', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const created = await s.call('POST', '/stream/layers', { id: 'box', content: { type: 'color', color: '#ff0000' } });
  t.equal(created.status, 201);
  let etag = created.headers.get('etag')!;
  t.match(etag, /^"\d+"$/);
  const patch = (ifMatch: string, color: string) => s.call('PATCH', '/stream/layers/box', { content: { color } }, { 'if-match': ifMatch });
  const color = async (): Promise<string> => (await s.call('GET', '/stream/layers/box')).body.content.color;

  const listed = await patch(`"0", ${etag}`, '#00ff00');
  t.equal(listed.status, 200, `a list that holds the current ETag succeeds ("0", ${etag})`);
  t.equal(await color(), '#00ff00');
  const stale = etag;
  etag = listed.headers.get('etag')!;
  t.not(etag, stale, 'the ETag moved');

  for (const [header, why] of [
    [`"1", "0"`, 'a list without the current ETag'],
    [`${stale}, "0"`, 'a list of stale ETags'],
    [`W/${etag}`, 'a weak tag never matches (strong comparison)'],
    [`W/${etag}, "0"`, 'nor in a list'],
    ['"abc"', 'a tag that is not a version'],
    [',', 'an empty list'],
  ] as const) {
    const r = await patch(header, '#123456');
    t.equal(r.status, 412, `412: ${why} (${header})`);
    t.equal(r.body.error.code, 'SM_ERR_PRECONDITION_FAILED');
  }
  t.equal(await color(), '#00ff00', 'nothing changed by the refused patches');

  for (const header of ['17', etag.slice(1, -1), `"${etag}`, `*, ${etag}`, 'W/17']) {
    const r = await patch(header, '#123456');
    t.equal(r.status, 400, `400: malformed If-Match ${header}`);
    t.equal(r.body.error.code, 'SM_ERR_VALIDATION');
  }
  t.equal(await color(), '#00ff00', 'nothing changed by malformed headers');

  const weakThenStrong = await patch(`W/"0", , ${etag}`, '#0000ff');
  t.equal(weakThenStrong.status, 200, 'a weak tag and an empty element beside the current strong one: succeeds');
  etag = weakThenStrong.headers.get('etag')!;
  t.equal((await patch('*', '#ffffff')).status, 200, '* matches any current version');

  // The config and the scene document: the same rules.
  const config = await s.call('GET', '/stream/config');
  const cEtag = config.headers.get('etag')!;
  const cv = Number(cEtag.slice(1, -1));
  t.equal(
    (await s.call('PATCH', '/stream/config', { background: '#010203' }, { 'if-match': `"${cv + 1000}", "${cv + 1001}"` })).status,
    412,
    'config: a list without it',
  );
  t.equal(
    (await s.call('PATCH', '/stream/config', { background: '#040506' }, { 'if-match': `"${cv + 1000}", ${cEtag}` })).status,
    200,
    'config: a list with it',
  );
  t.equal((await s.call('GET', '/stream/config')).body.background, '#040506');

  const doc = await s.call('GET', '/stream/scene');
  const dEtag = doc.headers.get('etag')!;
  const body = { canvas: doc.body.canvas, layers: doc.body.layers };
  t.equal(
    (await s.call('PUT', '/stream/scene', body, { 'if-match': `"0", W/${dEtag}` })).status,
    412,
    'scene: only a weak copy of the current tag',
  );
  t.equal((await s.call('PUT', '/stream/scene', body, { 'if-match': `"0", ${dEtag}` })).status, 200, 'scene: a list with it');

  const layer = await s.call('GET', '/stream/layers/box');
  const lEtag = layer.headers.get('etag')!;
  t.equal((await s.call('DELETE', '/stream/layers/box', undefined, { 'if-match': '"0"' })).status, 412, 'DELETE: stale');
  t.equal((await s.call('DELETE', '/stream/layers/box', undefined, { 'if-match': `"0", ${lEtag}` })).status, 204, 'DELETE: a list with it');
});
