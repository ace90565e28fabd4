/**
 * Layer renders in the job ring's slots (pool/job-ring-layout.ts): a slot whose kind word
 * says {@link KIND_RENDERS} holds render tasks instead of composite bands. The orchestrator
 * writes them (pool/job-ring.ts), a worker draws each one it claims and writes
 * the result into the task's own record (pool/job-ring-client.ts).
 *
 * One render record, in the slot's Float64 words, at the offset the slot's offset table gives:
 * - {@link RESULT_WORDS} words of result: status (0 ok, 1 grow, 2 error), width, height,
 *   offsetX, offsetY, opaque, content x, y, width, height, runMs, bytes wanted (grow), the
 *   unclipped buffer's x, y, width, height;
 * - the task: layer buffer id, canvas width, canvas height, frame time ms, layer token, layer
 *   JSON length in bytes, the id of the buffer that holds the JSON (-1: it follows in the record);
 * - {@link MESSAGE_WORDS} words for the error message of a layer that threw (UTF-8);
 * - the layer as JSON (UTF-8), padded to whole words, unless it is longer than
 *   {@link INLINE_LAYER_BYTES}: then it has a SharedArrayBuffer of its own, named by id like the
 *   layer buffers, so that every render fits a slot and none needs another way to a worker.
 *
 * A layer travels as JSON, encoded once per layer object on the orchestrator's side; its token
 * (one per encoding) lets a worker keep the parsed layer and skip parsing a layer it has seen.
 */
import { TextEncoder } from 'node:util';
import type { Layer } from '../shared/scene.js';
import type { RenderFailed, RenderResult, RenderTask } from './messages.js';
import { MAX_BANDS, recordAt, slotBase, slotSpan } from './job-ring-layout.js';

/** Kind word values: a slot of composite bands, or of layer renders. */
export const KIND_BANDS = 0;
export const KIND_RENDERS = 1;

/** Words of a render record's result. */
const RESULT_WORDS = 16;
/** Words of a render record's task fields, after its result. */
const TASK_WORDS = 7;
/** Words (8 bytes each) for a failed render's error message. */
const MESSAGE_WORDS = 32;
const HEAD_WORDS = RESULT_WORDS + TASK_WORDS + MESSAGE_WORDS;
/**
 * Longest layer JSON that travels in the slot itself, bytes; a longer one (a long text, a chat
 * layer's many lines) gets a SharedArrayBuffer of its own. Any one render record then fits an
 * empty slot (pool/job-ring-layout.ts SLOT_WORDS), and typical layers (well under 1 KiB) fill
 * a slot 64 at a time.
 */
export const INLINE_LAYER_BYTES = 16 * 1024;

/**
 * A layer as the ring carries it: its JSON's UTF-8 bytes, the token naming that encoding, and the
 * SharedArrayBuffer that holds the bytes when they are too long for the slot (else null).
 */
export interface EncodedLayer {
  token: number;
  bytes: Uint8Array;
  shared: SharedArrayBuffer | null;
}

/**
 * Writes `tasks` from index `from` on into slot `j` (`words` and `bytes`: views of the ring's
 * `data` buffer, from offset 0), as many as fit, naming each buffer by `idOf` and each layer by
 * `layerOf`.
 * @returns how many were written: at most {@link MAX_BANDS}, and no more than fit the slot
 */
export function encodeRenders(
  words: Float64Array,
  bytes: Uint8Array,
  j: number,
  tasks: readonly RenderTask[],
  from: number,
  idOf: (buffer: SharedArrayBuffer) => number,
  layerOf: (layer: Layer) => EncodedLayer,
): number {
  const n = Math.min(tasks.length - from, MAX_BANDS);
  const { base, records, end } = slotSpan(j);
  let at = records;
  for (let i = 0; i < n; i++) {
    const t = tasks[from + i]!;
    const layer = layerOf(t.layer);
    const next = at + HEAD_WORDS + (layer.shared ? 0 : Math.ceil(layer.bytes.length / 8));
    if (next > end) return i;
    words[recordAt(j, i)] = at - base;
    words[at] = -1;
    const f = at + RESULT_WORDS;
    words[f] = idOf(t.buffer);
    words[f + 1] = t.canvasWidth;
    words[f + 2] = t.canvasHeight;
    words[f + 3] = t.timeMs;
    words[f + 4] = layer.token;
    words[f + 5] = layer.bytes.length;
    words[f + 6] = layer.shared ? idOf(layer.shared) : -1;
    if (!layer.shared) bytes.set(layer.bytes, (at + HEAD_WORDS) * 8);
    at = next;
  }
  return n;
}

/**
 * Reads render `i` of slot `j`, as {@link encodeRenders} wrote it (the canvas size as int32, as
 * decodeBand in job-ring-layout.ts reads sizes).
 * @param layerOf the layer for a token, parsing `json()` (the layer's UTF-8 JSON, a view of shared
 *   memory valid only during the call) when the token is new to the caller
 * @throws UnknownBufferError from `bufferOf` when a buffer's id is unknown
 */
