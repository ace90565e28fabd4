import type { BlockRect } from '../../pixels/yuv.js';
import type { CompositeLayer } from '../../pixels/compositor.js';
import type { LayerBounds } from '../../pixels/frame-layout.js';

/** What the compositor drew for one layer, kept to compare with the next frame. */
interface Drawn {
  pixels: Uint32Array | null;
  generation: number | undefined;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Where its visible pixels were (CompositeLayer.content), frame pixels. */
  content: LayerBounds;
  opacity: number;
  opaque: boolean;
}

/** More damaged rectangles than this are merged into their bounding box. */
const MAX_RECTS = 16;

/**
 * Merges rectangles (in place) whose bounding box is no bigger than the two apart (a layer that
 * moved a few pixels: its old and new bounds become one), then past MAX_RECTS everything into one
 * bounding box. Returns the damaged area in pixels (overlaps counted twice).
 */
export function mergeRects(r: BlockRect[]): number {
  const area = (b: BlockRect): number => (b.x1 - b.x0) * (b.y1 - b.y0);
  for (let i = 0; i < r.length; i++) {
    for (let j = i + 1; j < r.length; j++) {
      const a = r[i]!;
      const b = r[j]!;
      const box = { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
      if (area(box) > area(a) + area(b)) continue;
      r[i] = box;
      r.splice(j, 1);
      j = i;
    }
  }
  if (r.length > MAX_RECTS) {
    const box = r.reduce((a, b) => ({
      x0: Math.min(a.x0, b.x0),
      y0: Math.min(a.y0, b.y0),
      x1: Math.max(a.x1, b.x1),
      y1: Math.max(a.y1, b.y1),
    }));
    r.length = 0;
    r.push(box);
  }
  let total = 0;
  for (const b of r) total += area(b);
  return total;
}

/** Frames of damage kept by a {@link DamageHistory}: a buffer last drawn longer ago is redrawn whole. */
const HISTORY_FRAMES = 8;

/**
 * The damage of the last few frames, so that a pooled frame buffer, which still holds the frame
 * it was last drawn with, is brought up to date by redrawing only what changed since then (the
 * union of the damage of every frame after it). Frames are numbered by {@link push}.
 */
export class DamageHistory {
  /** Damage of frame `#seq - i` at index i (null: everything). */
  readonly #ring: Array<readonly BlockRect[] | null> = [];
  #seq = -1;

  /** Records the next frame's damage against the frame before; returns its number. */
  push(damage: readonly BlockRect[] | null): number {
    this.#ring.unshift(damage === null ? null : damage.map((r) => ({ ...r })));
    if (this.#ring.length > HISTORY_FRAMES) this.#ring.length = HISTORY_FRAMES;
    return ++this.#seq;
  }

  /**
   * What changed from frame `seq` to the newest frame, or null for everything (`seq` unknown,
   * too old, or a whole-frame change on the way; or the union covers over half of the frame).
   */
  since(seq: number, width: number, height: number): BlockRect[] | null {
    const back = this.#seq - seq;
    if (seq < 0 || back < 0 || back > this.#ring.length) return null;
    const out: BlockRect[] = [];
    for (let i = 0; i < back; i++) {
      const d = this.#ring[i];
      if (d === null || d === undefined) return null;
      out.push(...d);
    }
    return mergeRects(out) > (width * height) / 2 ? null : out;
  }
}

/**
 * Which parts of the frame changed since the last frame, from the composited layer lists alone
 * (a frame is a pure function of the background and the layers' pixels, bounds, opacity and
 * order). A layer that moved, whose pixels were drawn again (a new `generation`) or whose opacity
 * changed damages where its visible pixels were and where they are now (`content`, else its
 * bounds): outside both it is transparent, in the old frame and in the new. A different number of
 * layers, a new background, a crossfade or the first frame damage everything. Rectangles are
 * widened to whole 2x2 blocks (for 4:2:0 chroma) and clipped to the frame.
 */
export class DamageTracker {
  #drawn: Drawn[] = [];
  #count = -1;
  #background = 0;
  #width = 0;
  #height = 0;
  readonly #rects: BlockRect[] = [];

  /**
   * The damaged rectangles of this frame against the last one, or `null` for the whole frame.
   * @param width,height frame size in pixels (even)
   * @param whole force a whole-frame result (a crossfade frame)
   */
  update(
    layers: readonly CompositeLayer[],
    width: number,
    height: number,
    background: number,
    whole: boolean,
  ): readonly BlockRect[] | null {
    const sameCanvas = width === this.#width && height === this.#height && background === this.#background;
    let full = whole || !sameCanvas || layers.length !== this.#count;
    this.#rects.length = 0;
    if (!full) {
      for (let i = 0; i < layers.length; i++) {
        const l = layers[i]!;
        const d = this.#drawn[i]!;
        const b = l.bounds;
        const moved = b.x !== d.x || b.y !== d.y || b.width !== d.width || b.height !== d.height;
        const redrawn =
          l.pixels !== d.pixels ||
          l.generation === undefined ||
          l.generation !== d.generation ||
          l.opacity !== d.opacity ||
          l.opaque !== d.opaque;
        if (!moved && !redrawn) continue;
        const c = l.content ?? b;
        const was = d.content;
        this.#add(was.x, was.y, was.width, was.height);
        if (c.x !== was.x || c.y !== was.y || c.width !== was.width || c.height !== was.height) this.#add(c.x, c.y, c.width, c.height);
      }
      full = this.#merge() > (width * height) / 2;
    }
    this.#remember(layers, width, height, background);
    return full ? null : this.#rects;
  }

  /** Forgets the last frame: the next one is damaged whole. */
  reset(): void {
    this.#count = -1;
  }

  #add(x: number, y: number, w: number, h: number): void {
    const x0 = Math.max(0, x) & ~1;
    const y0 = Math.max(0, y) & ~1;
    const x1 = Math.min(this.#width, (x + w + 1) & ~1);
    const y1 = Math.min(this.#height, (y + h + 1) & ~1);
    if (x1 > x0 && y1 > y0) this.#rects.push({ x0, y0, x1, y1 });
  }

  #merge(): number {
    return mergeRects(this.#rects);
  }

  #remember(layers: readonly CompositeLayer[], width: number, height: number, background: number): void {
    this.#width = width;
    this.#height = height;
    this.#background = background;
    this.#count = layers.length;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      const d = (this.#drawn[i] ??= {
        pixels: null,
        generation: undefined,
        x: 0,
        y: 0,
        width: 0,
        height: 0,
        content: { x: 0, y: 0, width: 0, height: 0 },
        opacity: 0,
        opaque: false,
      });
      d.pixels = l.pixels;
      d.generation = l.generation;
      d.x = l.bounds.x;
      d.y = l.bounds.y;
      d.width = l.bounds.width;
      d.height = l.bounds.height;
      const c = l.content ?? l.bounds;
      d.content.x = c.x;
      d.content.y = c.y;
      d.content.width = c.width;
      d.content.height = c.height;
      d.opacity = l.opacity;
      d.opaque = l.opaque;
    }
  }
}
