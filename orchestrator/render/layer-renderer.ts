import type { Logger } from 'pino';
import type { Canvas } from '../../shared/stream-config.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { RenderDone, RenderFailed, RenderResult } from '../../pool/messages.js';
import type { LayerEntry } from '../scene/scene-store.js';
import type { CompositeLayer } from '../../pixels/compositor.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RenderPool } from '../../pool/render-pool.js';
import type { RenderProgress } from '../../pool/job-ring.js';
import { RenderQueueFullError, WorkerTimeoutError } from '../../pool/pool-errors.js';
import type { LayerFailureReason } from '../../shared/ws-messages.js';
import { planBatches } from '../../pool/render-batches.js';
import {
  coversCanvas,
  grownBuffer,
  isAnimated,
  maxLayerBytes,
  newSlot,
  pixelsOf,
  renderKey,
  renderTarget,
  swapFront,
  type LayerSlot,
  type Pixels,
} from './layer-slot.js';
import { GHOST_SLOT } from '../motion/scene-switcher.js';
import type { VideoFrame, VideoFrames } from './video-frames.js';

/** Renders of unchanged static content tried after a failure before waiting for a change. */
const STATIC_RETRIES = 3;

/**
 * A live frame waits for its layers' renders at most this fraction of the frame interval; a
 * render still running then goes on in the background, and its layer shows its last good pixels
 * until it lands, so one slow layer never holds up the frame of the others.
 */
export const FRAME_WAIT_FRACTION = 0.5;
/**
 * A layer's render budget, as a fraction of the frame interval: a live render whose own run
 * time (the worker's, not its wait for one) is longer overran it, and counts as a failure.
 */
export const LAYER_BUDGET_FRACTION = 1;
/**
 * Overruns in a row before a layer counts as failing (reported, backed off): one slow render (a
 * first decode of a big picture, a busy machine) is counted but not reported.
 */
export const OVERRUNS_TO_FAIL = 3;
/** After k failures in a row a layer is drawn again live no sooner than this x 2^(k-1) ms later... */
const BACKOFF_BASE_MS = 250;
/** ...and at most this long. */
const BACKOFF_MAX_MS = 8000;

/**
 * A failing layer's run of failures ends (reported once, as a recovery) only once it has rendered
 * without failing for this long, ms: a layer that fails every other frame is one long run,
 * reported and logged once, retried less and less often, not reported twice a frame.
 */
export const RECOVERY_MS = 2000;

/** A live frame's wait for its renders, ms, at `targetFPS` (see {@link FRAME_WAIT_FRACTION}). */
export function frameWaitMs(targetFPS: number): number {
  return (1000 / targetFPS) * FRAME_WAIT_FRACTION;
}

/** A layer's render budget, ms, at `targetFPS` (see {@link LAYER_BUDGET_FRACTION}). */
export function layerBudgetMs(targetFPS: number): number {
  return (1000 / targetFPS) * LAYER_BUDGET_FRACTION;
}

/** The delay before the next live render of a layer that failed `failures` times in a row, ms. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(20, failures - 1)));
}

/**
 * Bytes all layers' grown buffers may take together (the largest each layer was given; a layer
 * starts with a small buffer and grows it to what its render needs), in canvases ({@link maxLayerBytes}
 * each), but never less than {@link SCENE_LAYER_MIN_BYTES}. Every layer is cut to the canvas, but
 * 1000 layers of one canvas each would still be 8 GB at 1080p (and up to three times that with
 * spares, see layer-slot.ts): past this a layer's render fails with reason `memory` and the others
 * keep drawing. 24 full-canvas layers is far more than a scene shows at once (overlays are
 * small); at 1080p the floor decides (256 MiB, 32 canvases), at 2160p it is 796 MB.
 */
export const SCENE_LAYER_CANVASES = 24;
/** The least {@link SCENE_LAYER_CANVASES} allows, bytes, so small canvases keep room for many layers. */
export const SCENE_LAYER_MIN_BYTES = 256 * 1024 * 1024;

