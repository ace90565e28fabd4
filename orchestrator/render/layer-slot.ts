import type { Canvas } from '../../shared/stream-config.js';
import type { Layer } from '../../shared/scene.js';
import type { RenderDone } from '../../pool/messages.js';
import { UNKNOWN_COST_MS } from '../../pool/render-batches.js';

/** Bytes of a layer buffer before its first render tells the real size. */
const INITIAL_LAYER_BYTES = 256 * 1024;
/** Headroom when a buffer grows, so a text that gets a little longer does not grow it again. */
const GROW_FACTOR = 1.25;

/** A layer buffer, its word view, and the last frame that composites from it. */
export interface Pixels {
  buffer: SharedArrayBuffer;
  words: Uint32Array;
  /**
   * Sequence number of the last frame whose layer list carries these pixels (0: none): a render
   * may write them again only once that frame has been composited.
   */
  readBy: number;
}

/**
 * What the renderer keeps per layer between frames. Pixels are multi-buffered: a render writes a
 * spare buffer that no frame still being composited reads (the front buffer while there are no
 * pixels yet) and, once it succeeds, makes it the front; frames still being composited keep
 * reading older fronts. A layer drawn only once never gets a spare; with at most `PIPELINE_DEPTH`
 * frames in the making (frame-composer.ts), a layer has at most that many buffers.
 */
export interface LayerSlot {
  front: Pixels;
  /** Earlier fronts, written again once no frame in the making reads them. */
  spares: Pixels[];
  /** Scene revision last looked at, and the render key it had. */
  revision: number;
  renderKey: string;
  /** The last good pixels' geometry; kept when a later render fails. */
  result: RenderDone | null;
  /** The render key changed since `result` was drawn. */
  stale: boolean;
  /** Renders failed in a row (reported once when the run starts and when it ends). */
  failures: number;
  /** Renders of the current render key that failed (static layers stop retrying after a few). */
  keyFailures: number;
  /** Successful renders so far: tells the compositor's damage tracking the pixels changed. */
  generation: number;
  /** The last render's run time, ms: how renders are grouped into tasks (render-batches.ts). */
  costMs: number;
  /**
   * The job of a render of this layer not yet settled (null: none). A layer is not rendered again
   * while one is: a render that runs past the frame's wait goes on in the background and its
   * layer shows its last good pixels until it lands (layer-renderer.ts).
   */
  inflight: Promise<unknown> | null;
  /** No live render before this time (performance.now() ms): the backoff after a failure or overrun. */
  retryAt: number;
  /** The last render ran past the frame's wait: at most a few such layers render at once. */
  heavy: boolean;
  /** Bytes of the largest buffer grown for this layer (0: none yet), counted against the scene's layer memory. */
  grownBytes: number;
  /**
   * Since when (performance.now() ms) a failing layer has rendered without failing (0: it has not,
   * or it is not failing): its run of failures ends once that has lasted a while.
   */
  okSince: number;
  /** Live renders in a row that overran the layer's budget. */
  overruns: number;
}

/** A buffer and its Uint32 view (one word per RGBA pixel). */
export function pixelsOf(buffer: SharedArrayBuffer): Pixels {
  return { buffer, words: new Uint32Array(buffer), readBy: 0 };
}

/** A slot not rendered yet: a front buffer of {@link INITIAL_LAYER_BYTES}, no spares. */
export function newSlot(): LayerSlot {
  return {
    front: pixelsOf(new SharedArrayBuffer(INITIAL_LAYER_BYTES)),
    spares: [],
    revision: -1,
    renderKey: '',
    result: null,
    stale: true,
    failures: 0,
    keyFailures: 0,
    generation: 0,
    costMs: UNKNOWN_COST_MS,
    inflight: null,
    retryAt: 0,
    heavy: false,
    grownBytes: 0,
    okSince: 0,
    overruns: 0,
  };
}

/**
 * The buffer a render of `slot` writes: the front one before the first render (nothing reads
 * it), else a spare that no frame after `composited` reads (made on first need, the front's
 * size). Never the front once it holds pixels: a failed render keeps them.
 * @param composited the sequence number up to which every frame has been composited
 */
export function renderTarget(slot: LayerSlot, composited: number): Pixels {
  if (slot.generation === 0) return slot.front;
  for (const p of slot.spares) if (p.readBy <= composited) return p;
  const made = pixelsOf(new SharedArrayBuffer(slot.front.buffer.byteLength));
  slot.spares.push(made);
  return made;
}

/**
 * A render of `slot` into `target` (from {@link renderTarget}) succeeded, drawn into `drawn`
 * (`target`, or a grown buffer when `target` was too small): `drawn` becomes the front, the old
 * front a spare (if it held pixels), and a too-small spare is dropped.
 */
export function swapFront(slot: LayerSlot, target: Pixels, drawn: Pixels): void {
  if (drawn === slot.front) return;
  if (slot.generation > 0) {
    // The old front takes the target's place (the target is the front now, or too small).
    const i = slot.spares.indexOf(target);
    if (i >= 0) slot.spares[i] = slot.front;
    else slot.spares.push(slot.front);
  }
  slot.front = drawn;
}

/**
 * A new buffer for a render that needs `bytes`, with {@link GROW_FACTOR} headroom up to
 * `maxBytes`, a whole number of pixels.
 * @throws RangeError when the memory cannot be had
 */
export function grownBuffer(bytes: number, maxBytes = Infinity): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.ceil(Math.max(bytes, Math.min(maxBytes, bytes * GROW_FACTOR)) / 4) * 4);
}

/**
 * Bytes a layer buffer may take: one canvas. The worker draws only the part of a layer on the
 * canvas (workers/layout.ts `visiblePart`), so a render that asks for more is refused, never allocated.
 */
export function maxLayerBytes(canvas: Pick<Canvas, 'width' | 'height'>): number {
  return canvas.width * canvas.height * 4;
}

/**
 * True when the pixels of `result`, drawn with the layer at another position, still hold every
 * pixel of the layer on the canvas with its transform at `x`, `y` (frame pixels): the worker drew
 * only the part on the canvas where the layer was then, so a layer cut at the canvas's edge that
 * moved may need drawing again. A layer drawn whole always covers.
 */
export function coversCanvas(result: RenderDone, x: number, y: number, canvas: Pick<Canvas, 'width' | 'height'>): boolean {
  const f = result.full;
  if (result.width === f.width && result.height === f.height) return true;
  const left = Math.round(x);
  const top = Math.round(y);
  // The part of the whole layer on the canvas now, and the part drawn, relative to the transform.
  const x0 = Math.max(f.x, -left);
  const y0 = Math.max(f.y, -top);
  const x1 = Math.min(f.x + f.width, canvas.width - left);
  const y1 = Math.min(f.y + f.height, canvas.height - top);
  if (x1 <= x0 || y1 <= y0) return true;
  return x0 >= result.offsetX && y0 >= result.offsetY && x1 <= result.offsetX + result.width && y1 <= result.offsetY + result.height;
}

/** Layers whose pixels change with time, re-rendered every frame. */
export function isAnimated(layer: Layer): boolean {
  return layer.content.type === 'character';
}

/**
 * What a layer's pixels depend on: its content and its size, scale and rotation. Position,
 * opacity, zIndex and visibility are applied by the compositor, so changing them re-renders nothing.
 */
export function renderKey(layer: Layer, canvas: Canvas): string {
  const { width, height, scale, rotation } = layer.transform;
  const canvasSize = layer.content.type === 'color' ? `${canvas.width}x${canvas.height}` : '';
  return JSON.stringify([layer.content, width, height, scale, rotation, canvasSize]);
}
