/**
 * Where the configuration comes from at start, against the real entry point in child processes:
 * an explicit environment variable wins over the stored state, which wins over the defaults, and
 * the start log says which source set each stream setting; `.env` in the working directory fills
 * in what the environment does not set; a folder the server cannot write stops the start with
 * one clear line.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadEnvFile } from '../orchestrator/config/dotenv.js';
import { resolveStreamConfig } from '../orchestrator/config/precedence.js';
import { loadConfig } from '../orchestrator/config/env.js';
import { runMain } from './helpers/run-main.js';
import { startChild, type ChildServer } from './helpers/child-server.js';
import { probeVideo } from './helpers/media.js';

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** The JSON log lines of a child's output. */
function logLines(out: string): LogLine[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The start's "stream settings" line: sources and values by variable. */
function settingsLine(s: ChildServer): { sources: Record<string, string>; values: Record<string, unknown>; overridden: string[] } {
  const line = logLines(s.output()).find((l) => l.msg.startsWith('stream settings'));
  if (!line) throw new Error(`no stream settings line in: ${s.output()}`);
  return line as unknown as { sources: Record<string, string>; values: Record<string, unknown>; overridden: string[] };
}

/** Waits until `check` holds (polling every 100 ms, 15 s at most). */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

t.test("OUTPUT_URL=X after a run with Y: the stream goes to X, and the start log names each setting's source", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-precedence-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rec = join(dir, 'rec');
  const base = { RECORDINGS_DIR: rec, DATA_DIR: join(dir, 'data'), STATE_STORE: 'file', DEFAULT_SCENE: 'empty', WORKERS: '1', FPS: '15' };

  // Run 1: Y from the environment; an admin changes the background (stored).
  const first = await startChild({ ...base, OUTPUT_URL: 'y.ts' });
  t.teardown(() => first.stop('SIGKILL'));
  t.equal((await first.call('GET', '/stream/status')).body.isLive, true, 'first boot goes live');
  t.equal((await first.call('PATCH', '/stream/config', { background: '#336699' })).status, 200);
  await until('frames', async () => (await first.call('GET', '/stream/status')).body.frameCount > 30);
  t.equal(await first.stop(), 0);
  const ySize = size(join(rec, 'y.ts'));
  t.ok(ySize > 1000, `run 1 recorded to y.ts (${ySize} bytes)`);

  // Run 2: OUTPUT_URL=X. The stored config says Y; the environment wins, and the stream (resumed:
  // it was live) records to X.
  const second = await startChild({ ...base, OUTPUT_URL: 'x.mp4' });
  t.teardown(() => second.stop('SIGKILL'));
  const config = (await second.call('GET', '/stream/config')).body;
  t.equal(config.output.url, 'x.mp4', "GET /config: the environment's output");
  t.equal(config.background, '#336699', 'the stored background is kept (no BACKGROUND in the environment)');
  const s2 = settingsLine(second);
  t.match(
    s2.sources,
    { OUTPUT_URL: 'env', WIDTH: 'env', FPS: 'env', BACKGROUND: 'stored', X264_PRESET: 'stored' },
    'sources in the start log',
  );
  t.equal(Object.keys(s2.sources).length, 11, 'every stream setting with a variable is named');
  t.match(s2.values, { OUTPUT_URL: 'x.mp4', BACKGROUND: '#336699', FPS: 15 });
  t.same(s2.overridden, ['OUTPUT_URL'], 'the one stored value the environment replaced');
  t.equal((await second.call('GET', '/stream/status')).body.isLive, true, 'resumed live');
  await until('frames', async () => (await second.call('GET', '/stream/status')).body.frameCount > 40);
  t.equal((await second.call('GET', '/stream/status')).body.outputs[0].url, join(rec, 'x.mp4'), 'the stream is written to x.mp4');
  // Changed over the API while OUTPUT_URL is still set: stored, until the next start.
  t.equal((await second.call('PATCH', '/stream/config', { output: { url: 'z.flv' } })).status, 200);
  t.equal(await second.stop(), 0);
  const x = await probeVideo(join(rec, 'x.mp4'), true);
  t.match(x, { codec: 'h264', width: 320, height: 180 }, 'ffprobe reads the stream in x.mp4');
  t.ok(x.frames! > 10, `${x.frames} frames in x.mp4`);
  t.equal(size(join(rec, 'y.ts')), ySize, 'y.ts got nothing more');

  // Run 3: the same OUTPUT_URL still set: the environment wins over the PATCHed z.flv again.
  const third = await startChild({ ...base, OUTPUT_URL: 'x.mp4', RESUME_ON_START: 'false' });
  t.teardown(() => third.stop('SIGKILL'));
  t.equal((await third.call('GET', '/stream/config')).body.output.url, 'x.mp4', 'env wins over the value PATCHed while it was set');
  t.same(settingsLine(third).overridden, ['OUTPUT_URL']);
  t.equal(await third.stop(), 0);

  // Run 4: without OUTPUT_URL the stored value (the one last in effect) is used.
  const fourth = await startChild({ ...base, RESUME_ON_START: 'false' });
  t.teardown(() => fourth.stop('SIGKILL'));
  t.equal((await fourth.call('GET', '/stream/config')).body.output.url, 'x.mp4', 'the config in effect was stored');
  t.match(settingsLine(fourth).sources, { OUTPUT_URL: 'stored', BACKGROUND: 'stored', WIDTH: 'env' });
  t.equal(await fourth.stop(), 0);
});