/**
 * A render asked for a bigger buffer than a layer may have ({@link maxLayerBytes}), or one that
 * would take the scene's layers past {@link SCENE_LAYER_CANVASES}; nothing was allocated.
 */
export class LayerMemoryError extends Error {
  readonly code = 'SM_ERR_LAYER_MEMORY' satisfies ErrorCode;
  constructor(bytes: number, max: number, scene = false) {
    super(
      scene
        ? `The layer needs a ${bytes}-byte buffer; the scene's layers may have ${max} bytes together and the others hold the rest`
        : `The layer needs a ${bytes}-byte buffer; a layer may have ${max} bytes (one canvas)`,
    );
    this.name = 'LayerMemoryError';
  }
}

/** Why `err` failed a render (see {@link LayerFailureReason}). */
function reasonOf(err: unknown): LayerFailureReason {
  if (err instanceof LayerMemoryError || err instanceof RangeError) return 'memory';
  return err instanceof WorkerTimeoutError ? 'timeout' : 'error';
}

/**
 * Thrown by {@link LayerRenderer.renderFrame} when the pool's queue was full: the frame is
 * dropped (and counted) rather than queued behind the backlog. (The pool's own error, one class
 * for the code; exported here too for the frame producer.)
 */
export { RenderQueueFullError };

/** A layer started failing (sent once per run of failures) or rendered again after failing. */
export interface LayerFault {
  id: string;
  /** Why the first failure of the run happened; null when the layer recovered. */
  message: string | null;
  /** Failures in a row so far (on recovery: how many there were). */
  failures: number;
  /** Why the first failure of the run happened; null when the layer recovered. */
  reason: LayerFailureReason | null;
}

/** One layer of a render job, from dispatch until its result is taken. */
interface Item {
  entry: LayerEntry;
  slot: LayerSlot;
  /** The buffer it draws into (layer-slot.ts renderTarget). */
  target: Pixels;
  /** The slot's render key at dispatch: a change meanwhile leaves the layer stale. */
  key: string;
  /** The renderer's epoch at dispatch: a result from before {@link LayerRenderer.invalidate} is dropped. */
  epoch: number;
  /** Its result has been taken (from a partial flush, the job's end, or its failure). */
  taken: boolean;
}

/**
 * What draws a layer: the worker pool, or (single-thread bench baseline) a drawer on this thread.
 * With `renderBatch`, renders too small for a task each share one (at most `threads` tasks);
 * with `spreadsBatches` too, a frame's renders go as one batch that the service spreads itself
 * (the pool: through the job ring).
 */
export type LayerDrawService = Pick<RenderPool, 'render'> & Partial<Pick<RenderPool, 'renderBatch' | 'threads' | 'spreadsBatches'>>;

/** Renders dispatched and not yet settled, for tests: how many, and how many of them are heavy. */
export interface InflightStats {
  renders: number;
  heavy: number;
}

/** Per-frame counts for metrics and tests. */
export interface RenderStats {
  rendered: number;
  reused: number;
  failed: number;
}

/**
 * Renders the layers of each frame on the worker pool: only those whose render key changed, that
 * are animated, or that moved so that a part of them now on the canvas was not drawn (a worker
 * draws only a layer's part on the canvas); the others reuse their last pixels. Each layer owns a
 * front SharedArrayBuffer and (once drawn twice) spares; a render writes a spare that no frame
 * still being composited reads, and on success makes it the front (see pixels/frame-layout.ts
 * and layer-slot.ts), so earlier frames may still be composited from older fronts while the next
 * one renders. One `renderFrame` call at a time, with rising frame sequence numbers; the caller
 * reports each frame composited ({@link composited}), and a layer has as many buffers as frames
 * are in the making at once.
 *
 * A layer's failure is its own. A render that fails (the worker threw, died, timed out; the
 * layer asked for more than {@link maxLayerBytes}) keeps the layer's last good pixels: the
 * worker writes the buffer only after drawing succeeded, and a grown buffer replaces the old one
 * only on success. A live frame waits for its renders at most {@link frameWaitMs}; one still
 * running goes on in the background (the layer is not rendered again until it lands) and its
 * layer shows its last good pixels meanwhile; a render whose run time passes
 * {@link layerBudgetMs} is an `overrun` (counted; {@link OVERRUNS_TO_FAIL} in a row fail the
 * layer). Every failure is counted by reason; a run of
 * failures is logged and reported (`onFault`) once when it starts and once when it ends, after
 * {@link RECOVERY_MS} without one. After
 * a failure a layer is drawn live again only after {@link backoffMs}; at most half of the
 * threads draw layers known to be slow at once; static layers are tried
 * {@link STATIC_RETRIES} times, then again when their content changes.
 */
