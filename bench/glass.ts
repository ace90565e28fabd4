/**
 * Glass-to-glass helpers for the latency bench (`npm run bench:latency -- glass`) and the latency
 * tests: readers that decode a program as a player would and report, per decoded frame, the
 * colour at the centre of the picture and when (ms, `performance.timeOrigin + performance.now()`,
 * a clock shared by every process on the machine) it was decoded; and a loop that changes a
 * full-frame colour layer by `PATCH` and times each change until a reader shows it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** An RGB colour, 0..255 each. */
export type Rgb = readonly [number, number, number];

/** Milliseconds on a clock every process on this machine shares (wall time, sub-ms resolution). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Colours far apart in every channel, so that no codec mistakes one for another. */
export const GLASS_COLORS: readonly Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [255, 0, 255],
  [0, 255, 255],
];

/** `#rrggbb` of a colour. */
export function hex(c: Rgb): string {
  return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** True when every channel of `a` is within `tol` of `b`. */
export function near(a: ArrayLike<number>, b: Rgb, tol = 40): boolean {
  return Math.abs(a[0]! - b[0]) <= tol && Math.abs(a[1]! - b[1]) <= tol && Math.abs(a[2]! - b[2]) <= tol;
}

/** Something that reports decoded colours: `latest` is the newest, with its decode time. */
export interface ColorReader {
  /** The newest decoded frame's centre colour and decode time (wallMs), or null before the first. */
  latest: { rgb: Rgb; at: number } | null;
  /** Frames decoded so far. */
  frames: number;
  /** Resolves at the first frame decoded after `since` (wallMs) whose colour is near `rgb`; rejects after `timeoutMs`. */
  waitFor(rgb: Rgb, since: number, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** The common part of readers: colour waits settled by `seen`. */
export class ColorWaits {
  latest: { rgb: Rgb; at: number } | null = null;
  frames = 0;
  #waits = new Set<{ rgb: Rgb; since: number; resolve: (t: number) => void }>();

  /** A frame was decoded at `at` (wallMs) with centre colour `rgb`. */
  seen(rgb: Rgb, at: number): void {
    this.latest = { rgb, at };
    this.frames++;
    for (const w of this.#waits) {
      if (at >= w.since && near(rgb, w.rgb)) {
        this.#waits.delete(w);
        w.resolve(at);
      }
    }
  }

  waitFor(rgb: Rgb, since: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const w = {
        rgb,
        since,
        resolve: (t: number) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
      const timer = setTimeout(() => {
        this.#waits.delete(w);
        reject(new Error(`colour ${hex(rgb)} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waits.add(w);
    });
  }
}

/**
 * Bytes the player probes before it plays. The usual low-delay advice is 32, but then ffmpeg's
 * FLV demuxer has seen no packet yet and finds no stream (`does not contain any stream`); what is
 * read while probing is played too, so a larger probe delays only the start, not each frame.
 */
const PROBE_BYTES = 32 * 1024;

/** Side of the tiny picture the readers decode to (the centre pixel is read). */
const PROBE_PX = 8;

/**
 * Plays `input` (an RTMP URL, an HLS playlist URL) with ffmpeg as a low-delay player would
 * (`-fflags nobuffer -flags low_delay -analyzeduration 0`, {@link PROBE_BYTES}: no probing
 * buffer, no frame-threaded decoding delay), scales each decoded frame to 8x8 RGB and reports its
 * centre colour as it arrives (`-flush_packets 1`: one write per frame).
 * @param extra input options placed before `-i` (e.g. `-live_start_index -1` for HLS)
 */
export function ffmpegColorReader(ffmpegPath: string, input: string, extra: string[] = []): ColorReader {
  const waits = new ColorWaits();
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-probesize',
    String(PROBE_BYTES),
    '-analyzeduration',
    '0',
    ...extra,
    '-i',
    input,
    '-an',
    '-vf',
    `scale=${PROBE_PX}:${PROBE_PX}`,
    '-vsync',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
  const proc: ChildProcessWithoutNullStreams = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const frameBytes = PROBE_PX * PROBE_PX * 3;
  const centre = ((PROBE_PX >> 1) * PROBE_PX + (PROBE_PX >> 1)) * 3;
  let buf: Buffer = Buffer.alloc(0);
  proc.stdout.on('data', (chunk: Buffer) => {
    const at = wallMs();
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= frameBytes) {
      waits.seen([buf[centre]!, buf[centre + 1]!, buf[centre + 2]!], at);
      buf = buf.subarray(frameBytes);
    }
  });
  if (process.env['GLASS_DEBUG']) proc.stderr.pipe(process.stderr);
  else proc.stderr.resume();
  const exited = new Promise<void>((r) => proc.once('close', () => r()));
  return {
    get latest() {
      return waits.latest;
    },
    get frames() {
      return waits.frames;
    },
    waitFor: (rgb, since, timeoutMs) => waits.waitFor(rgb, since, timeoutMs),
    async stop() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** One run of {@link measureChanges}: ms from each `PATCH` sent to the new colour decoded, and the misses. */
export interface GlassRun {
  ms: number[];
  missed: number;
}

/**
 * Changes the colour `changes` times and times each: from just before the request is sent
 * (wallMs) to the first decoded frame of the new colour. Waits `gapMs()` between changes.
 * @param setColor sends the change (a PATCH of the full-frame layer); resolves when answered
 */
export async function measureChanges(
  reader: ColorReader,
  setColor: (rgb: Rgb) => Promise<void>,
  opts: { changes: number; timeoutMs: number; gapMs: () => number; colors?: readonly Rgb[] },
): Promise<GlassRun> {
  const colors = opts.colors ?? GLASS_COLORS;
  const ms: number[] = [];
  let missed = 0;
  for (let i = 0; i < opts.changes; i++) {
    const rgb = colors[i % colors.length]!;
    const t0 = wallMs();
    const seen = reader.waitFor(rgb, t0, opts.timeoutMs);
    await setColor(rgb);
    try {
      ms.push((await seen) - t0);
    } catch {
      missed++;
    }
    await new Promise((r) => setTimeout(r, opts.gapMs()));
  }
  return { ms, missed };
}
