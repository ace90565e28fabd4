import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { liveHostAllowed } from '../orchestrator/media/live-hosts.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { ffmpegChildren } from './helpers/media.js';
import { startServer } from './helpers/server.js';

/**
 * VIDEO_LIVE_HOSTS (an operator's allow-list of the hosts live video feeds may come from): a
 * layer naming another host is refused at the API (403 SM_ERR_SOURCE_NOT_ALLOWED, nothing
 * stored); one stored before the setting loads, stays editable and reports `error`, and no
 * decoder ever connects to it. Without the setting every host is allowed.
 */

t.test('the allow-list: names, wildcards, ports, IPv6, case', async (t) => {
  const list = ['cams.example.com', '*.feeds.example.net:1935', '10.0.0.7', '[2001:db8::1]:9000'];
  const cases: Array<[string, boolean]> = [
    ['rtmp://cams.example.com/live/a', true],
    ['srt://CAMS.example.com:7000', true],
    ['rtmp://user:pass@cams.example.com:19350/live/a', true],
    ['rtmp://a.feeds.example.net/live/x', true],
    ['rtmp://a.b.feeds.example.net:1935/live/x', true],
    ['rtmp://a.feeds.example.net:1936/live/x', false],
    ['rtmps://a.feeds.example.net/live/x', false],
    ['rtmp://feeds.example.net/live/x', false],
    ['rtmp://evilfeeds.example.net/live/x', false],
    ['http://10.0.0.7/x.m3u8', true],
    ['http://10.0.0.70/x.m3u8', false],
    ['http://169.254.169.254/latest/meta-data', false],
    ['srt://[2001:db8::1]:9000', true],
    ['srt://[2001:db8::1]:9001', false],
    ['rtmp://cams.example.com.evil.org/live', false],
    ['not a url', false],
  ];
  for (const [src, want] of cases) t.equal(liveHostAllowed(src, list), want, `${src}: ${want ? 'allowed' : 'refused'}`);
  t.equal(liveHostAllowed('rtmp://anything.example/live', []), true, 'no list: any host');
});

t.test('VIDEO_LIVE_HOSTS is validated at start', async (t) => {
  t.throws(() => loadConfig({ VIDEO_LIVE_HOSTS: 'cams.example.com,http://x/' }), /VIDEO_LIVE_HOSTS/);
  t.throws(() => loadConfig({ VIDEO_LIVE_HOSTS: '-rf' }), /VIDEO_LIVE_HOSTS/);
  t.same(loadConfig({ VIDEO_LIVE_HOSTS: ' a.example , *.b.example:1935 ' }).assets.video.liveHosts, ['a.example', '*.b.example:1935']);
});

t.test('refused at the API; a stored one loads, stays editable, is never read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-live-hosts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = { STATE_STORE: 'file', DATA_DIR: join(dir, 'data') };
  // Port 9 (discard): nothing listens; the URL only has to be remembered.
  const stored = 'rtmp://127.0.0.2:9/live/old';
  const first = await startServer(store);
  const put = await first.call('POST', '/stream/layers', { id: 'old', content: { type: 'video', src: stored } });
  t.equal(put.status, 201, 'stored while any host was allowed');
  await first.close();

  const s = await startServer({ ...store, VIDEO_LIVE_HOSTS: '127.0.0.1:1935,*.feeds.example' });
  t.teardown(() => s.close());
  const before = (await s.call('GET', '/stream/scene')).body;
  for (const src of ['rtmp://127.0.0.3/live/x', 'srt://127.0.0.1:1936', 'http://169.254.169.254/latest', 'rtmp://feeds.example/live']) {
    const r = await s.call('POST', '/stream/layers', { id: 'new', content: { type: 'video', src } });
    t.equal(r.status, 403, `${src}: ${r.status}`);
    t.equal(r.body.error.code, 'SM_ERR_SOURCE_NOT_ALLOWED');
    t.equal(r.body.error.details[0].path, 'content.src');
  }
  const patch = await s.call('PATCH', '/stream/layers/old', { content: { src: 'rtmp://127.0.0.4/live/y' } });
  t.equal(patch.status, 403, 'a PATCH to another refused host too');
  t.same((await s.call('GET', '/stream/scene')).body, before, 'nothing changed by the refusals');

  const ok = await s.call('POST', '/stream/layers', { id: 'cam', content: { type: 'video', src: 'rtmp://a.feeds.example/live/x' } });
  t.equal(ok.status, 201, 'an allowed host is accepted');
  t.equal((await s.call('DELETE', '/stream/layers/cam')).status, 204);

  const moved = await s.call('PATCH', '/stream/layers/old', { transform: { x: 10 } });
  t.equal(moved.status, 200, 'the stored layer stays editable');
  t.match(s.app.pipeline.media.status('old'), { state: 'error', lastError: /VIDEO_LIVE_HOSTS/ }, 'and reports why it shows nothing');
  t.same(ffmpegChildren('127.0.0.2'), [], 'no decoder for it');
});
