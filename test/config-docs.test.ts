import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { EnvSchema } from '../orchestrator/config/env.js';
import { startChild } from './helpers/child-server.js';
import { freePort } from './helpers/rtmp-server.js';

/**
 * The configuration table in docs/configuration.md is the contract: every variable it documents is started with a
 * valid value in one real server (a child process), and every variable the server reads is in it.
 */

interface Row {
  names: string[];
  defaults: string[];
}

/** The rows of the env-var table in docs/configuration.md's "Environment variables" section. */
function configTableRows(): Row[] {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  const start = doc.indexOf('\n## Environment variables\n');
  if (start < 0) throw new Error('docs/configuration.md has no "## Environment variables" section');
  const end = doc.slice(start + 1).search(/\n##+ /);
  const section = end < 0 ? doc.slice(start) : doc.slice(start, start + 1 + end);
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length < 3 || !cells[0]!.startsWith('`')) continue;
    const names = [...cells[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    const defaults = names.length > 1 ? cells[1]!.split(',').map((d) => d.trim()) : [cells[1]!];
    rows.push({ names, defaults });
  }
  return rows;
}

const ADMIN = 'admin-token-0123456789abcdef';
const NAMED = 'named-operator-token-0123456789';
const METRICS = 'metrics-token-0123456789abcdef';

t.test('docs/configuration.md table: every variable documented, every documented variable accepted and in effect', async (t) => {
  const rows = configTableRows();
  const documented = rows.flatMap((r) => r.names);
  t.ok(documented.length > 40, `${documented.length} variables in the table`);
  t.same(
    documented.filter((n, i) => documented.indexOf(n) !== i),
    [],
    'no variable documented twice',
  );

  const read = Object.keys(EnvSchema.shape);
  t.same(
    read.filter((n) => !documented.includes(n)),
    [],
    'every variable env.ts reads is in the docs/configuration.md table',
  );
  t.same(
    documented.filter((n) => !read.includes(n)),
    [],
    'every variable in the docs/configuration.md table is read by env.ts',
  );
  const example = [...readFileSync('.env.example', 'utf8').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  t.same(
    read.filter((n) => !example.includes(n)),
    [],
    'every variable env.ts reads is in .env.example',
  );

  const dir = mkdtempSync(join(tmpdir(), 'sm-config-docs-'));
  mkdirSync(join(dir, 'root'));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name: 'deck', role: 'operator', token: NAMED }] }));
  // ENV_FILE: a file that sets nothing the environment does not (every variable is set here).
  writeFileSync(join(dir, 'docs.env'), '# read at start\nLOG_LEVEL=debug\n');
  const wsPort = await freePort();
  const metricsPort = await freePort();
  const ffmpeg = ['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg'].find((p) => existsSync(p)) ?? 'ffmpeg';
  // A valid value for each documented variable, all in one start; PORT comes from startChild.
  // A variable without an entry here is started with its documented default (when that is a literal).
  const values: Record<string, string> = {
    WS_PORT: String(wsPort),
    HOST: '127.0.0.1',
    WIDTH: '352',
    HEIGHT: '198',
    FPS: '24',
    BACKGROUND: '#203040',
    // A network URL: valid whatever file outputs are confined to (never used: AUTOSTART=false).
    OUTPUT_URL: 'rtmp://127.0.0.1:1935/live/config-docs',
    RECORDINGS_DIR: join(dir, 'recordings'),
    AUTOSTART: 'false',
    FFMPEG_PATH: ffmpeg,
    X264_PRESET: 'ultrafast',
    VIDEO_BITRATE_KBPS: '1800',
    KEYFRAME_INTERVAL_S: '1.5',
    AUDIO: 'none',
    ENCODER_MAX_QUEUED_FRAMES: '4',
    ENCODER_RESTART_DELAY_MS: '500',
    ENCODER_RESTART_MAX_DELAY_MS: '5000',
    ENCODER_MAX_RETRIES: '3',
    ENCODER_STALL_MS: '8000',
    WORKERS: '1',
    RENDER_MAX_QUEUE: '64',
    RENDER_TIMEOUT_MS: '3000',
    WORKER_MAX_HEAP_MB: '256',
    PREVIEW_FPS: '5',
    PREVIEW_WIDTHS: '160,320,480',
    PREVIEW_QUALITY: '60',
    WS_HEARTBEAT_MS: '20000',
    WS_MAX_BUFFERED_BYTES: '2097152',
    WS_CONGESTION_CLOSE_MS: '5000',
    // An empty root: no scene templates (the default root has assets/scenes/auction.json).
    ASSET_ROOT: join(dir, 'root'),
    ASSET_STORAGE_PATH: join(dir, 'uploads'),
    MAX_UPLOAD_SIZE: '4096',
    LIMIT_INPUT_PIXELS: '1000000',
    ALLOW_SVG: 'true',
    IMAGE_CACHE_BYTES: '67108864',
    DEFAULT_SCENE: 'empty',
    STATE_STORE: 'file',
    DATA_DIR: join(dir, 'data'),
    REDIS_URL: 'redis://127.0.0.1:6399/2',
    REDIS_PREFIX: 'docs-test:',
    RESUME_ON_START: 'false',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: '1',
    METRICS_PORT: String(metricsPort),
    AUTH_TOKENS: `admin:${ADMIN}`,
    AUTH_TOKENS_FILE: tokensFile,
    METRICS_TOKEN: METRICS,
    CORS_ORIGINS: 'https://admin.example.com',
    RATE_LIMIT_MAX: '5000',
    RATE_LIMIT_WINDOW_MS: '30000',
    WS_MESSAGE_RATE: '10',
    MAX_CONNECTIONS: '400',
    ALLOWED_HOSTS: 'stream.example.com',
    OUTPUT_DIRS: join(dir, 'extra-recordings'),
    ENV_FILE: join(dir, 'docs.env'),
    WEBRTC_ICE_HOSTS: '192.0.2.10',
    WEBRTC_UDP_PORTS: '40000-40100',
    VIDEO_LIVE_HOSTS: 'cams.example.com',
  };
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const row of rows) {
    row.names.forEach((name, i) => {
      if (name === 'PORT') return;
      const fallback = row.defaults[i] ?? '';
      const value = values[name] ?? (/^[^\s]+$/.test(fallback) && fallback !== 'unset' ? fallback : undefined);
      if (value === undefined) missing.push(name);
      else env[name] = value;
    });
  }
  t.same(missing, [], 'every documented variable has a test value (add one to `values` in this test)');

  const s = await startChild(env);
  t.teardown(() => s.stop());
  const admin = { authorization: `Bearer ${ADMIN}` };

  t.equal((await s.call('GET', '/stream/config')).status, 401, 'AUTH_TOKENS: auth is on');
  const config = await s.call('GET', '/stream/config', undefined, admin);
  t.equal(config.status, 200);
  t.match(
    config.body,
    {
      width: 352,
      height: 198,
      targetFPS: 24,
      background: '#203040',
      encoder: { preset: 'ultrafast', bitrateKbps: 1800, keyframeIntervalSeconds: 1.5, audio: 'none' },
      output: { url: env['OUTPUT_URL'] },
    },
    'WIDTH, HEIGHT, FPS, BACKGROUND, X264_PRESET, VIDEO_BITRATE_KBPS, KEYFRAME_INTERVAL_S, AUDIO, OUTPUT_URL in /stream/config',
  );
  t.equal(
    (await s.call('GET', '/stream/config', undefined, { authorization: `Bearer ${NAMED}` })).status,
    200,
    'AUTH_TOKENS_FILE: its token is accepted',
  );
  const status = await s.call('GET', '/stream/status', undefined, admin);
  t.match(status.body, { isLive: false, targetFPS: 24 }, 'AUTOSTART=false: not live');
  t.equal(status.headers.get('x-ratelimit-limit'), '5000', 'RATE_LIMIT_MAX');
  t.same((await s.call('GET', '/stream/layers', undefined, admin)).body.layers, [], 'DEFAULT_SCENE=empty');
  t.same((await s.call('GET', '/stream/scenes', undefined, admin)).body.scenes, [], 'ASSET_ROOT: no templates under the empty root');

  const ready = await s.call('GET', '/health/ready');
  t.match(ready.body, { checks: { ffmpeg: true, pool: true, store: true } }, 'FFMPEG_PATH found, pool up, file store reachable');

  t.equal((await fetch(`${s.base}/metrics`)).status, 401, 'METRICS_TOKEN: /metrics needs it');
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
  t.equal(metrics.status, 200, 'METRICS_PORT serves /metrics with METRICS_TOKEN');
  t.match(await metrics.text(), /^stream_manager_pool_threads 1$/m, 'WORKERS=1');

  const preflight = await fetch(`${s.base}/stream/status`, {
    method: 'OPTIONS',
    headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'GET' },
  });
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://admin.example.com', 'CORS_ORIGINS');

  const wsOpen = await new Promise<boolean>((r) => {
    const c = createConnection({ host: '127.0.0.1', port: wsPort }, () => {
      c.end();
      r(true);
    });
    c.once('error', () => r(false));
  });
  t.ok(wsOpen, 'WS_PORT listens');

  const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  const big = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const upload = async (bytes: Buffer): Promise<number> => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)]), 'x.png');
    return (await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form, headers: admin })).status;
  };
  t.equal(await upload(small), 201, 'a small upload is stored');
  t.equal(readdirSync(env['ASSET_STORAGE_PATH']!).filter((f) => !f.startsWith('.')).length, 1, 'ASSET_STORAGE_PATH holds it');
  t.ok(big.length > 4096, `${big.length} bytes`);
  // The server reads and drops a body just over the limit before its 413, so the client reads
  // the answer, never a reset (it used to close with the bytes unread: a TCP reset race).
  for (let i = 0; i < 5; i++)
    t.equal(
      await upload(big).catch((err: Error) => `${err.message} (${String(err.cause)})`),
      413,
      `MAX_UPLOAD_SIZE=4096: a larger upload is refused (try ${i + 1} of 5)`,
    );
  t.equal(readdirSync(env['ASSET_STORAGE_PATH']!).filter((f) => !f.startsWith('.')).length, 1, 'and not stored');

  t.equal((await s.call('PATCH', '/stream/data', { lot: 7 }, admin)).status, 200);
  t.ok(existsSync(join(env['DATA_DIR']!, 'state.json')), 'DATA_DIR holds the file store');
  const log = s.output();
  t.match(log, /WARN.*no scene templates/, 'LOG_PRETTY=1: human-readable lines');
  t.notMatch(log, /^\{"level"/m, 'LOG_PRETTY=1: no JSON log lines');
  t.notMatch(log, /INFO/, 'LOG_LEVEL=warn: no info lines (no request log)');
  t.equal(await s.stop(), 0, 'exits 0 on SIGTERM');
});
