/**
 * One band of a frame: the compositing step that the render workers run in parallel (each band
 * a task of a job ring job), and the main thread runs whole when there is no pool. See pixels/frame-layout.ts for
 * who writes which buffer when.
 */
import { blendLayer, clearFrame, type ClipRect, type CompositeLayer } from './compositor.js';
import { rgbaToI420, type BlockRect, type YuvMatrix } from './yuv.js';

/**
 * Composite rows `rowStart`..`rowEnd` of a frame (one band; the bands of a frame are disjoint and
 * run in parallel): only `rects` of it, where the pooled frame buffer's old content differs from
 * the new frame, or all of it. With `yuv`, convert the same pixels into the frame's I420 buffer.
 * A task of a job ring job (pool/job-ring-layout.ts); the main thread runs the same code when
 * there is no pool.
 */
export interface CompositeTask {
  /** The pooled frame's RGBA buffer (pixels/frame-layout.ts). */
  frame: SharedArrayBuffer;
  /** Frame size in pixels (both even). */
  width: number;
  height: number;
  /** First row (even) and the row past the last (even, or the frame height). */
  rowStart: number;
  rowEnd: number;
  /** What to redraw (whole 2x2 blocks, clipped to the band here); null: the whole band. */
  rects: BlockRect[] | null;
  /** False: the RGBA is drawn already (a crossfade's mix), only convert it to I420. */
  paint: boolean;
  /** The canvas colour as one premultiplied pixel, under the bottom layer. */
  background: number;
  /**
   * The layers that reach into the band, bottom to top. Through the job ring each goes as its
   * pixels' SharedArrayBuffer (the words from offset 0) and its bounds, opacity and opaque flag.
   */
  layers: readonly CompositeLayer[];
  /** The frame's I420 buffer (pixels/yuv.ts), whose old content matches the RGBA's; null: no I420 wanted. */
  yuv: SharedArrayBuffer | null;
  /** The I420's matrix (pixels/yuv.ts); the same for every band of a frame. */
  matrix: YuvMatrix;
}

/** The worker's time on a {@link CompositeTask}, ms: all of it, and the I420 part of it. */
export interface CompositeResult {
  runMs: number;
  convertMs: number;
}

/** Fewest rows in a band: below this a band's fixed cost (handing it to a worker and back) outweighs the work. */
export const MIN_BAND_ROWS = 64;

/**
 * Pixels to redraw per band: enough compositing and I420 conversion to outweigh what a band
 * costs through the job ring many times over (a job's bands cost about the same split 1 or 8
 * ways; measured in bench/compositor.ts and bench/render.ts), so a frame that changed little is
 * one or two tasks, and a redraw along a few rows (S3's hosts moving along the bottom of the
 * frame) still splits over every worker.
 */
export const BAND_PIXELS = 32 * 1024;

/**
 * How many bands to split a frame's redraw into: one per {@link BAND_PIXELS} pixels, at least 1,
 * at most `threads`.
 * @param pixels pixels to redraw (the damaged area, or the whole frame)
 */
export function bandCount(pixels: number, threads: number): number {
  return Math.max(1, Math.min(threads, Math.ceil(pixels / BAND_PIXELS)));
}

/**
 * Splits `height` rows into at most `bands` bands of even row counts (4:2:0 chroma rows pair up)
 * that cover every row, as `[rowStart, rowEnd)` pairs. Without `cost`, bands are of equal height,
 * each at least {@link MIN_BAND_ROWS} rows; with `cost` (per row, e.g. the pixels to redraw in
 * it), they are cut where the running cost passes each equal share, so that a frame whose
 * changes sit in a few rows (hosts along the bottom) still splits its work evenly.
 */
export function bandRows(height: number, bands: number, cost?: ArrayLike<number>): Array<[number, number]> {
  const n = Math.max(1, Math.min(bands, cost ? height >> 1 : Math.floor(height / MIN_BAND_ROWS)));
  const out: Array<[number, number]> = [];
  if (n === 1) return [[0, height]];
  let start = 0;
  if (cost) {
    let total = 0;
    for (let y = 0; y < height; y++) total += cost[y]!;
    let acc = 0;
    let cut = 1;
    for (let y = 0; y < height && cut < n; y += 2) {
      acc += cost[y]! + (cost[y + 1] ?? 0);
      if (acc >= (total * cut) / n && y + 2 < height) {
        out.push([start, y + 2]);
        start = y + 2;
        cut++;
      }
    }
    out.push([start, height]);
    return out;
  }
  for (let i = 1; i <= n; i++) {
    const end = i === n ? height : Math.round((height * i) / n / 2) * 2;
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}

/** True when `l` is opaque at opacity 1 and covers all of `r`. */
function covers(l: CompositeLayer | undefined, r: ClipRect): boolean {
  if (l === undefined || !l.opaque || l.opacity !== 1) return false;
  const b = l.bounds;
  return b.x <= r.x0 && b.y <= r.y0 && b.x + b.width >= r.x1 && b.y + b.height >= r.y1;
}

/**
 * Composites `task`'s band into its frame: in each rectangle to redraw (clipped to the band), the
 * background (unless the bottom layer hides it), then every layer bottom to top; with
 * `task.yuv`, converts the same rectangles to I420 in the frame's I420 buffer. Writes only
 * inside the band, so bands may run at the same time.
 * @returns the time spent, ms, and the I420 part of it
 */
export function compositeBand(task: CompositeTask): CompositeResult {
  const started = performance.now();
  const { width, height, rowStart, rowEnd } = task;
  const frame = new Uint32Array(task.frame);
  const clips: ClipRect[] = [];
  for (const r of task.rects ?? [{ x0: 0, y0: rowStart, x1: width, y1: rowEnd }]) {
    const y0 = Math.max(r.y0, rowStart);
    const y1 = Math.min(r.y1, rowEnd);
    if (y1 > y0 && r.x1 > r.x0) clips.push({ x0: r.x0, y0, x1: r.x1, y1 });
  }
  const layers = task.layers;
  for (const clip of task.paint ? clips : []) {
    if (!covers(task.layers[0], clip)) clearFrame(frame, task.background, clip, width);
    for (const layer of layers) blendLayer(frame, width, height, layer, clip);
  }
  const converting = performance.now();
  if (task.yuv) {
    const yuv = new Uint8Array(task.yuv);
    for (const clip of clips) rgbaToI420(frame, width, height, clip, yuv, task.matrix);
  }
  const end = performance.now();
  return { runMs: end - started, convertMs: task.yuv ? end - converting : 0 };
}
