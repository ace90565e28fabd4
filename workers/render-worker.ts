/**
 * The render worker: a Piscina worker module around one {@link createDrawer} drawer. It takes
 * layer renders and composite bands from the job ring (pool/job-ring-client.ts); its Piscina
 * exports are `encodeImage` (a preview frame) and `warmUp`. Deleted assets named on the
 * eviction channel are forgotten (pixels and fonts).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { workerData } from 'piscina';
import type { EncodeImageResult, EncodeImageTask, EvictMessage, WorkerInit } from '../pool/messages.js';
import { createDrawer } from './draw.js';
import { forgetAssetFont } from './fonts.js';
import { joinJobRing } from '../pool/job-ring-client.js';

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

joinJobRing(init.jobRing, drawer.render);

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
