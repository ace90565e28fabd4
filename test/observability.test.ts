import { spawnSync } from 'node:child_process';
import t from 'tap';
import { startChild } from './helpers/child-server.js';
import { freePort } from './helpers/rtmp-server.js';
import { startServer } from './helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `name{labels} value` of one sample, or NaN. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}` : ''}`) && (labels || l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

t.test('/metrics during a live run', async (t) => {
  const s = await startServer({ DEFAULT_SCENE: 'auction', METRICS_PORT: '0' });
  t.teardown(() => s.close());
  await s.call('POST', '/stream/start');
  await sleep(1500);
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${s.base}/metrics`);
    t.match(res.headers.get('content-type'), /text\/plain/);
    return res.text();
  };
  const a = await scrape();
  await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid 3' } });
  await sleep(1200);
  const b = await scrape();

  t.ok(sample(b, 'stream_manager_frames_rendered_total') > sample(a, 'stream_manager_frames_rendered_total'), 'frames rendered rises');
  t.ok(sample(a, 'stream_manager_frames_rendered_total') > 20, 'frames rendered counted');
  t.ok(sample(b, 'stream_manager_pool_task_run_seconds_count', 'task="render"') > 0, 'task run histogram has counts');
  t.ok(sample(b, 'stream_manager_pool_task_wait_seconds_count', 'task="render"') > 0, 'task wait histogram has counts');
  for (const stage of ['render', 'composite', 'encode_write']) {
    t.ok(sample(b, 'stream_manager_frame_stage_seconds_count', `stage="${stage}"`) > 20, `frame time: ${stage}`);
  }
  t.ok(sample(b, 'stream_manager_layer_render_seconds_count', 'type="character"') > 20, 'character renders every frame');
  t.ok(sample(b, 'stream_manager_layer_render_seconds_count', 'type="text"') >= 2, 'text re-rendered after the PATCH');
  t.ok(sample(b, 'stream_manager_layers_reused_total') > 20, 'static layers reused');
  t.equal(sample(b, 'stream_manager_target_fps'), 30);
  t.ok(sample(b, 'stream_manager_fps') > 20, 'measured fps');
  t.equal(sample(b, 'stream_manager_pool_threads'), 2);
  t.equal(sample(b, 'stream_manager_live'), 1);
  t.ok(sample(b, 'stream_manager_encoder_input_bytes_total') > 320 * 240 * 4 * 20, 'bytes to ffmpeg');
  t.ok(sample(b, 'stream_manager_encoder_output_bytes_per_second') > 0, 'bitrate from ffmpeg -progress');
  t.ok(sample(b, 'stream_manager_encoder_speed_ratio') > 0, 'speed from ffmpeg -progress');
  t.equal(sample(b, 'stream_manager_output_up', 'kind="file"'), 1);
  t.ok(
    sample(b, 'stream_manager_http_request_duration_seconds_count', 'route="/stream/layers/:id",method="PATCH",status="200"') >= 1,
    'HTTP by route template',
  );
  t.ok(sample(b, 'stream_manager_store_connected') === 1);
  t.ok(sample(b, 'nodejs_eventloop_lag_seconds') >= 0, 'default Node metrics');
  // Every reason has its series from the start (a drop may really happen under load: the value is not asserted).
  for (const reason of ['render_late', 'render_queue_full', 'encoder_backpressure', 'error']) {
    t.ok(sample(a, 'stream_manager_frames_dropped_total', `reason="${reason}"`) >= 0, `drop reason ${reason} present from the start`);
  }

  // Prometheus text exposition: every sample line is `name{labels} value`, every family has HELP and TYPE.
  const families = new Set<string>();
  for (const line of b.split('\n')) {
    if (!line) continue;
    if (line.startsWith('# TYPE ')) families.add(line.split(' ')[2]!);
    else if (!line.startsWith('# HELP '))
      t.match(
        line,
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+|NaN|[+-]Inf$/,
      );
  }
  t.ok(families.size > 40, `${families.size} metric families`);
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: b, encoding: 'utf8' });
  t.equal(promtool.error, undefined, 'promtool is installed (apt-get install prometheus)');
  t.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
  t.equal((promtool.stdout + promtool.stderr).trim(), '', 'no problems reported');

  const separate = await fetch(`http://127.0.0.1:${s.app.metricsPort}/metrics`);
  t.equal(separate.status, 200, 'also on METRICS_PORT');
  t.match(await separate.text(), /stream_manager_frames_rendered_total/);
  await s.call('POST', '/stream/stop');
});

t.test('/health/ready names what is not ready', async (t) => {
  const ok = await startServer();
  t.teardown(() => ok.close());
  const ready = await ok.call('GET', '/health/ready');
  t.equal(ready.status, 200);
  t.same(ready.body.failing, []);
  t.equal((await ok.call('GET', '/api/health/ready')).status, 200, 'also under /api');

  const noFfmpeg = await startServer({ FFMPEG_PATH: '/nonexistent/ffmpeg' });
  t.teardown(() => noFfmpeg.close());
  const r1 = await noFfmpeg.call('GET', '/health/ready');
  t.equal(r1.status, 503);
  t.same(r1.body.failing, ['ffmpeg']);
  t.equal((await noFfmpeg.call('GET', '/health')).status, 200, 'still alive');

  const nowhere = await freePort();
  const noRedis = await startServer({ STATE_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${nowhere}` });
  t.teardown(() => noRedis.close());
  const r2 = await noRedis.call('GET', '/health/ready');
  t.equal(r2.status, 503);
  t.same(r2.body.failing, ['store']);
  t.equal((await noRedis.call('GET', '/health')).body.status, 'degraded');
});

t.test('log lines of one request share its request id', async (t) => {
  const s = await startChild({ STATE_STORE: 'memory', AUTOSTART: 'false' });
  t.teardown(() => s.stop());
  const res = await s.call('PATCH', '/stream/layers/overlay', { content: { content: 'Bid 5' } }, { 'X-Request-Id': 'req-test-42' });
  t.equal(res.status, 200);
  t.equal(res.headers.get('x-request-id'), 'req-test-42', 'echoed');
  const gen = await s.call('GET', '/stream/status');
  t.match(gen.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'made when absent');
  await sleep(100);
  const lines = s
    .output()
    .split('\n')
    .filter((l) => l.includes('"reqId":"req-test-42"'))
    .map((l) => JSON.parse(l) as { msg: string; component: string });
  t.same(lines.map((l) => l.msg).sort(), ['request', 'scene changed'], 'the audit line and the request line');
  t.ok(lines.every((l) => l.component === 'http'));
});
