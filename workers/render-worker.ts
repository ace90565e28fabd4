/**
 * The render worker: a Piscina worker module around one {@link createDrawer} drawer. `render`
 * draws one layer into its SharedArrayBuffer (`renderBatch` several); `composite` composites one
 * band of a frame; `encodeImage` encodes a preview frame. Between tasks it takes composite bands
 * and layer renders from the band ring (band-ring-client.ts). Deleted assets named on the
 * eviction channel are forgotten (pixels and fonts).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { workerData } from 'piscina';
import type { CompositeResult, CompositeTask, EncodeImageResult, EncodeImageTask, EvictMessage, RenderBatchResult, RenderBatchTask, RenderResult, RenderTask, WorkerInit } from '../pool/messages.js';
import { compositeBand } from '../pixels/composite-band.js';
import { createDrawer } from './draw.js';
import { forgetAssetFont } from './fonts.js';
import { joinBandRing } from '../pool/band-ring-client.js';

const init = workerData as WorkerInit;
const drawer = createDrawer(init);

// The orchestrator names deleted assets here; every worker forgets their pixels and fonts.
const eviction = new BroadcastChannel(init.evictionChannel);
eviction.onmessage = (event: unknown) => {
  const id = (event as { data?: EvictMessage }).data?.evict;
  if (!id) return;
  drawer.images.evict(id);
  forgetAssetFont(id);
};
eviction.unref();

if (init.bandRing) joinBandRing(init.bandRing, drawer.render);

/**
 * Draws `task.layer` and writes its pixels to `task.buffer`.
 * @returns `ok` with the pixels' size and offset, or `grow` when the buffer is too small
 * @throws Error when the layer's asset is missing or does not decode
 */
export function render(task: RenderTask): Promise<RenderResult> {
  return drawer.render(task);
}

/**
 * Draws each of `task.tasks` in turn, as `render` does. A layer that throws gets a `status:
 * 'error'` result and the others are still drawn.
 * @returns the results in the tasks' order
 */
export async function renderBatch(task: RenderBatchTask): Promise<RenderBatchResult> {
  const started = performance.now();
  const results: RenderBatchResult['results'] = [];
  for (const t of task.tasks) {
    const t0 = performance.now();
    try {
      results.push(await drawer.render(t));
    } catch (err) {
      results.push({ status: 'error', message: err instanceof Error ? err.message : String(err), runMs: performance.now() - t0 });
    }
  }
  return { results, runMs: performance.now() - started };
}

/**
 * Composites one band of a frame (and its I420 rows) from the layers' buffers into the frame's.
 * @returns the time spent, ms, and the I420 part of it
 */
export function composite(task: CompositeTask): CompositeResult {
  return compositeBand(task);
}

/**
 * Downscales a composited frame with Skia and encodes it.
 * @returns the encoded bytes
 */
export function encodeImage(task: EncodeImageTask): Promise<EncodeImageResult> {
  return drawer.encodeImage(task);
}

/**
 * Does nothing: the first task a thread runs waits for it to load this module, @napi-rs/canvas
 * and the fonts. The pool runs one per thread at start so that render timeouts measure renders.
 */
export function warmUp(): { runMs: number } {
  return { runMs: 0 };
}
