/** What ffmpeg's `-progress` output says, per block (ffmpeg ends each block with `progress=`). */
export interface EncoderProgress {
  /** Frames encoded so far. */
  frame: number;
  /** Output bytes written so far (`total_size`); 0 when ffmpeg says N/A (its HLS muxer does). */
  totalSizeBytes: number;
  /** False when ffmpeg reported `total_size=N/A`: it does not know what its muxer wrote (HLS). */
  sizeReported: boolean;
  /** Media time written so far, microseconds (`out_time_us`); NaN when N/A. */
  outTimeUs: number;
  /** Output bitrate in bits per second (`bitrate=2500.1kbits/s`), NaN when ffmpeg says N/A. */
  bitrateBps: number;
  /** Encoding speed relative to real time (`speed=1.01x`), NaN when N/A. */
  speed: number;
}

/**
 * Splits ffmpeg `-progress` text (key=value lines) into blocks and parses each; feed it chunks
 * as they come. Source of the format: ffmpeg's fftools/ffmpeg.c print_report().
 */
export class ProgressParser {
  #partial = '';
  #block: Record<string, string> = {};

  /** @returns the blocks completed by this chunk */
  push(chunk: string): EncoderProgress[] {
    const out: EncoderProgress[] = [];
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.#block[key] = value;
      if (key === 'progress') {
        out.push(parseBlock(this.#block));
        this.#block = {};
      }
    }
    return out;
  }
}

function parseBlock(b: Record<string, string>): EncoderProgress {
  const kbits = /^([\d.]+)kbits\/s$/.exec(b['bitrate'] ?? '');
  const speed = /^([\d.]+)x$/.exec(b['speed'] ?? '');
  return {
    frame: Number(b['frame'] ?? 0),
    totalSizeBytes: Number(b['total_size'] ?? 0) || 0,
    sizeReported: b['total_size'] !== 'N/A',
    outTimeUs: b['out_time_us'] === undefined || b['out_time_us'] === 'N/A' ? NaN : Number(b['out_time_us']),
    bitrateBps: kbits ? Number(kbits[1]) * 1000 : NaN,
    speed: speed ? Number(speed[1]) : NaN,
  };
}