export class LayerRenderer {
  readonly #pool: LayerDrawService;
  readonly #log: Logger;
  readonly #slots = new Map<string, LayerSlot>();
  readonly stats: RenderStats = { rendered: 0, reused: 0, failed: 0 };
  /** Every frame up to this sequence number has been composited: its buffers may be written again. */
  #composited = 0;
  /** Bumped by {@link invalidate}: renders dispatched before it are dropped when they land. */
  #epoch = 0;
  /** Ring render jobs in flight whose finished renders can be taken before the whole job ends. */
  readonly #progress = new Set<RenderProgress>();

  readonly #metrics: Metrics | undefined;

  readonly #onFault: ((fault: LayerFault) => void) | undefined;

  /** Where video layers' pictures come from (none: video layers are left out). */
  videoFrames: VideoFrames | null = null;

  constructor(pool: LayerDrawService, log: Logger, metrics?: Metrics, onFault?: (fault: LayerFault) => void) {
    this.#pool = pool;
    this.#log = log;
    this.#metrics = metrics;
    this.#onFault = onFault;
  }

  /** Forgets a removed layer's buffer. */
  forget(id: string): void {
    this.#slots.delete(id);
  }

  /** Forgets every layer not in `keep` (after a whole-scene replace); keeps a crossfade's outgoing layers. */
  forgetExcept(keep: ReadonlySet<string>): void {
    for (const id of this.#slots.keys()) if (!keep.has(id) && !id.startsWith(GHOST_SLOT)) this.#slots.delete(id);
  }

  /** Forgets the outgoing layers of a finished crossfade. */
  forgetGhosts(): void {
    for (const id of this.#slots.keys()) if (id.startsWith(GHOST_SLOT)) this.#slots.delete(id);
    this.videoFrames?.forgetGhosts();
  }

  /** Forgets every layer's pixels (after a canvas size change); renders in flight are dropped when they land. */
  invalidate(): void {
    this.#epoch++;
    for (const slot of this.#slots.values()) {
      slot.result = null;
      slot.renderKey = '';
      slot.keyFailures = 0;
    }
  }

  /**
   * Frame `seq` (and every one before it) has been composited: the layer buffers it read may be
   * written again.
   */
  composited(seq: number): void {
    if (seq > this.#composited) this.#composited = seq;
    this.videoFrames?.composited(seq);
  }

  /** Renders in flight now, and how many of them are of layers known to be slow. */
  inflight(): InflightStats {
    let renders = 0;
    let heavy = 0;
    for (const slot of this.#slots.values()) {
      if (!slot.inflight) continue;
      renders++;
      if (slot.heavy) heavy++;
    }
    return { renders, heavy };
  }

  /**
   * Brings every visible layer's pixels up to date for frame time `timeMs` and returns them in
   * compositing order, as read by frame `seq` (a sequence number higher than any before; until
   * {@link composited} says it is done, no render writes the buffers returned). A layer whose
   * render fails shows its last good pixels (none: left out).
   * @param live a live frame: waits for renders at most {@link frameWaitMs}, counts overruns and
   *   keeps the backoff; otherwise (snapshots, the first frame, tests) waits for every render
   * @throws RenderQueueFullError when the pool refused a task because its queue was full
   */
  async renderFrame(entries: readonly LayerEntry[], canvas: Canvas, timeMs: number, seq: number, live = false): Promise<CompositeLayer[]> {
    const visible = entries.filter((e) => e.layer.visible && e.layer.opacity > 0);
    if (!live) {
      // Off the clock, a frame shows every layer as drawn at its time: wait for renders in flight.
      const busy: Array<Promise<unknown>> = [];
      for (const e of visible) {
        const inflight = this.#slots.get(e.slot ?? e.layer.id)?.inflight;
        if (inflight) busy.push(inflight);
      }
      if (busy.length) await Promise.all(busy);
      const videos = visible.filter((e) => e.layer.content.type === 'video');
      if (videos.length && this.videoFrames) await this.videoFrames.settle(videos, timeMs);
    }
    const now = performance.now();
    const heavyCap = Math.max(1, Math.floor((this.#pool.threads ?? 1) / 2));
    let heavy = live ? this.inflight().heavy : 0;
    const todo: Array<{ entry: LayerEntry; slot: LayerSlot }> = [];
    for (const entry of visible) {
      // Video layers are decoded by their sources (orchestrator/media/), never drawn by the pool.
      if (entry.layer.content.type === 'video' || entry.layer.content.type === 'audio') continue;
      const slot = this.#slot(entry.slot ?? entry.layer.id);
      if (slot.revision !== entry.revision) {
        slot.revision = entry.revision;
        const key = renderKey(entry.layer, canvas);
        if (key !== slot.renderKey) {
          slot.renderKey = key;
          slot.stale = true;
          slot.keyFailures = 0;
          // New content is drawn at once, not after the old content's backoff.
          slot.retryAt = 0;
        }
      }
      if (slot.failures > 0 && slot.okSince > 0 && now - slot.okSince >= RECOVERY_MS) this.#recovered(entry, slot);
      // Drawn only where it was on the canvas, and moved since: draw the part now on it.
      if (slot.result && !slot.stale && !coversCanvas(slot.result, entry.layer.transform.x, entry.layer.transform.y, canvas))
        slot.stale = true;
      if (slot.inflight) continue;
      const animated = isAnimated(entry.layer);
      if (slot.result && !slot.stale && !animated) {
        this.stats.reused++;
        this.#metrics?.layersReused.inc();
        continue;
      }
      if (!animated && slot.keyFailures >= STATIC_RETRIES) continue;
      if (live && now < slot.retryAt) continue;
      if (live && slot.heavy) {
        if (heavy >= heavyCap) continue;
        heavy++;
      }
      todo.push({ entry, slot });
    }
    const jobs = this.#dispatch(todo, canvas, timeMs, live);
    if (jobs.length) {
      const all = Promise.all(jobs);
      const settled = live ? await within(all, frameWaitMs(canvas.targetFPS)) : await all;
      if (settled !== null && settled.includes(false)) throw new RenderQueueFullError();
    }
    // Renders of jobs still running (this frame's past its wait, or earlier frames') that are
    // done: take them now; the rest land in a later frame.
    for (const p of this.#progress) p.flush?.();

    const out: CompositeLayer[] = [];
    for (const entry of visible) {
      const { layer, slot: key } = entry;
      if (layer.content.type === 'video') {
        const v = this.videoFrames?.frame(entry, timeMs, seq, live);
        if (v) out.push(videoLayer(layer, v, key !== undefined));
        continue;
      }
      // Sound only (orchestrator/audio/): nothing to draw.
      if (layer.content.type === 'audio') continue;
      const slot = this.#slots.get(key ?? layer.id);
      const r = slot?.result;
      if (!slot || !r || r.width === 0 || r.height === 0) continue;
      slot.front.readBy = seq;
      const x = Math.round(layer.transform.x) + r.offsetX;
      const y = Math.round(layer.transform.y) + r.offsetY;
      out.push({
        pixels: slot.front.words,
        bounds: { x, y, width: r.width, height: r.height },
        content: { x: x + r.content.x, y: y + r.content.y, width: r.content.width, height: r.content.height },
        opacity: layer.opacity,
        opaque: r.opaque,
        generation: slot.generation,
        ...(key === undefined ? {} : { ghost: true }),
      });
    }
    return out;
  }

  #slot(id: string): LayerSlot {
    let slot = this.#slots.get(id);
    if (!slot) {
      slot = newSlot();
      this.#slots.set(id, slot);
    }
    return slot;
  }

  /**
   * Starts the renders of `todo`: one task each, or grouped (render-batches.ts) when the pool
   * batches, or all in one batch when it spreads batches itself. Each job settles true once
   * every result is taken, false when the pool's queue was full.
   */
  #dispatch(
    todo: ReadonlyArray<{ entry: LayerEntry; slot: LayerSlot }>,
    canvas: Canvas,
    timeMs: number,
    live: boolean,
  ): Promise<boolean>[] {
    const pool = this.#pool;
    if (!pool.renderBatch || todo.length < 2) return todo.map(({ entry, slot }) => this.#render(entry, slot, canvas, timeMs, live));
    if (pool.spreadsBatches) return [this.#renderBatch(todo, canvas, timeMs, live)];
    return planBatches(
      todo.map(({ slot }) => slot.costMs),
      pool.threads ?? 1,
    ).map((group) => {
      const items = group.map((i) => todo[i]!);
      return items.length === 1
        ? this.#render(items[0]!.entry, items[0]!.slot, canvas, timeMs, live)
        : this.#renderBatch(items, canvas, timeMs, live);
    });
  }

  /** A new buffer of at least `bytes` for `slot`'s layer on `canvas`. @throws LayerMemoryError past {@link maxLayerBytes} or {@link SCENE_LAYER_CANVASES}; RangeError when memory is short */
  #grown(bytes: number, canvas: Canvas, slot: LayerSlot): SharedArrayBuffer {
    const max = maxLayerBytes(canvas);
    if (bytes > max) throw new LayerMemoryError(bytes, max);
    // Growth is rare (a size change), so summing here costs nothing per frame. Grown buffers count
    // from the moment they are made, so renders growing at once cannot all pass the check.
    const sceneMax = Math.max(max * SCENE_LAYER_CANVASES, SCENE_LAYER_MIN_BYTES);
    let others = 0;
    for (const s of this.#slots.values()) if (s !== slot) others += s.grownBytes;
    if (others + bytes > sceneMax) throw new LayerMemoryError(bytes, sceneMax, true);
    const buffer = grownBuffer(bytes, Math.min(max, sceneMax - others));
    slot.grownBytes = Math.max(slot.grownBytes, buffer.byteLength);
    return buffer;
  }

  /** Marks `slot` busy with `job` until it settles. */
  #track(slot: LayerSlot, job: Promise<boolean>): Promise<boolean> {
    slot.inflight = job;
    void job.finally(() => {
      if (slot.inflight === job) slot.inflight = null;
    });
    return job;
  }

  /**
   * Renders one layer into its slot (`grow`: first into a new buffer of at least that many
   * bytes); false when the pool's queue was full (nothing changed).
   */
  #render(entry: LayerEntry, slot: LayerSlot, canvas: Canvas, timeMs: number, live: boolean, grow?: number): Promise<boolean> {
    return this.#track(slot, this.#renderOne(entry, slot, canvas, timeMs, live, grow));
  }

  async #renderOne(entry: LayerEntry, slot: LayerSlot, canvas: Canvas, timeMs: number, live: boolean, grow?: number): Promise<boolean> {
    const key = slot.renderKey;
    const epoch = this.#epoch;
    await undefined; // #track marks the slot busy before anything here can settle it
    try {
      // Allocation on size change only, never per frame; the old pixels stay until this succeeds.
      const target = renderTarget(slot, this.#composited);
      let buffer = grow === undefined ? target.buffer : this.#grown(grow, canvas, slot);
      for (let attempt = 0; attempt < 2; attempt++) {
        const result = await this.#pool.render({
          layer: entry.layer,
          canvasWidth: canvas.width,
          canvasHeight: canvas.height,
          timeMs,
          buffer,
        });
        this.#metrics?.layerRender.observe({ type: entry.layer.content.type }, result.runMs / 1000);
        if (epoch !== this.#epoch) return true;
        if (result.status === 'ok') {
          this.#done(entry, slot, target, buffer, result, key, canvas, live);
          return true;
        }
        buffer = this.#grown(result.bytes, canvas, slot);
      }
      throw new Error('layer buffer still too small after growing');
    } catch (err) {
      if (err instanceof RenderQueueFullError) return false;
      if (epoch === this.#epoch) this.#failed(entry, slot, err as Error, reasonOf(err));
      return true;
    }
  }

  /**
   * Renders several layers in one job. A layer that threw fails alone; one whose buffer is too
   * small is rendered again on its own; a job that failed whole (its worker died or timed out)
   * fails each of its layers not done before. Renders done before the whole job are taken when a
   * live frame's wait ends (`RenderProgress`). False when the pool's queue was full.
   */
  #renderBatch(
    todo: ReadonlyArray<{ entry: LayerEntry; slot: LayerSlot }>,
    canvas: Canvas,
    timeMs: number,
    live: boolean,
  ): Promise<boolean> {
    const items: Item[] = [];
    for (const { entry, slot } of todo) {
      try {
        items.push({ entry, slot, target: renderTarget(slot, this.#composited), key: slot.renderKey, epoch: this.#epoch, taken: false });
      } catch (err) {
        this.#failed(entry, slot, err as Error, reasonOf(err));
      }
    }
    const again: Array<Promise<boolean>> = [];
    const take = (results: ReadonlyArray<RenderResult | RenderFailed | undefined>): void => {
      results.forEach((result, k) => {
        const item = items[k]!;
        if (result === undefined || item.taken) return;
        item.taken = true;
        item.slot.inflight = null;
        this.#metrics?.layerRender.observe({ type: item.entry.layer.content.type }, result.runMs / 1000);
        if (item.epoch !== this.#epoch) return;
        if (result.status === 'ok') this.#done(item.entry, item.slot, item.target, item.target.buffer, result, item.key, canvas, live);
        else if (result.status === 'grow') again.push(this.#render(item.entry, item.slot, canvas, timeMs, live, result.bytes));
        else this.#failed(item.entry, item.slot, new Error(result.message), 'error');
      });
    };
    const progress: RenderProgress = { flush: null, partial: take };
    const job = (async (): Promise<boolean> => {
      await undefined; // the slots are marked busy below before anything here can settle them
      let full = false;
      this.#progress.add(progress);
      try {
        const tasks = items.map(({ entry, target }) => ({
          layer: entry.layer,
          canvasWidth: canvas.width,
          canvasHeight: canvas.height,
          timeMs,
          buffer: target.buffer,
        }));
        take((await this.#pool.renderBatch!({ tasks }, progress)).results);
      } catch (err) {
        full = err instanceof RenderQueueFullError;
        for (const item of items) {
          if (item.taken) continue;
          item.taken = true;
          item.slot.inflight = null;
          if (!full && item.epoch === this.#epoch) this.#failed(item.entry, item.slot, err as Error, reasonOf(err));
        }
      } finally {
        this.#progress.delete(progress);
      }
      return !full && !(await Promise.all(again)).includes(false);
    })();
    for (const item of items) item.slot.inflight = job;
    void job.finally(() => {
      for (const item of items) if (item.slot.inflight === job) item.slot.inflight = null;
    });
    return job;
  }

  /**
   * A render into `buffer` (the slot's `target`, or a grown one) succeeded: it becomes the front.
   * Live, a render that ran past the layer's budget still shows, but counts as an overrun.
   * @param key the slot's render key when the render was dispatched
   */
  #done(
    entry: LayerEntry,
    slot: LayerSlot,
    target: Pixels,
    buffer: SharedArrayBuffer,
    result: RenderDone,
    key: string,
    canvas: Canvas,
    live: boolean,
  ): void {
    swapFront(slot, target, buffer === target.buffer ? target : pixelsOf(buffer));
    slot.result = result;
    slot.stale = slot.renderKey !== key;
    slot.generation++;
    slot.costMs = result.runMs;
    this.stats.rendered++;
    this.#metrics?.layersRendered.inc();
    if (!live) {
      if (slot.failures > 0 && slot.okSince === 0) slot.okSince = performance.now();
      return;
    }
    slot.heavy = result.runMs > frameWaitMs(canvas.targetFPS);
    const budget = layerBudgetMs(canvas.targetFPS);
    if (result.runMs > budget) {
      if (++slot.overruns >= OVERRUNS_TO_FAIL) {
        this.#failed(
          entry,
          slot,
          new Error(
            `${slot.overruns} renders in a row took longer than the layer's ${Math.round(budget)} ms budget (the last ${Math.round(result.runMs)} ms)`,
          ),
          'overrun',
        );
      } else this.#metrics?.layerFailures.inc({ type: entry.layer.content.type, reason: 'overrun' });
      return;
    }
    slot.overruns = 0;
    if (slot.failures > 0 && slot.okSince === 0) slot.okSince = performance.now();
  }

  /** A failing layer has rendered without failing for {@link RECOVERY_MS}: its run ends, reported once. */
  #recovered(entry: LayerEntry, slot: LayerSlot): void {
    this.#log.info({ layerId: entry.layer.id, failures: slot.failures }, 'layer renders again');
    this.#onFault?.({ id: entry.layer.id, message: null, failures: slot.failures, reason: null });
    slot.failures = 0;
    slot.okSince = 0;
  }

  /**
   * A render failed (threw, died, timed out, overran, asked for too much memory): the layer keeps
   * its last good pixels and is drawn live again only after a backoff; the first failure of a
   * run is logged and reported.
   */
  #failed(entry: LayerEntry, slot: LayerSlot, err: Error, reason: LayerFailureReason): void {
    slot.failures++;
    slot.okSince = 0;
    // An overrun drew the pixels; only failures that drew nothing count towards giving up.
    if (reason !== 'overrun') slot.keyFailures++;
    if (reason === 'timeout') slot.heavy = true;
    slot.retryAt = performance.now() + backoffMs(slot.failures);
    this.stats.failed++;
    this.#metrics?.layerFailures.inc({ type: entry.layer.content.type, reason });
    if (slot.failures === 1) {
      const what =
        reason === 'overrun'
          ? 'layer render overran its budget'
          : slot.result
            ? 'layer failed to render; showing its last good pixels'
            : 'layer failed to render; left out';
      this.#log.error({ err, layerId: entry.layer.id, type: entry.layer.content.type, reason }, what);
      this.#onFault?.({ id: entry.layer.id, message: err.message, failures: 1, reason });
    }
  }
}

/** A video layer's picture as a layer to composite: at its transform's whole-pixel place plus the picture's offset in its box. */
function videoLayer(layer: LayerEntry['layer'], v: VideoFrame, ghost: boolean): CompositeLayer {
  const x = Math.round(layer.transform.x) + v.offsetX;
  const y = Math.round(layer.transform.y) + v.offsetY;
  return {
    pixels: v.pixels,
    bounds: { x, y, width: v.width, height: v.height },
    opacity: layer.opacity,
    opaque: v.opaque,
    generation: v.generation,
    ...(ghost ? { ghost: true } : {}),
  };
}

/** `promise`'s value, or null when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null)))]).finally(() =>
    clearTimeout(timer),
  );
}
