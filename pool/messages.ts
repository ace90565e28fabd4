import type { BandRingInit } from './band-ring-layout.js';
import type { LayerBounds } from '../pixels/frame-layout.js';
import type { Layer } from '../shared/scene.js';
import type { BlockRect, YuvMatrix } from '../pixels/yuv.js';

/**
 * Messages between the orchestrator and the render workers (Piscina tasks). One file, so both
 * sides agree on every field. Buffers are SharedArrayBuffers: posting one shares it, no copy.
 */

/** Data every worker gets at start (Piscina `workerData`). */
export interface WorkerInit {
  /** Absolute path of the folder that holds `assets/`; layer paths resolve against it. */
  assetRoot: string;
  /** Absolute path of the uploaded assets' folder; asset ids resolve to files in it. */
  assetStorage: string;
  /** Bytes of decoded images (width x height x 4) one worker may keep. */
  imageCacheBytes: number;
  /** BroadcastChannel on which the orchestrator names assets to forget (`{ evict: id }`). */
  evictionChannel: string;
  /** The band ring to take composite bands and layer renders from (pool/band-ring-layout.ts); none: they come only as tasks. */
  bandRing?: BandRingInit;
}

/** Render one layer into its buffer. Runs the worker's `render` export. */
export interface RenderTask {
  layer: Layer;
  /** Canvas size in pixels (a colour layer without a size fills it). */
  canvasWidth: number;
  canvasHeight: number;
  /** Frame time in ms since the stream started; animations are a pure function of it. */
  timeMs: number;
  /** The layer's buffer; the worker writes `width x height x 4` bytes from offset 0. */
  buffer: SharedArrayBuffer;
}

/**
 * The layer was drawn: its pixels are in the buffer. Only the part of the layer that lies on the
 * canvas is drawn (at the layer's position in the task): `width` x `height` at `offsetX`,
 * `offsetY` is that part, `full` the whole layer (both relative to the transform's rounded `x`,
 * `y`); `width` or `height` 0 when none of it is on the canvas.
 */
export interface RenderDone {
  status: 'ok';
  /** Size of the pixels in the buffer, in pixels. */
  width: number;
  height: number;
  /** Where the buffer's top-left goes relative to the layer's transform `x`,`y` (rotation grows the box). */
  offsetX: number;
  offsetY: number;
  /** The whole layer's buffer box, rotated, relative to the transform's `x`,`y`, pixels, of which the drawn pixels are the part on the canvas. */
  full: LayerBounds;
  /** True when every pixel has alpha 255, so the compositor may copy rows instead of blending. */
  opaque: boolean;
  /** Where the visible pixels are, in buffer pixels: every pixel outside is transparent (pixels/content-box.ts). */
  content: LayerBounds;
  /** Time the worker spent on the task, ms. */
  runMs: number;
}

/** The buffer is too small: allocate `bytes` and post the task again. Nothing was written. */
export interface RenderNeedsBuffer {
  status: 'grow';
  bytes: number;
  runMs: number;
}

export type RenderResult = RenderDone | RenderNeedsBuffer;

/**
 * Several layers rendered one after another by one task (the worker's `renderBatch` export):
 * small animated layers share a round trip (pool/render-batches.ts).
 */
export interface RenderBatchTask {
  tasks: RenderTask[];
}

/** A layer of a batch whose render threw; the batch's other layers still count. Nothing was written. */
export interface RenderFailed {
  status: 'error';
  message: string;
  runMs: number;
}

/** Each task's result, in the batch's order, and the whole batch's run time, ms. */
export interface RenderBatchResult {
  results: Array<RenderResult | RenderFailed>;
  runMs: number;
}

/** Downscale a composited frame and encode it. Runs the worker's `encodeImage` export. */
export interface EncodeImageTask {
  frame: SharedArrayBuffer;
  /** Frame size in pixels. */
  width: number;
  height: number;
  /** Output width in pixels (height keeps the aspect ratio); >= width means no scaling. */
  targetWidth: number;
  format: 'jpeg' | 'png';
  /** JPEG quality 1..100. */
  quality: number;
}

/** The encoded image and the worker's time on it. */
export interface EncodeImageResult {
  data: Uint8Array;
  /** Time the worker spent on the task, ms. */
  runMs: number;
}

/** One layer of a {@link CompositeTask}: its buffer and where its pixels go, in frame pixels. */
export interface BandLayer {
  /** The layer's buffer: premultiplied RGBA words, `width` per row, from offset 0. */
  buffer: SharedArrayBuffer;
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0..1, multiplied into every pixel. */
  opacity: number;
  /** Every pixel has alpha 255. */
  opaque: boolean;
}

/**
 * Composite rows `rowStart`..`rowEnd` of a frame (one band; the bands of a frame are disjoint and
 * run in parallel): only `rects` of it, where the pooled frame buffer's old content differs from
 * the new frame, or all of it. With `yuv`, convert the same pixels into the frame's I420 buffer.
 * Runs the worker's `composite` export; the main thread runs the same code when there is no pool.
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
  /** The layers that reach into the band, bottom to top. */
  layers: BandLayer[];
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

/** Name of the BroadcastChannel on which workers hear which assets to forget (one per storage folder). */
export function evictionChannelName(storageDir: string): string {
  return `stream-manager-assets:${storageDir}`;
}

/** A message on the eviction channel: forget decoded pixels and fonts of asset `evict`. */
export interface EvictMessage {
  evict: string;
}
