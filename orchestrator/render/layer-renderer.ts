import type { Logger } from 'pino';
import type { Canvas } from '../../shared/stream-config.js';
import type { RenderBatchResult, RenderDone } from '../../shared/messages.js';
import type { LayerEntry } from '../scene/scene-store.js';
import type { CompositeLayer } from '../../shared/compositor.js';
import type { Metrics } from '../metrics/metrics.js';
import { isQueueFull, type RenderPool } from './render-pool.js';
import { planBatches } from './render-batches.js';
import { GHOST_SLOT, grownBuffer, isAnimated, newSlot, pixelsOf, renderKey, renderTarget, swapFront, type LayerSlot, type Pixels } from './layer-slot.js';

/** Renders of unchanged static content tried after a failure before waiting for a change. */
const STATIC_RETRIES = 3;

/**
 * Thrown by {@link LayerRenderer.renderFrame} when the pool's task queue was full: the frame is
 * dropped (and counted) rather than queued behind the backlog.
 */
export class RenderQueueFullError extends Error {
  readonly code = 'SM_ERR_RENDER_QUEUE_FULL';
  constructor() {
    super('The render queue is full; frame dropped');
    this.name = 'RenderQueueFullError';
  }
}

/** A layer started failing (sent once per run of failures) or rendered again after failing. */
export interface LayerFault {
  id: string;
  /** Why the first failure of the run happened; null when the layer recovered. */
  message: string | null;
  /** Failures in a row so far (on recovery: how many there were). */
  failures: number;
}

/**
 * What draws a layer: the worker pool, or (single-thread bench baseline) a drawer on this thread.
 * With `renderBatch`, renders too small for a task each share one (at most `threads` tasks);
 * with `spreadsBatches` too, a frame's renders go as one batch that the service spreads itself
 * (the pool: through the band ring).
 */
export type LayerDrawService = Pick<RenderPool, 'render'> & Partial<Pick<RenderPool, 'renderBatch' | 'threads' | 'spreadsBatches'>>;

/** Per-frame counts for metrics and tests. */
export interface RenderStats {
  rendered: number;
  reused: number;
  failed: number;
}

/**
 * Renders the layers of each frame on the worker pool: only those whose render key changed or
 * that are animated; the others reuse their last pixels. Each layer owns a front SharedArrayBuffer
 * and (once drawn twice) spares; a render writes a spare that no frame still being composited
 * reads, and on success makes it the front (see shared/frame-layout.ts and layer-slot.ts), so
 * earlier frames may still be composited from older fronts while the next one renders. One
 * `renderFrame` call at a time, with rising frame sequence numbers; the caller reports each
 * frame composited ({@link composited}), and a layer has as many buffers as frames are in the
 * making at once.
 *
 * A render that fails (the worker threw, died, timed out) keeps the layer's last good pixels for
 * that frame: the worker writes the buffer only after drawing succeeded, and a grown buffer
 * replaces the old one only on success. Failures are counted per frame and reported once per run
 * of failures (`onFault`), not per frame. Animated layers are retried every frame; static ones
 * {@link STATIC_RETRIES} times, then again when their content changes.
 */
export class LayerRenderer {
  readonly #pool: LayerDrawService;
  readonly #log: Logger;
  readonly #slots = new Map<string, LayerSlot>();
  readonly stats: RenderStats = { rendered: 0, reused: 0, failed: 0 };
  /** Every frame up to this sequence number has been composited: its buffers may be written again. */
  #composited = 0;

  readonly #metrics: Metrics | undefined;