t.test('precedence rules: env > stored > default', (t) => {
  const defaults = loadConfig({}).stream;
  const env = loadConfig({ OUTPUT_URL: 'rtmp://example.com/live/key', VIDEO_BITRATE_KBPS: '4000', COLOR_MATRIX: 'bt601' });
  t.same([...env.explicit].sort(), ['COLOR_MATRIX', 'OUTPUT_URL', 'VIDEO_BITRATE_KBPS'], 'explicit: the variables set');
  t.notOk(loadConfig({ WIDTH: '' }).explicit.has('WIDTH'), 'an empty variable counts as unset');
  const stored = {
    ...defaults,
    width: 640,
    height: 360,
    encoder: { ...defaults.encoder, bitrateKbps: 900, colorMatrix: 'bt601' as const },
  };
  const r = resolveStreamConfig(stored, env.stream, env.explicit, true);
  t.match(r.config, {
    width: 640,
    height: 360,
    output: { url: 'rtmp://example.com/live/key' },
    encoder: { bitrateKbps: 4000, colorMatrix: 'bt601', preset: 'veryfast' },
  });
  t.same(r.overridden, ['OUTPUT_URL', 'VIDEO_BITRATE_KBPS'], 'COLOR_MATRIX is env but equal to the stored value');
  t.match(r.sources, { WIDTH: 'stored', OUTPUT_URL: 'env', COLOR_MATRIX: 'env', AUDIO: 'stored' });
  const fresh = resolveStreamConfig(env.stream, env.stream, env.explicit, false);
  t.equal(fresh.config, env.stream, 'nothing stored: the environment config as it is');
  t.match(fresh.sources, { WIDTH: 'default', OUTPUT_URL: 'env' });
  t.same(fresh.overridden, []);
  t.end();
});

