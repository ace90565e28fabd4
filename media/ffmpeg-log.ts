/**
 * Reads what a decoder's ffmpeg says about its streams at `-loglevel info` before the first
 * picture: the input's video stream (natural size, frame rate) and the output picture's size. The
 * lines look like (ffmpeg 4 to 7):
 *
 * ```
 * Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/x/clip.mp4':
 *   Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 6 kb/s, 30 fps, 30 tbr, 15360 tbn (default)
 * Output #0, rawvideo, to 'pipe:1':
 *   Stream #0:0(und): Video: rawvideo (RGBA / 0x41424752), rgba(pc, gbr/unknown/unknown, progressive), 200x113, q=2-31, 21696 kb/s, 30 fps, 30 tbn (default)
 * ```
 */

/** The streams as far as the log has told them. */
export interface StreamInfo {
  /** The input's first video stream: natural size in pixels and frame rate (0 when not said). */
  input: { width: number; height: number; fps: number } | null;
  /** The output picture, pixels: the size of every raw frame on stdout. */
  output: { width: number; height: number } | null;
}

const SIZE = /, (\d{1,5})x(\d{1,5})[ ,]/;
const FPS = /, (\d+(?:\.\d+)?) (?:fps|tbr)/;

/**
 * Collects log text line by line until both streams are known (then it stops looking; the
 * caller keeps only a tail of the rest).
 */
export class StreamLog {
  readonly info: StreamInfo = { input: null, output: null };
  #partial = '';
  #section: 'input' | 'output' | null = null;

  /** True once the output picture's size is known. */
  get done(): boolean {
    return this.info.output !== null;
  }

  /** Feeds more log text; returns true once the output picture's size is known. */
  push(text: string): boolean {
    if (this.done) return true;
    const lines = (this.#partial + text).split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      this.#line(line);
      if (this.done) break;
    }
    // A line far longer than any stream line is not one; do not keep growing it.
    if (this.#partial.length > 8192) this.#partial = '';
    return this.done;
  }

  #line(line: string): void {
    if (/^Input #0\b/.test(line)) this.#section = 'input';
    else if (/^Output #0\b/.test(line)) this.#section = 'output';
    else if (/^\S/.test(line) && !line.startsWith('Stream mapping')) this.#section = this.#section === 'output' ? 'output' : null;
    if (!/^\s+Stream #\d+:\d+.*: Video: /.test(line)) return;
    const size = SIZE.exec(line);
    if (!size) return;
    const width = Number(size[1]);
    const height = Number(size[2]);
    if (this.#section === 'input' && !this.info.input) {
      const fps = FPS.exec(line);
      this.info.input = { width, height, fps: fps ? Number(fps[1]) : 0 };
    } else if (this.#section === 'output' && !this.info.output) this.info.output = { width, height };
  }
}