  readonly #onFault: ((fault: LayerFault) => void) | undefined;

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
  }

  /** Forgets every layer's pixels (after a canvas size change). */
  invalidate(): void {
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
  }

  /**
   * Brings every visible layer's pixels up to date for frame time `timeMs` and returns them in
   * compositing order, as read by frame `seq` (a sequence number higher than any before; until
   * {@link composited} says it is done, no render writes the buffers returned). A layer whose
   * render fails shows its last good pixels (none: left out).
   * @throws RenderQueueFullError when the pool refused a task because its queue was full
   */
  async renderFrame(entries: readonly LayerEntry[], canvas: Canvas, timeMs: number, seq: number): Promise<CompositeLayer[]> {
    const visible = entries.filter((e) => e.layer.visible && e.layer.opacity > 0);
    const todo: Array<{ entry: LayerEntry; slot: LayerSlot }> = [];
    for (const entry of visible) {
      const slot = this.#slot(entry.slot ?? entry.layer.id);
      if (slot.revision !== entry.revision) {
        slot.revision = entry.revision;
        const key = renderKey(entry.layer, canvas);
        if (key !== slot.renderKey) {
          slot.renderKey = key;
          slot.stale = true;
          slot.keyFailures = 0;
        }
      }
      const animated = isAnimated(entry.layer);
      if (slot.result && !slot.stale && !animated) {
        this.stats.reused++;
        this.#metrics?.layersReused.inc();
        continue;
      }
      if (!animated && slot.keyFailures >= STATIC_RETRIES) continue;
      todo.push({ entry, slot });
    }
    const jobs = this.#dispatch(todo, canvas, timeMs);
    if (jobs.length && (await Promise.all(jobs)).includes(false)) throw new RenderQueueFullError();

    const out: CompositeLayer[] = [];
    for (const { layer, slot: key } of visible) {
      const slot = this.#slots.get(key ?? layer.id);
      const r = slot?.result;
      if (!slot || !r) continue;
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
   * batches, or all in one batch when it spreads batches itself.
   */
  #dispatch(todo: ReadonlyArray<{ entry: LayerEntry; slot: LayerSlot }>, canvas: Canvas, timeMs: number): Promise<boolean>[] {
    const pool = this.#pool;
    if (!pool.renderBatch || todo.length < 2) return todo.map(({ entry, slot }) => this.#render(entry, slot, canvas, timeMs));
    if (pool.spreadsBatches) return [this.#renderBatch(todo, canvas, timeMs)];
    return planBatches(
      todo.map(({ slot }) => slot.costMs),
      pool.threads ?? 1,
    ).map((group) => {
      const items = group.map((i) => todo[i]!);
      return items.length === 1 ? this.#render(items[0]!.entry, items[0]!.slot, canvas, timeMs) : this.#renderBatch(items, canvas, timeMs);
    });
  }

  /**
   * Renders one layer into its slot (`grow`: first into a new buffer of at least that many
   * bytes); false when the pool's queue was full (nothing changed).
   */
  async #render(entry: LayerEntry, slot: LayerSlot, canvas: Canvas, timeMs: number, grow?: number): Promise<boolean> {
    const target = renderTarget(slot, this.#composited);
    // Allocation on size change only, never per frame; the old pixels stay until this succeeds.
    let buffer = grow === undefined ? target.buffer : grownBuffer(grow);
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const result = await this.#pool.render({ layer: entry.layer, canvasWidth: canvas.width, canvasHeight: canvas.height, timeMs, buffer });
        this.#metrics?.layerRender.observe({ type: entry.layer.content.type }, result.runMs / 1000);
        if (result.status === 'ok') {
          this.#done(entry, slot, target, buffer, result);
          return true;
        }
        buffer = grownBuffer(result.bytes);
      }
      throw new Error('layer buffer still too small after growing');
    } catch (err) {
      if (isQueueFull(err)) return false;
      this.#failed(entry, slot, err as Error);
      return true;
    }
  }

  /**
   * Renders several layers in one task. A layer that threw fails alone; one whose buffer is too
   * small is rendered again on its own; a task that failed whole (its worker died or timed out)
   * fails each of its layers. False when the pool's queue was full.
   */
  async #renderBatch(items: ReadonlyArray<{ entry: LayerEntry; slot: LayerSlot }>, canvas: Canvas, timeMs: number): Promise<boolean> {
    const targets = items.map(({ slot }) => renderTarget(slot, this.#composited));
    let batch: RenderBatchResult;
    try {
      const tasks = items.map(({ entry }, k) => ({ layer: entry.layer, canvasWidth: canvas.width, canvasHeight: canvas.height, timeMs, buffer: targets[k]!.buffer }));
      batch = await this.#pool.renderBatch!({ tasks }, items.map(({ slot }) => slot.costMs));
    } catch (err) {
      if (isQueueFull(err)) return false;
      for (const { entry, slot } of items) this.#failed(entry, slot, err as Error);
      return true;
    }
    const again: Promise<boolean>[] = [];
    batch.results.forEach((result, k) => {
      const { entry, slot } = items[k]!;
      this.#metrics?.layerRender.observe({ type: entry.layer.content.type }, result.runMs / 1000);
      if (result.status === 'ok') this.#done(entry, slot, targets[k]!, targets[k]!.buffer, result);
      else if (result.status === 'grow') again.push(this.#render(entry, slot, canvas, timeMs, result.bytes));
      else this.#failed(entry, slot, new Error(result.message));
    });
    return !(await Promise.all(again)).includes(false);
  }

  /** A render into `buffer` (the slot's `target`, or a grown one) succeeded: it becomes the front. */
  #done(entry: LayerEntry, slot: LayerSlot, target: Pixels, buffer: SharedArrayBuffer, result: RenderDone): void {
    swapFront(slot, target, buffer === target.buffer ? target : pixelsOf(buffer));
    slot.result = result;
    slot.stale = false;
    slot.generation++;
    slot.costMs = result.runMs;
    this.stats.rendered++;
    this.#metrics?.layersRendered.inc();
    if (slot.failures > 0) {
      this.#log.info({ layerId: entry.layer.id, failures: slot.failures }, 'layer renders again');
      this.#onFault?.({ id: entry.layer.id, message: null, failures: slot.failures });
      slot.failures = 0;
    }
  }

  /** A render failed (threw, died, timed out): the layer keeps its last good pixels; the first failure of a run is logged and reported. */
  #failed(entry: LayerEntry, slot: LayerSlot, err: Error): void {
    slot.failures++;
    slot.keyFailures++;
    this.stats.failed++;
    this.#metrics?.layerFailures.inc({ type: entry.layer.content.type });
    if (slot.failures === 1) {
      this.#log.error({ err, layerId: entry.layer.id, type: entry.layer.content.type }, slot.result ? 'layer failed to render; showing its last good pixels' : 'layer failed to render; left out');
      this.#onFault?.({ id: entry.layer.id, message: err.message, failures: 1 });
    }
  }
}
