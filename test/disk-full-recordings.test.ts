import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { RecordingJanitor } from '../orchestrator/output/recording-check.js';
import { createLogger } from '../orchestrator/logger.js';
import { startServer } from './helpers/server.js';

/**
 * A full disk under RECORDINGS_DIR (a real 8 MiB tmpfs): ffmpeg restarts while it is full leave
 * empty or header-less files; once space returns, every file left there must pass ffprobe. The
 * free space is reported by stream_manager_disk_free_bytes.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

/** Files ffprobe cannot open or finds no video stream in, with its reason. */
function unreadable(dir: string): string[] {
  const bad: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f.startsWith('.') || !statSync(join(dir, f)).isFile()) continue;
    const r = spawnSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', join(dir, f)],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (r.status !== 0 || !r.stdout.includes('video'))
      bad.push(`${f} (${statSync(join(dir, f)).size} bytes): ${r.stderr.trim().slice(0, 120) || 'no video stream'}`);
  }
  return bad;
}

/** Mounts an 8 MiB tmpfs at `dir` (root only); returns why not when it cannot. */
function mountTmpfs(dir: string): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message}`;
  }
}

t.test('a full RECORDINGS_DIR: after space returns, every file left there passes ffprobe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-diskfull-'));
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  const why = mountTmpfs(rec);
  if (why) {
    rmSync(dir, { recursive: true, force: true });
    t.comment(`no real full disk here (${why}); the cleanup itself is covered by the next test`);
    return;
  }
  t.teardown(() => {
    spawnSync('umount', ['-l', rec]);
    rmSync(dir, { recursive: true, force: true });
  });
  const s = await startServer({
    RECORDINGS_DIR: rec,
    DATA_DIR: join(dir, 'data'),
    WIDTH: '320',
    HEIGHT: '240',
    FPS: '15',
    DEFAULT_SCENE: 'auction',
    ENCODER_RESTART_DELAY_MS: '200',
    ENCODER_RESTART_MAX_DELAY_MS: '400',
    ENCODER_MAX_RETRIES: '1000',
  });
  t.teardown(() => s.close());
  for (const body of [
    { id: 'iso', kind: 'file', url: 'iso.mkv' },
    { id: 'cut', kind: 'file', url: 'cuts/cut.ts' },
    { id: 'frag', kind: 'file', url: 'frag.mp4' },
  ]) {
    t.equal((await s.call('POST', '/stream/outputs', body)).status, 201);
  }
  // Recording while the disk fills up: all outputs write into the last 256 KiB.
  const filler = join(rec, '.filler');
  const free = (): number => {
    const f = statfsSync(rec);
    return f.bavail * f.bsize;
  };
  writeFileSync(filler, Buffer.alloc(free() - 256 * 1024));
  t.equal((await s.call('POST', '/stream/start')).status, 200);
  for (let i = 0; i < 100 && free() > 0; i++) await sleep(100);
  // Full for a while: outputs die and restart into the full disk, each start leaving a file.
  await sleep(4000);
  t.equal(free(), 0, 'the disk really is full');

  // Space returns; the stream goes on, then stops (files get their trailers).
  rmSync(filler);
  await sleep(3000);
  const metrics = String((await s.call('GET', '/metrics')).body);
  const gauge = (dirLabel: string): number =>
    Number(new RegExp(`^stream_manager_disk_free_bytes\\{dir="${dirLabel}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const real = statfsSync(rec);
  t.ok(
    Math.abs(gauge('recordings') - real.bavail * real.bsize) < 2 * MiB,
    `recordings gauge ${gauge('recordings')} ~ statfs ${real.bavail * real.bsize}`,
  );
  t.ok(gauge('recordings') <= 8 * MiB && gauge('recordings') > 0, 'recordings gauge is the 8 MiB tmpfs');
  t.ok(gauge('data') > 8 * MiB, `data gauge ${gauge('data')} is the other filesystem`);
  const removed = Number(/^stream_manager_recordings_removed_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  t.ok(removed > 0, `unreadable leftovers were removed (${removed})`);
  const restarts = Number(/^stream_manager_encoder_restarts_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  t.comment(`encoder restarts ${restarts}, recordings removed ${removed}`);
  t.equal((await s.call('POST', '/stream/stop')).status, 200);

  // The janitor runs as each ffmpeg exits; give the last ones a moment.
  let bad: string[] = [];
  for (let i = 0; i < 20; i++) {
    bad = [...unreadable(rec), ...unreadable(join(rec, 'cuts')).map((f) => `cuts/${f}`)];
    if (bad.length === 0) break;
    await sleep(250);
  }
  t.same(bad, [], 'every recording left passes ffprobe (a video stream)');
  const left = readdirSync(rec).filter((f) => !f.startsWith('.'));
  t.ok(
    left.some((f) => f.startsWith('stream-')) && left.some((f) => f.startsWith('iso-')) && left.some((f) => f.startsWith('frag-')),
    `recordings are kept: ${left.join(', ')}`,
  );
});

t.test('the cleanup: empty and header-less recordings are removed, playable ones kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-janitor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x90:rate=15:duration=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    '-y',
    good,
  ]);
  const cut = join(dir, 'cut.mp4');
  copyFileSync(good, cut);
  truncateSync(cut, Math.floor(statSync(good).size * 0.7));
  const header = join(dir, 'header.mp4');
  copyFileSync(good, header);
  truncateSync(header, 28);
  // The header (ftyp + moov) and no fragment: an encoder killed within its first GOP. It opens.
  const bytes = readFileSync(good);
  const ftyp = bytes.readUInt32BE(0);
  writeFileSync(join(dir, 'moov-only.mp4'), bytes.subarray(0, ftyp + bytes.readUInt32BE(ftyp)));
  writeFileSync(join(dir, 'empty.mkv'), '');
  writeFileSync(join(dir, 'junk.ts'), Buffer.alloc(4096, 0x47));
  const big = join(dir, 'big.ts');
  writeFileSync(big, Buffer.alloc(2 * MiB));
  const janitor = new RecordingJanitor('ffprobe', createLogger('silent'));
  const results: Record<string, string> = {};
  for (const f of ['good.mp4', 'cut.mp4', 'moov-only.mp4', 'header.mp4', 'empty.mkv', 'junk.ts', 'big.ts', 'absent.mp4'])
    results[f] = await janitor.afterExit(join(dir, f));
  t.same(results, {
    'good.mp4': 'kept',
    'cut.mp4': 'kept',
    'moov-only.mp4': 'kept',
    'header.mp4': 'removed',
    'empty.mkv': 'removed',
    'junk.ts': 'removed',
    'big.ts': 'kept',
    'absent.mp4': 'gone',
  });
  t.same(readdirSync(dir).sort(), ['big.ts', 'cut.mp4', 'good.mp4', 'moov-only.mp4'], 'files left');
  t.same(
    unreadable(dir).filter((f) => !f.startsWith('big.ts')),
    [],
    'the kept small ones are readable (a cut fragmented MP4 included)',
  );
  // Without ffprobe only an empty file is known to be unreadable.
  writeFileSync(join(dir, 'empty2.mp4'), '');
  writeFileSync(join(dir, 'junk2.ts'), Buffer.alloc(100));
  const blind = new RecordingJanitor(join(dir, 'no-ffprobe'), createLogger('silent'));
  t.equal(await blind.afterExit(join(dir, 'empty2.mp4')), 'removed');
  t.equal(await blind.afterExit(join(dir, 'junk2.ts')), 'kept');
});
