/**
 * The shared-memory layout of the job ring: how the orchestrator hands a frame's composite
 * bands and layer renders to the render workers without a message per task (pool/job-ring.ts
 * writes, pool/job-ring-client.ts reads). Both sides use the constants and codecs here.
 *
 * Two SharedArrayBuffers:
 * - `control`, Int32 words: [SEQ] bumped on every job published (workers wait on it), [STOP],
 *   then per job slot {@link SLOT_INTS} words: [CLAIM] (generation << 16 | band count << 8 |
 *   next band), [DONE] bands finished, [KIND] what the slot holds (composite bands, or layer
 *   renders: pool/render-ring-codec.ts), 1 spare, the claiming thread's id per band, the band's
 *   status per band (0 pending, 1 done, 2 failed). ("Band" below is any task of a job.)
 * - `data`, Float64 words: per job slot {@link SLOT_WORDS} words (each band's `runMs` and
 *   `convertMs`, each band's record offset, then the records), then {@link MESSAGE_BYTES} bytes
 *   per slot for a failed band's error message (UTF-8).
 *
 * A band names its buffers by id; the SharedArrayBuffers themselves reach the workers once, on
 * a BroadcastChannel ({@link RingMessage}).
 */
import type { CompositeLayer } from '../pixels/compositor.js';
import type { CompositeTask } from '../pixels/composite-band.js';

/** Jobs (sets of tasks) that may be in flight at once. */
export const JOB_SLOTS = 8;
/** Bands in one job, at most (the claim word holds the band count in 8 bits). */
export const MAX_BANDS = 64;
/** Float64 words of one job slot: 128 KiB, room for ~2000 layer placements or damage rectangles. */
export const SLOT_WORDS = 16 * 1024;
/** Bytes of one slot's error message. */
export const MESSAGE_BYTES = 256;

export const SEQ = 0;
export const STOP = 1;
const HEADER_INTS = 4;
export const SLOT_INTS = 4 + 2 * MAX_BANDS;
/** Index of slot `j`'s claim word in `control`. */
export const claimAt = (j: number): number => HEADER_INTS + j * SLOT_INTS;
/** Index of slot `j`'s finished-band count in `control`. */
export const doneAt = (j: number): number => claimAt(j) + 1;
/** Index of slot `j`'s kind word (0: composite bands, 1: layer renders; pool/render-ring-codec.ts). */
export const kindAt = (j: number): number => claimAt(j) + 2;
/** Index of the id of the thread that claimed band `i` of slot `j`. */
export const ownerAt = (j: number, i: number): number => claimAt(j) + 4 + i;
/** Index of the status (0 pending, 1 done, 2 failed) of band `i` of slot `j`. */
export const statusAt = (j: number, i: number): number => claimAt(j) + 4 + MAX_BANDS + i;

export const CONTROL_BYTES = (HEADER_INTS + JOB_SLOTS * SLOT_INTS) * 4;
export const DATA_BYTES = JOB_SLOTS * (SLOT_WORDS * 8 + MESSAGE_BYTES);

/** The job slots' words of the `data` buffer (without the error messages after them). */
export const slotWords = (data: SharedArrayBuffer): Float64Array => new Float64Array(data, 0, messageAt(0) / 8);
/** Word offset of slot `j` in the `data` words. */
export const slotBase = (j: number): number => j * SLOT_WORDS;
/** Byte offset of slot `j`'s error message in `data`. */
export const messageAt = (j: number): number => JOB_SLOTS * SLOT_WORDS * 8 + j * MESSAGE_BYTES;
/** Words before the band records: 2 results and 1 record offset per band. */
export const RECORDS = 3 * MAX_BANDS;
/** Slot `j`'s words: its first, the first of its records, and the one past its end. */
export const slotSpan = (j: number): { base: number; records: number; end: number } => ({
  base: slotBase(j),
  records: slotBase(j) + RECORDS,
  end: slotBase(j) + SLOT_WORDS,
});
/** Index in the `data` words of band `i` of slot `j`'s record offset (from the slot's first word). */
export const recordAt = (j: number, i: number): number => slotBase(j) + 2 * MAX_BANDS + i;
/** Words of a record before its rectangles, and per rectangle and per layer. */
const HEAD_WORDS = 10;
const RECT_WORDS = 4;
const LAYER_WORDS = 7;

/** What a worker needs to join the ring (part of its `workerData`). */
export interface JobRingInit {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** BroadcastChannel on which buffers are announced ({@link RingMessage}). */
  channel: string;
  /**
   * How long a worker that found no task left polls the sequence word before it waits, µs (0:
   * it waits at once). A job published meanwhile is claimed without a wake-up.
   */
  spinUs: number;
}

/**
 * A message on the ring's channel. Workers: `hello` when they start. Orchestrator: `buffers`
 * (every buffer live, the answer to a hello; a worker joins the ring on its first), `add` (new
 * buffers, before the first job that names them), `forget` (ids whose buffers were collected).
 */
