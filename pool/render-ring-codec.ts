/**
 * Layer renders in the band ring's job slots (pool/band-ring-layout.ts): a slot whose kind word
 * says {@link KIND_RENDERS} holds render tasks instead of composite bands. The orchestrator
 * writes them (pool/band-ring.ts), a worker draws each one it claims and writes
 * the result into the task's own record (pool/band-ring-client.ts).
 *
 * One render record, in the slot's Float64 words, at the offset the slot's offset table gives:
 * - {@link RESULT_WORDS} words of result: status (0 ok, 1 grow, 2 error), width, height,
 *   offsetX, offsetY, opaque, content x, y, width, height, runMs, bytes wanted (grow), the
 *   unclipped buffer's x, y, width, height;
 * - the task: layer buffer id, canvas width, canvas height, frame time ms, layer token, layer
 *   JSON length in bytes;
 * - {@link MESSAGE_WORDS} words for the error message of a layer that threw (UTF-8);
 * - the layer as JSON (UTF-8), padded to whole words.
 *
 * A layer travels as JSON, encoded once per layer object on the orchestrator's side; its token
 * (one per encoding) lets a worker keep the parsed layer and skip parsing a layer it has seen.
 */
import { TextEncoder } from 'node:util';
import type { Layer } from '../shared/scene.js';
import type { RenderFailed, RenderResult, RenderTask } from './messages.js';
import { MAX_BANDS, recordAt, slotBase, slotSpan } from './band-ring-layout.js';

/** Kind word values: a slot of composite bands, or of layer renders. */
export const KIND_BANDS = 0;
export const KIND_RENDERS = 1;

/** Words of a render record's result. */
const RESULT_WORDS = 16;
/** Words of a render record's task fields, after its result. */
const TASK_WORDS = 6;
/** Words (8 bytes each) for a failed render's error message. */
const MESSAGE_WORDS = 32;
const HEAD_WORDS = RESULT_WORDS + TASK_WORDS + MESSAGE_WORDS;

/** A layer as the ring carries it: its JSON's UTF-8 bytes and the token naming that encoding. */
export interface EncodedLayer {
  token: number;
  bytes: Uint8Array;
}

/**
 * Writes `tasks` into slot `j` (`words` and `bytes`: views of the ring's `data` buffer, from
 * offset 0), naming each buffer by `idOf` and each layer by `layerOf`.
 * @returns false when they do not fit (more than {@link MAX_BANDS} tasks, or too many bytes of layers)
 */
export function encodeRenders(words: Float64Array, bytes: Uint8Array, j: number, tasks: readonly RenderTask[], idOf: (buffer: SharedArrayBuffer) => number, layerOf: (layer: Layer) => EncodedLayer): boolean {
  if (tasks.length > MAX_BANDS) return false;
  const { base, records, end } = slotSpan(j);
  let at = records;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const layer = layerOf(t.layer);
    const next = at + HEAD_WORDS + Math.ceil(layer.bytes.length / 8);
    if (next > end) return false;
    words[recordAt(j, i)] = at - base;
    words[at] = -1;
    const f = at + RESULT_WORDS;
    words[f] = idOf(t.buffer);
    words[f + 1] = t.canvasWidth;
    words[f + 2] = t.canvasHeight;
    words[f + 3] = t.timeMs;
    words[f + 4] = layer.token;
    words[f + 5] = layer.bytes.length;
    bytes.set(layer.bytes, (at + HEAD_WORDS) * 8);
    at = next;
  }
  return true;
}

/**
 * Reads render `i` of slot `j`, as {@link encodeRenders} wrote it (the canvas size as int32, as
 * decodeBand in band-ring-layout.ts reads sizes).
 * @param layerOf the layer for a token, parsing `json` (the layer's UTF-8 JSON, a view of shared
 *   memory valid only during the call) when the token is new to the caller
 * @throws Error from `bufferOf` when a buffer's id is unknown
 */
export function decodeRender(words: Float64Array, bytes: Uint8Array, j: number, i: number, bufferOf: (id: number) => SharedArrayBuffer, layerOf: (token: number, json: Uint8Array) => Layer): RenderTask {
  const at = slotBase(j) + words[recordAt(j, i)]!;
  const f = at + RESULT_WORDS;
  const start = (at + HEAD_WORDS) * 8;
  const layer = layerOf(words[f + 4]!, bytes.subarray(start, start + words[f + 5]!));
  return { layer, canvasWidth: words[f + 1]! | 0, canvasHeight: words[f + 2]! | 0, timeMs: words[f + 3]!, buffer: bufferOf(words[f]!) };
}

/** Writes render `i`'s result into its record in slot `j` (an error's message cut to fit, UTF-8). */
export function writeRenderResult(words: Float64Array, bytes: Uint8Array, j: number, i: number, r: RenderResult | RenderFailed, encoder: TextEncoder): void {
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

  /** `layer` as JSON bytes, and its token. */
  encode = (layer: Layer): EncodedLayer => {
    let e = this.#encoded.get(layer);
    if (e === undefined) {
      e = { token: this.#nextToken++, bytes: this.#encoder.encode(JSON.stringify(layer)) };
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

  /** The layer named `token`, parsed from `json` (its UTF-8 JSON) when not kept. */
  decode = (token: number, json: Uint8Array): Layer => {
    let layer = this.#layers.get(token);
    if (layer === undefined) {
      layer = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.length).toString('utf8')) as Layer;
      if (this.#layers.size >= DECODED_LAYERS) this.#layers.clear();
      this.#layers.set(token, layer);
    }
    return layer;
  };
}
