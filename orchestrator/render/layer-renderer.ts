import type { Logger } from 'pino';
import type { Canvas } from '../../shared/stream-config.js';
import type { Layer } from '../../shared/scene.js';
import type { RenderDone } from '../../shared/messages.js';
import type { LayerEntry } from '../scene/scene-store.js';
import type { CompositeLayer } from './compositor.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RenderPool } from './render-pool.js';

/** Bytes of a layer buffer before its first render tells the real size. */
const INITIAL_LAYER_BYTES = 256 * 1024;
/** Headroom when a buffer grows, so a text that gets a little longer does not grow it again. */
const GROW_FACTOR = 1.25;

/** What the renderer keeps per layer between frames. */
interface LayerSlot {
  buffer: SharedArrayBuffer;
  words: Uint32Array;
  /** Scene revision last looked at, and the render key it had. */
  revision: number;
  renderKey: string;
  result: RenderDone | null;
  /** Revision whose render failed (logged once), so it is not retried every frame. */
  failedRevision: number;
}

/** Per-frame counts for metrics and tests. */
export interface RenderStats {
  rendered: number;
  reused: number;
  failed: number;
}

/** Layers whose pixels change with time, re-rendered every frame. */
function isAnimated(layer: Layer): boolean {
  return layer.content.type === 'character';
}

/**
 * What a layer's pixels depend on: its content and its size, scale and rotation. Position,
 * opacity, zIndex and visibility are applied by the compositor, so changing them re-renders nothing.
 */
function renderKey(layer: Layer, canvas: Canvas): string {
  const { width, height, scale, rotation } = layer.transform;
  const canvasSize = layer.content.type === 'color' ? `${canvas.width}x${canvas.height}` : '';
  return JSON.stringify([layer.content, width, height, scale, rotation, canvasSize]);
}

/**
 * Renders the layers of each frame on the worker pool: only those whose render key changed or
 * that are animated; the others reuse their last pixels. Each layer owns one SharedArrayBuffer,
 * written only while its task is in flight (see shared/frame-layout.ts); one `renderFrame` call
 * at a time.
 */
export class LayerRenderer {
  readonly #pool: RenderPool;
  readonly #log: Logger;
  readonly #slots = new Map<string, LayerSlot>();
  readonly stats: RenderStats = { rendered: 0, reused: 0, failed: 0 };

  readonly #metrics: Metrics | undefined;

  constructor(pool: RenderPool, log: Logger, metrics?: Metrics) {
    this.#pool = pool;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** Forgets a removed layer's buffer. */
  forget(id: string): void {
    this.#slots.delete(id);
  }

  /** Forgets every layer not in `keep` (after a whole-scene replace). */
  forgetExcept(keep: ReadonlySet<string>): void {
    for (const id of this.#slots.keys()) if (!keep.has(id)) this.#slots.delete(id);
  }

  /** Forgets every layer's pixels (after a canvas size change). */
  invalidate(): void {
    for (const slot of this.#slots.values()) {
      slot.result = null;
      slot.renderKey = '';
    }
  }

  /**
   * Brings every visible layer's pixels up to date for frame time `timeMs` and returns them in
   * compositing order. A layer that fails to render is left out (and logged once per revision).
   */
  async renderFrame(entries: readonly LayerEntry[], canvas: Canvas, timeMs: number): Promise<CompositeLayer[]> {
    const visible = entries.filter((e) => e.layer.visible && e.layer.opacity > 0);
    const jobs: Promise<void>[] = [];
    for (const entry of visible) {
      const slot = this.#slot(entry.layer.id);
      if (slot.revision !== entry.revision) {
        slot.revision = entry.revision;
        const key = renderKey(entry.layer, canvas);
        if (key !== slot.renderKey) {
          slot.renderKey = key;
          slot.result = null;
        }
      }
      if (slot.failedRevision === entry.revision) continue;
      if (slot.result && !isAnimated(entry.layer)) {
        this.stats.reused++;
        this.#metrics?.layersReused.inc();
        continue;
      }
      jobs.push(this.#render(entry, slot, canvas, timeMs));
    }
    if (jobs.length) await Promise.all(jobs);

    const out: CompositeLayer[] = [];
    for (const { layer } of visible) {
      const slot = this.#slots.get(layer.id);
      const r = slot?.result;
      if (!slot || !r) continue;
      out.push({
        pixels: slot.words,
        bounds: {
          x: Math.round(layer.transform.x) + r.offsetX,
          y: Math.round(layer.transform.y) + r.offsetY,
          width: r.width,
          height: r.height,
        },
        opacity: layer.opacity,
        opaque: r.opaque,
      });
    }
    return out;
  }

  #slot(id: string): LayerSlot {
    let slot = this.#slots.get(id);
    if (!slot) {
      const buffer = new SharedArrayBuffer(INITIAL_LAYER_BYTES);
      slot = { buffer, words: new Uint32Array(buffer), revision: -1, renderKey: '', result: null, failedRevision: -1 };
      this.#slots.set(id, slot);
    }
    return slot;
  }

  async #render(entry: LayerEntry, slot: LayerSlot, canvas: Canvas, timeMs: number): Promise<void> {
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const result = await this.#pool.render({
          layer: entry.layer,
          canvasWidth: canvas.width,
          canvasHeight: canvas.height,
          timeMs,
          buffer: slot.buffer,
        });
        this.#metrics?.layerRender.observe({ type: entry.layer.content.type }, result.runMs / 1000);
        if (result.status === 'ok') {
          slot.result = result;
          this.stats.rendered++;
          this.#metrics?.layersRendered.inc();
          return;
        }
        // Allocation on size change only, never per frame.
        const bytes = Math.ceil((result.bytes * GROW_FACTOR) / 4) * 4;
        slot.buffer = new SharedArrayBuffer(bytes);
        slot.words = new Uint32Array(slot.buffer);
      }
      throw new Error('layer buffer still too small after growing');
    } catch (err) {
      slot.result = null;
      slot.failedRevision = entry.revision;
      this.stats.failed++;
      this.#log.error({ err, layerId: entry.layer.id, type: entry.layer.content.type }, 'layer failed to render; left out');
    }
  }
}