export interface RingMessage {
  hello?: number;
  buffers?: Array<[number, SharedArrayBuffer]>;
  add?: Array<[number, SharedArrayBuffer]>;
  forget?: number[];
}

/**
 * Writes `tasks` from index `from` on into slot `j` of `words` (the `data` SharedArrayBuffer as
 * Float64), as many as fit, naming each SharedArrayBuffer by `idOf` (a layer's by its pixels'
 * buffer, whose words start at offset 0).
 * @returns how many were written: at most {@link MAX_BANDS}, and no more than fit
 *   {@link SLOT_WORDS} words (0: not even the first)
 */
export function encodeBands(
  words: Float64Array,
  j: number,
  tasks: readonly CompositeTask[],
  from: number,
  idOf: (buffer: SharedArrayBuffer) => number,
): number {
  const n = Math.min(tasks.length - from, MAX_BANDS);
  const { base, records, end } = slotSpan(j);
  let at = records;
  for (let i = 0; i < n; i++) {
    const t = tasks[from + i]!;
    const rects = t.rects;
    if (at + HEAD_WORDS + (rects?.length ?? 0) * RECT_WORDS + t.layers.length * LAYER_WORDS > end) return i;
    words[recordAt(j, i)] = at - base;
    words[at++] = idOf(t.frame);
    words[at++] = t.yuv ? idOf(t.yuv) : -1;
    words[at++] = t.width;
    words[at++] = t.height;
    words[at++] = t.rowStart;
    words[at++] = t.rowEnd;
    words[at++] = t.paint ? 1 : 0;
    words[at++] = t.background;
    words[at++] = t.matrix === 'bt709' ? 1 : 0;
    words[at++] = rects ? rects.length : -1;
    for (const r of rects ?? []) {
      words[at++] = r.x0;
      words[at++] = r.y0;
      words[at++] = r.x1;
      words[at++] = r.y1;
    }
    words[at++] = t.layers.length;
    for (const l of t.layers) {
      const b = l.bounds;
      words[at++] = idOf(l.pixels.buffer as SharedArrayBuffer);
      words[at++] = b.x;
      words[at++] = b.y;
      words[at++] = b.width;
      words[at++] = b.height;
      words[at++] = l.opacity;
      words[at++] = l.opaque ? 1 : 0;
    }
  }
  return n;
}

/**
 * Reads band `i` of slot `j`, as {@link encodeBands} wrote it. Sizes, rows, rectangles and
 * placements come back as int32 (`| 0`): read from a Float64Array they would be doubles, and the
 * compositor's pixel loops, which index with them, ran measurably slower so (bench/render.ts).
 * @throws UnknownBufferError from `bufferOf` when a buffer's id is unknown
 * @throws RangeError when a layer's buffer is not whole pixels
 */
export function decodeBand(words: Float64Array, j: number, i: number, bufferOf: (id: number) => SharedArrayBuffer): CompositeTask {
  const base = slotBase(j);
  let at = base + words[recordAt(j, i)]!;
  const frame = bufferOf(words[at++]!);
  const yuvId = words[at++]!;
  const head = {
    width: words[at++]! | 0,
    height: words[at++]! | 0,
    rowStart: words[at++]! | 0,
    rowEnd: words[at++]! | 0,
    paint: words[at++] === 1,
    background: words[at++]!,
    matrix: words[at++] === 1 ? ('bt709' as const) : ('bt601' as const),
  };
  const nRects = words[at++]!;
  let rects: CompositeTask['rects'] = null;
  if (nRects >= 0) {
    rects = [];
    for (let r = 0; r < nRects; r++, at += RECT_WORDS)
      rects.push({ x0: words[at]! | 0, y0: words[at + 1]! | 0, x1: words[at + 2]! | 0, y1: words[at + 3]! | 0 });
  }
  const nLayers = words[at++]!;
  const layers: CompositeLayer[] = [];
  for (let l = 0; l < nLayers; l++, at += LAYER_WORDS) {
    layers.push({
      pixels: new Uint32Array(bufferOf(words[at]!)),
      bounds: { x: words[at + 1]! | 0, y: words[at + 2]! | 0, width: words[at + 3]! | 0, height: words[at + 4]! | 0 },
      opacity: words[at + 5]!,
      opaque: words[at + 6] === 1,
    });
  }
  return { frame, ...head, rects, layers, yuv: yuvId >= 0 ? bufferOf(yuvId) : null };
}

/** Writes band `i`'s times into slot `j`'s results. */
export function writeResult(words: Float64Array, j: number, i: number, runMs: number, convertMs: number): void {
  words[slotBase(j) + 2 * i] = runMs;
  words[slotBase(j) + 2 * i + 1] = convertMs;
}

/** Band `i`'s times from slot `j`'s results. */
export function readResult(words: Float64Array, j: number, i: number): { runMs: number; convertMs: number } {
  return { runMs: words[slotBase(j) + 2 * i]!, convertMs: words[slotBase(j) + 2 * i + 1]! };
}