export function decodeRender(
  words: Float64Array,
  bytes: Uint8Array,
  j: number,
  i: number,
  bufferOf: (id: number) => SharedArrayBuffer,
  layerOf: (token: number, json: () => Uint8Array) => Layer,
): RenderTask {
  const at = slotBase(j) + words[recordAt(j, i)]!;
  const f = at + RESULT_WORDS;
  const length = words[f + 5]!;
  const shared = words[f + 6]!;
  const start = (at + HEAD_WORDS) * 8;
  const layer = layerOf(words[f + 4]!, () =>
    shared >= 0 ? new Uint8Array(bufferOf(shared), 0, length) : bytes.subarray(start, start + length),
  );
  return { layer, canvasWidth: words[f + 1]! | 0, canvasHeight: words[f + 2]! | 0, timeMs: words[f + 3]!, buffer: bufferOf(words[f]!) };
}

/** Writes render `i`'s result into its record in slot `j` (an error's message cut to fit, UTF-8). */
export function writeRenderResult(
  words: Float64Array,
  bytes: Uint8Array,
  j: number,
  i: number,
  r: RenderResult | RenderFailed,
  encoder: TextEncoder,
): void {
  const at = slotBase(j) + words[recordAt(j, i)]!;
  words[at + 10] = r.runMs;
  if (r.status === 'ok') {
    words[at + 1] = r.width;
    words[at + 2] = r.height;
    words[at + 3] = r.offsetX;
    words[at + 4] = r.offsetY;
    words[at + 5] = r.opaque ? 1 : 0;
    words[at + 6] = r.content.x;
    words[at + 7] = r.content.y;
    words[at + 8] = r.content.width;
    words[at + 9] = r.content.height;
    words[at + 12] = r.full.x;
    words[at + 13] = r.full.y;
    words[at + 14] = r.full.width;
    words[at + 15] = r.full.height;
  } else if (r.status === 'grow') {
    words[at + 11] = r.bytes;
  } else {
    const start = (at + RESULT_WORDS + TASK_WORDS) * 8;
    const out = bytes.subarray(start, start + MESSAGE_WORDS * 8);
    out.fill(0);
    encoder.encodeInto(r.message, out);
  }
  words[at] = r.status === 'ok' ? 0 : r.status === 'grow' ? 1 : 2;
}

/**
 * Render `i`'s result from its record in slot `j` (sizes and offsets as int32).
 * @returns an `error` result with a note when no worker wrote one (cannot happen for a job that finished)
 */
export function readRenderResult(words: Float64Array, bytes: Uint8Array, j: number, i: number): RenderResult | RenderFailed {
  const at = slotBase(j) + words[recordAt(j, i)]!;
  const runMs = words[at + 10]!;
  switch (words[at]) {
    case 0:
      return {
        status: 'ok',
        width: words[at + 1]! | 0,
        height: words[at + 2]! | 0,
        offsetX: words[at + 3]! | 0,
        offsetY: words[at + 4]! | 0,
        opaque: words[at + 5] === 1,
        content: { x: words[at + 6]! | 0, y: words[at + 7]! | 0, width: words[at + 8]! | 0, height: words[at + 9]! | 0 },
        full: { x: words[at + 12]! | 0, y: words[at + 13]! | 0, width: words[at + 14]! | 0, height: words[at + 15]! | 0 },
        runMs,
      };
    case 1:
      return { status: 'grow', bytes: words[at + 11]!, runMs };
    case 2: {
      const start = (at + RESULT_WORDS + TASK_WORDS) * 8;
      const raw = bytes.subarray(start, start + MESSAGE_WORDS * 8);
      const end = raw.indexOf(0);
      return { status: 'error', message: Buffer.from(raw.buffer, raw.byteOffset, end < 0 ? raw.length : end).toString('utf8'), runMs };
    }
    default:
      return { status: 'error', message: 'no result was written for this render', runMs: 0 };
  }
}

/**
 * The orchestrator's side of layer encoding: each layer object's JSON encoded once (layers are
 * replaced, not changed, when they change), under a token of its own.
 */
export class LayerEncoder {
  readonly #encoded = new WeakMap<Layer, EncodedLayer>();
  readonly #encoder = new TextEncoder();
  #nextToken = 1;

  /** `layer` as JSON bytes, its token, and (past {@link INLINE_LAYER_BYTES}) a shared copy of the bytes. */
  encode = (layer: Layer): EncodedLayer => {
    let e = this.#encoded.get(layer);
    if (e === undefined) {
      const bytes = this.#encoder.encode(JSON.stringify(layer));
      let shared: SharedArrayBuffer | null = null;
      if (bytes.length > INLINE_LAYER_BYTES) {
        shared = new SharedArrayBuffer(bytes.length);
        new Uint8Array(shared).set(bytes);
      }
      e = { token: this.#nextToken++, bytes, shared };
      this.#encoded.set(layer, e);
    }
    return e;
  };
}

/** Parsed layers a worker keeps, at most; past it, it starts over. */
const DECODED_LAYERS = 64;

/** A worker's side of layer encoding: parses each token's JSON once, keeping the last few. */
export class LayerDecoder {
  readonly #layers = new Map<number, Layer>();

  /** The layer named `token`, parsed from `json()` (its UTF-8 JSON) when not kept. */
  decode = (token: number, json: () => Uint8Array): Layer => {
    let layer = this.#layers.get(token);
    if (layer === undefined) {
      const raw = json();
      layer = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8')) as Layer;
      if (this.#layers.size >= DECODED_LAYERS) this.#layers.clear();
      this.#layers.set(token, layer);
    }
    return layer;
  };
}
