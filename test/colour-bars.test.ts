/**
 * Colour end to end: known sRGB patches drawn as colour layers, recorded live by the real
 * pipeline (pool I420 conversion + libx264), then decoded by ffmpeg to RGB the way a player
 * would, with the colour tags it finds in the file. Every patch must come back within 3 levels
 * per channel, at 1080p (BT.709) and at 480p (BT.601 / SMPTE 170M), and ffprobe must show the
 * tags. A decode that ignores the 1080p tags (BT.601 assumed) must miss: the test can fail.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { startServer } from './helpers/server.js';

const run = promisify(execFile);

/** sRGB patches: the orange, 75 % bars, primaries, greys, a skin tone. */
const PATCHES: Array<[number, number, number]> = [
  [238, 143, 7],
  [191, 191, 0],
  [0, 191, 191],
  [191, 0, 191],
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 255],
  [16, 16, 16],
  [128, 128, 128],
  [224, 172, 136],
  [40, 80, 160],
];
const COLS = 4;
const ROWS = 3;
const hex = (c: number[]): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Records a few frames of the patch grid at `width` x `height`; returns the recording's path. */
async function record(t: Test, width: number, height: number, env: Record<string, string> = {}): Promise<string> {
  const s = await startServer({ WIDTH: String(width), HEIGHT: String(height), FPS: '10', X264_PRESET: 'ultrafast', AUDIO: 'none', ...env });
  t.teardown(() => s.close());
  // Enough bits that x264 keeps flat patches exact (set by PATCH: VIDEO_BITRATE_KBPS does not parse from the environment today).
  t.equal((await s.call('PATCH', '/stream/config', { encoder: { bitrateKbps: 8000 } })).status, 200);
  const pw = Math.floor(width / COLS);
  const ph = Math.floor(height / ROWS);
  for (const [i, c] of PATCHES.entries()) {
    const res = await s.call('POST', '/stream/layers', {
      id: `p${i}`,
      zIndex: i,
      transform: { x: (i % COLS) * pw, y: Math.floor(i / COLS) * ph, width: pw, height: ph },
      content: { type: 'color', color: hex(c) },
    });
    if (res.status !== 201) throw new Error(`layer p${i}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  t.equal((await s.call('POST', '/stream/start')).status, 200, 'live');
  const t0 = Date.now();
  // A few frames: wait until some were delivered (or 5 s on a loaded machine).
  while (Date.now() - t0 < 5000) {
    await new Promise((r) => setTimeout(r, 100));
    if (((await s.call('GET', '/stream/status')).body.frameCount ?? 0) >= 4) break;
  }
  t.equal((await s.call('POST', '/stream/stop')).status, 200, 'stopped');
  const files = readdirSync(join(s.dir, 'recordings'));
  return join(s.dir, 'recordings', files[0]!);
}

/** ffprobe's colour fields of the first video stream. */
async function colourTags(file: string): Promise<Record<string, string>> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=color_space,color_primaries,color_transfer,color_range',
    '-of',
    'json',
    file,
  ]);
  return (JSON.parse(stdout) as { streams: Array<Record<string, string>> }).streams[0]!;
}

/** The H.264 SPS VUI's colour fields, as ffmpeg's trace_headers prints them (what any decoder reads, container or not). */
async function vui(file: string): Promise<Record<string, number>> {
  const { stderr } = await run('ffmpeg', [
    '-v',
    'info',
    '-i',
    file,
    '-frames:v',
    '1',
    '-c:v',
    'copy',
    '-bsf:v',
    'trace_headers',
    '-f',
    'null',
    '-',
  ]);
  const out: Record<string, number> = {};
  for (const m of stderr.matchAll(/\b(video_full_range_flag|colour_primaries|transfer_characteristics|matrix_coefficients)\s+\d+ = (\d+)/g))
    out[m[1]!] ??= Number(m[2]);
  return out;
}

/** The first frame decoded to RGB24 by ffmpeg (`vf`: extra filters, e.g. a forced matrix). */
async function decodeFirst(file: string, width: number, height: number, vf?: string, accurate = false): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-frames:v',
      '1',
      ...(vf ? ['-vf', vf] : []),
      ...(accurate ? ['-sws_flags', 'accurate_rnd+full_chroma_int'] : []),
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: width * height * 3 + 1024 },
  );
  if (stdout.length !== width * height * 3) throw new Error(`decoded ${stdout.length} bytes, expected ${width * height * 3}`);
  return stdout;
}

/** Each patch's largest error over its centre (a quarter of its area), per channel, in levels. */
function patchErrors(rgb: Buffer, width: number, height: number): number[] {
  const pw = Math.floor(width / COLS);
  const ph = Math.floor(height / ROWS);
  return PATCHES.map((c, i) => {
    const x0 = (i % COLS) * pw;
    const y0 = Math.floor(i / COLS) * ph;
    let worst = 0;
    for (let y = y0 + Math.floor((ph * 3) / 8); y < y0 + Math.floor((ph * 5) / 8); y++) {
      for (let x = x0 + Math.floor((pw * 3) / 8); x < x0 + Math.floor((pw * 5) / 8); x++) {
        const o = (y * width + x) * 3;
        for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(rgb[o + k]! - c[k]!));
      }
    }
    return worst;
  });
}

for (const [width, height, tags] of [
  [1920, 1080, { color_space: 'bt709', color_primaries: 'bt709', color_transfer: 'bt709', color_range: 'tv' }],
  [640, 480, { color_space: 'smpte170m', color_primaries: 'smpte170m', color_transfer: 'smpte170m', color_range: 'tv' }],
] as const) {
  t.test(`${width}x${height}: colour patches survive the encode and a tag-following decode within 3 levels`, async (t) => {
    const file = await record(t, width, height);
    t.same(await colourTags(file), tags, `ffprobe: ${JSON.stringify(tags)}`);
    // H.273 code points: 1 = BT.709, 6 = SMPTE 170M (BT.601 525-line); range 0 = limited.
    const code = height >= 720 ? 1 : 6;
    t.same(
      await vui(file),
      { video_full_range_flag: 0, colour_primaries: code, transfer_characteristics: code, matrix_coefficients: code },
      'x264 wrote the same into the stream (VUI)',
    );
    const errors = patchErrors(await decodeFirst(file, width, height), width, height);
    errors.forEach((e, i) => t.ok(e <= 3, `patch ${hex(PATCHES[i]!)}: worst channel off by ${e}`));
    // swscale's default YUV -> RGB path alone is off by up to 3 (#bfbf00 from its exact Y'CbCr
    // decodes as 190,188,0); its accurate path shows what the conversion and the encode lose.
    const accurate = patchErrors(await decodeFirst(file, width, height, undefined, true), width, height);
    t.ok(Math.max(...accurate) <= 2, `decoded with accurate rounding, every patch within 2 levels (${accurate.join(' ')})`);
    if (height >= 720) {
      // The same file decoded as if untagged SD (BT.601): the orange moves, so the check has teeth.
      const wrong = patchErrors(await decodeFirst(file, width, height, 'scale=in_color_matrix=bt601:in_range=tv'), width, height);
      t.ok(wrong[0]! > 3, `decoded with the wrong matrix, the orange is off by ${wrong[0]} levels`);
    }
  });
}

t.test('COLOR_MATRIX=bt601 at 1080p converts and tags BT.601 (the config overrides auto)', async (t) => {
  const file = await record(t, 1920, 1080, { COLOR_MATRIX: 'bt601' });
  t.match(await colourTags(file), { color_space: 'smpte170m', color_range: 'tv' });
  const errors = patchErrors(await decodeFirst(file, 1920, 1080), 1920, 1080);
  t.ok(Math.max(...errors) <= 3, `every patch within 3 levels (worst ${Math.max(...errors)})`);
});

t.test('encoder.colorMatrix over the API: validated, kept by a patch that leaves it out, defaulted for an old stored config', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  t.equal((await s.call('GET', '/stream/config')).body.encoder.colorMatrix, 'auto', 'default auto');
  t.equal((await s.call('PATCH', '/stream/config', { encoder: { colorMatrix: 'bt709' } })).body.encoder.colorMatrix, 'bt709');
  const kept = await s.call('PATCH', '/stream/config', { encoder: { bitrateKbps: 3000 } });
  t.equal(kept.body.encoder.colorMatrix, 'bt709', 'a patch of another encoder field keeps it');
  const bad = await s.call('PATCH', '/stream/config', { encoder: { colorMatrix: 'bt2020' } });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'SM_ERR_VALIDATION');
  t.equal((await s.call('GET', '/stream/config')).body.encoder.colorMatrix, 'bt709', 'unchanged by the refused patch');
  const { StreamConfigSchema } = await import('../shared/stream-config.js');
  const old = {
    width: 1280,
    height: 720,
    targetFPS: 30,
    background: '#000000',
    encoder: { preset: 'veryfast', bitrateKbps: 2500, keyframeIntervalSeconds: 2, audio: 'silent' },
    output: { url: null },
  };
  t.equal(StreamConfigSchema.parse(old).encoder.colorMatrix, 'auto', 'a config stored before the setting loads, as auto');
});
