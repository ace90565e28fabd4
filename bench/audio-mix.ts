/**
 * Bench (issue 30): the default (auction) scene plus two audio sources (a looping tone and a
 * looping noise, made at bench time) at 1080p30, recorded for BENCH_SECONDS (default 60). Reports
 * the mixer thread's busy share of a core (its event loop's active time over wall time: decoding
 * copies, mixing, limiter, levels), the two audio decoders' CPU share (ffmpeg, /proc/<pid>/stat),
 * and the frames dropped. Run: `npm run build && node dist/bench/audio-mix.js`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../test/helpers/server.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '60');
/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS = 100;

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

const root = mkdtempSync(join(tmpdir(), 'sm-bench-audio-'));
mkdirSync(join(root, 'assets', 'characters'), { recursive: true });
try {
  execFileSync('cp', ['-r', 'assets/.', join(root, 'assets')]);
  for (const [name, src] of [
    ['tone.wav', 'aevalsrc=0.3*sin(2*PI*440*t)|0.3*sin(2*PI*660*t):s=48000:d=10'],
    ['noise.wav', 'anoisesrc=c=pink:a=0.2:r=48000:d=10'],
  ] as const)
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', src, '-ac', '2', join(root, 'assets', name)]);
  const s = await startServer({ ASSET_ROOT: root, WIDTH: '1920', HEIGHT: '1080', FPS: '30', DEFAULT_SCENE: 'auction', WORKERS: '' });
  try {
    for (const [id, src] of [
      ['tone', 'assets/tone.wav'],
      ['noise', 'assets/noise.wav'],
    ])
      await s.call('POST', '/stream/layers', { id, audio: { volume: 0.7 }, content: { type: 'audio', src, loop: true } });
    await s.call('PATCH', '/stream/config', { output: { url: 'bench.mp4' } });
    await s.call('POST', '/stream/start');
    await new Promise((r) => setTimeout(r, 2000));
    const audio = s.app.pipeline.audio;
    const pids = Object.values(audio.decoderPids());
    const m0 = audio.mixerTime();
    const c0 = pids.map(cpuSeconds);
    const s0 = (await s.call('GET', '/stream/status')).body;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const wallMs = performance.now() - t0;
    const m1 = audio.mixerTime();
    const c1 = pids.map(cpuSeconds);
    const s1 = (await s.call('GET', '/stream/status')).body;
    await s.call('POST', '/stream/stop');
    const mixer = ((m1.activeMs - m0.activeMs) / wallMs) * 100;
    const decoders = ((c1.reduce((a, b) => a + b, 0) - c0.reduce((a, b) => a + b, 0)) / (wallMs / 1000)) * 100;
    console.log(
      JSON.stringify(
        {
          seconds: Math.round(wallMs / 100) / 10,
          canvas: '1920x1080@30',
          mixerThreadCorePct: Math.round(mixer * 100) / 100,
          audioDecodersCorePct: Math.round(decoders * 100) / 100,
          droppedFrames: (s1.droppedFrames ?? 0) - (s0.droppedFrames ?? 0),
          levels: audio.levels,
        },
        null,
        2,
      ),
    );
  } finally {
    await s.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
