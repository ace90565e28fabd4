import type { JobRingInit } from './job-ring-layout.js';
export type { CompositeResult, CompositeTask } from '../pixels/composite-band.js';
import type { LayerBounds } from '../pixels/frame-layout.js';
import type { Layer } from '../shared/scene.js';

/**
 * What the orchestrator and the render workers exchange: layer renders and composite bands
 * (through the job ring, pool/job-ring.ts) and preview encodes (Piscina tasks). One file, so
 * both sides agree on every field. Buffers are SharedArrayBuffers: shared, never copied.
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
  /** The job ring to take composite bands and layer renders from (pool/job-ring-layout.ts). */
  jobRing: JobRingInit;
}

/** Render one layer into its buffer (a task of a job ring job, pool/render-ring-codec.ts). */
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

/** Several layers rendered as one job ring job (the workers share it out: pool/job-ring.ts). */
export interface RenderBatchTask {
  tasks: RenderTask[];
}

/** A layer whose render threw; the other layers of its batch still count. Nothing was written. */
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

/** Name of the BroadcastChannel on which workers hear which assets to forget (one per storage folder). */
export function evictionChannelName(storageDir: string): string {
  return `stream-manager-assets:${storageDir}`;
}

/** A message on the eviction channel: forget decoded pixels and fonts of asset `evict`. */
export interface EvictMessage {
  evict: string;
}
