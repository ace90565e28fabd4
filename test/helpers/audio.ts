import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Audio made and measured at test time with ffmpeg (issue 30): no binary fixtures.
 */

/** Writes `seconds` of a lavfi audio source (`sine`, `aevalsrc`, `anoisesrc`...) to `path`, stereo 48 kHz. */
export async function makeSound(path: string, lavfi: string, extra: string[] = []): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', lavfi, '-ac', '2', '-ar', '48000', ...extra, path], { timeout: 30_000 });
}

/** The first audio stream of `file`, decoded to 48 kHz mono float (the two channels' mean). */
export async function pcmOf(file: string, channel: 'mix' | 'left' | 'right' = 'mix'): Promise<Float32Array> {
  const pan = channel === 'mix' ? [] : ['-af', `pan=mono|c0=${channel === 'left' ? 'c0' : 'c1'}`];
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-map', '0:a:0', ...pan, '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  const bytes = new Uint8Array(stdout.length);
  bytes.set(stdout);
  return new Float32Array(bytes.buffer);
}

/** Every channel of the first audio stream of `file`, interleaved, as decoded (its own rate and channels). */
export async function rawSamples(file: string): Promise<Float32Array> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-f', 'f32le', '-'], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  const bytes = new Uint8Array(stdout.length);
  bytes.set(stdout);
  return new Float32Array(bytes.buffer);
}

/** RMS of consecutive windows of `frames` samples, dBFS (-200 for digital silence). */
export function rmsDb(pcm: Float32Array, frames: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + frames <= pcm.length; i += frames) {
    let sum = 0;
    for (let k = i; k < i + frames; k++) sum += pcm[k]! * pcm[k]!;
    const r = Math.sqrt(sum / frames);
    out.push(r > 0 ? 20 * Math.log10(r) : -200);
  }
  return out;
}

/** The median of `v`. */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
}

/** An ffmpeg feeding a live lavfi sound to `url` in `format`, paced (`-re`), until killed. */
export interface SoundFeed {
  proc: ChildProcess;
  kill(): Promise<void>;
}

export function startSoundFeed(url: string, lavfi: string, format = 'mpegts'): SoundFeed {
  const proc = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', lavfi, '-ac', '2', '-c:a', 'aac', '-f', format, url], {
    stdio: 'ignore',
  });
  return {
    proc,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Audio packets of `file` as ffprobe lists them: pts and duration, seconds. */
export async function audioPackets(file: string): Promise<Array<{ pts: number; duration: number }>> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file],
    { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pts, duration] = l.split(',').map(Number);
      return { pts: pts!, duration: duration! };
    });
}