t.test('.env in the working directory fills in what the environment does not set', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'sm-dotenv-'));
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  writeFileSync(
    join(cwd, '.env'),
    [
      '# a comment',
      'OUTPUT_URL=from-dotenv.mkv',
      'BACKGROUND="#112233"',
      'AUTOSTART=false',
      'export VIDEO_BITRATE_KBPS=1234',
      'DEFAULT_SCENE=empty',
      '',
    ].join('\n'),
  );
  // ENV_FILE empty: unset, so the default `.env` of the working directory (the helper's `none` off).
  const s = await startChild({ ENV_FILE: '', BACKGROUND: '#445566', STATE_STORE: 'file' }, { cwd });
  t.teardown(() => s.stop('SIGKILL'));
  const config = (await s.call('GET', '/stream/config')).body;
  t.match(
    config,
    { output: { url: 'from-dotenv.mkv' }, background: '#445566', encoder: { bitrateKbps: 1234 } },
    ".env values, the environment's BACKGROUND kept",
  );
  t.equal((await s.call('GET', '/stream/status')).body.isLive, false, 'AUTOSTART=false from .env');
  t.same((await s.call('GET', '/stream/layers')).body.layers, [], 'DEFAULT_SCENE=empty from .env');
  const read = logLines(s.output()).find((l) => l.msg.startsWith('read the env file'));
  t.same(
    read?.['variables'],
    ['AUTOSTART', 'DEFAULT_SCENE', 'OUTPUT_URL', 'VIDEO_BITRATE_KBPS'],
    'the log names what .env set, not BACKGROUND',
  );
  t.match(
    settingsLine(s).sources,
    { OUTPUT_URL: 'env', BACKGROUND: 'env', WIDTH: 'env', FPS: 'default' },
    '.env counts as the environment',
  );
  t.ok(existsSync(join(cwd, 'data', 'state.json')), 'relative DATA_DIR under the working directory');
  t.equal(await s.stop(), 0);

  // loadEnvFile on its own: a variable set in the environment, even empty, is kept.
  const env: NodeJS.ProcessEnv = { ENV_FILE: join(cwd, '.env'), AUTOSTART: '' };
  t.same(loadEnvFile(env)?.names, ['BACKGROUND', 'DEFAULT_SCENE', 'OUTPUT_URL', 'VIDEO_BITRATE_KBPS']);
  t.equal(env['AUTOSTART'], '', 'an empty variable is not overridden');
  t.equal(env['BACKGROUND'], '#112233', 'quotes removed');
  t.equal(loadEnvFile({ ENV_FILE: 'none' }), null, 'ENV_FILE=none: no file');
  t.throws(
    () => loadEnvFile({ ENV_FILE: join(cwd, 'missing.env') }),
    /ENV_FILE .*missing\.env cannot be read \(ENOENT\)/,
    'a named file that is missing is an error',
  );
});

/** Asserts one fatal line matching `re`, no stack, exit 1. */
function oneLine(t: Test, { code, out }: { code: number | null; out: string }, re: RegExp): void {
  t.equal(code, 1, 'exit 1');
  const fatal = logLines(out).filter((l) => l.level >= 50);
  t.equal(fatal.length, 1, `one error line: ${out}`);
  t.match(fatal[0]?.msg, re);
  t.notOk(/\bat .+:\d+:\d+/.test(out) || out.includes('"stack"'), 'no stack trace');
}

t.test('a folder the server cannot write: one line naming it, exit 1 (a root-owned Docker bind mount)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-dirs-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // A folder this user may not write: as root (who may write anything), the server runs as
  // `nobody` against a root-owned folder, as the image's `node` user against a root-owned mount.
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o555 });
  chmodSync(locked, 0o555);
  const uid = process.getuid?.() === 0 ? 65534 : undefined;
  const writable = join(dir, 'ok');
  mkdirSync(writable, { mode: 0o777 });
  chmodSync(writable, 0o777);
  const env = {
    AUTOSTART: 'false',
    RECORDINGS_DIR: join(writable, 'rec'),
    ASSET_STORAGE_PATH: join(writable, 'assets'),
    DATA_DIR: join(writable, 'data'),
  };

  oneLine(
    t,
    await runMain({ ...env, DATA_DIR: join(locked, 'state') }, uid),
    /^could not start: DATA_DIR .*locked\/state is not writable by uid \d+ \(EACCES\)/,
  );
  oneLine(
    t,
    await runMain({ ...env, RECORDINGS_DIR: locked }, uid),
    /^could not start: RECORDINGS_DIR .*locked is not writable by uid \d+ \(EACCES\): make it writable/,
  );
  const pretty = await runMain({ ...env, ASSET_STORAGE_PATH: join(locked, 'a'), LOG_PRETTY: '1' }, uid);
  t.equal(pretty.code, 1);
  t.match(
    pretty.out,
    /could not start: ASSET_STORAGE_PATH .*locked\/a is not writable/,
    'LOG_PRETTY=1: the line is printed before the exit',
  );
  t.notOk(existsSync(join(writable, 'data', 'state.json')), 'no state written: nothing started');
});
