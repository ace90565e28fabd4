import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { AssetMeta } from '../../../shared/state-doc.js';
import { el, enc, type PageContext } from './dom.js';
import { displayOrder } from './layers-view.js';
import { allows } from './role.js';

/** How long a moved or scaled layer takes to glide to its new place on the server, ms. */
const TWEEN_MS = 200;
/** Pixels of a dragged layer that stay on the canvas (it cannot be lost off an edge). */
const KEEP_PX = 16;
/** Smallest box a handle scales to, frame pixels; largest scale (shared/limits.ts `scale`) and size. */
const MIN_PX = 8;
const MAX_SCALE = 64;
const MAX_PX = 16384;
/** Arrow-key nudges within this long of each other go as one PATCH, ms (held keys repeat at ~30 Hz). */
const NUDGE_MS = 150;
/** The box shown for a layer whose size the page cannot know (a text or chat layer without a width). */
const GUESS = { width: 200, height: 60 };

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Move and scale on the program preview: a layer chosen in the select gets a box over the preview
 * canvas; dragging the box moves it, dragging its corner handle scales it (keeping its aspect).
 * On release one `PATCH /stream/layers/:id` with `transition: { durationMs: 200 }` sends the new
 * `transform` (tweened on the server): `x`/`y`, and `width`/`height` when the layer has them, else
 * `scale`. A layer keeps at least 16 px on the canvas.
 */
export class StageView {
  readonly #overlay: HTMLDivElement;
  readonly #box: HTMLDivElement;
  readonly #select: HTMLSelectElement;
  #layers: Layer[] = [];
  #assets = new Map<string, AssetMeta>();
  #canvas = { width: 1280, height: 720 };
  /** The box while a drag runs (frame pixels), else null. */
  #drag: Box | null = null;
  /** Where arrow keys put a layer, until the server answered with it (the next key moves on from here). */
  #nudged: { id: string; box: Box } | null = null;
  #nudgeTimer: number | undefined;
  /** A nudge's PATCH is on its way (the next one waits for its answer, so they arrive in order). */
  #sending = false;

  constructor(
    frame: HTMLElement,
    select: HTMLSelectElement,
    private readonly ctx: PageContext,
    private readonly changed: (layer: Layer) => void,
  ) {
    this.#select = select;
    this.#box = el('div', { id: 'stage-box', hidden: true }, el('div', { id: 'stage-handle', title: 'Drag to scale' }));
    this.#box.title = 'Drag to move (or arrow keys, Shift for 10 px)';
    this.#box.tabIndex = 0;
    this.#overlay = el('div', { id: 'stage' }, this.#box);
    frame.append(this.#overlay);
    select.addEventListener('change', () => this.#place());
    this.#box.addEventListener('pointerdown', (e) => this.#start(e));
    this.#box.addEventListener('keydown', (e) => this.#nudge(e));
    new ResizeObserver(() => this.#place()).observe(this.#overlay);
  }

  setCanvas(size: { width: number; height: number }): void {
    this.#canvas = { width: size.width, height: size.height };
    this.#place();
  }

  setAssets(assets: AssetMeta[]): void {
    this.#assets = new Map(assets.map((a) => [a.id, a]));
  }

  setLayers(layers: Layer[]): void {
    this.#layers = layers;
    const chosen = this.#select.value;
    const ids = displayOrder(layers).map((l) => l.id);
    if ([...this.#select.options].map((o) => o.value).join() !== ['', ...ids].join()) {
      this.#select.replaceChildren(
        el('option', { value: '', textContent: '(none)' }),
        ...ids.map((id) => el('option', { value: id, textContent: id })),
      );
      this.#select.value = ids.includes(chosen) ? chosen : '';
    }
    if (!this.#drag) this.#place();
  }

  #layer(): Layer | undefined {
    return this.#layers.find((l) => l.id === this.#select.value);
  }

  /** The layer's box in frame pixels (its size guessed when the page cannot know it). */
  #boxOf(l: Layer): Box {
    const t = l.transform;
    const c = l.content;
    const asset = c.type === 'image' ? this.#assets.get(c.src) : undefined;
    const natural = c.type === 'color' ? this.#canvas : asset?.width && asset.height ? { width: asset.width, height: asset.height } : GUESS;
    const s = t.scale ?? 1;
    return { x: t.x, y: t.y, width: (t.width ?? natural.width) * s, height: (t.height ?? natural.height) * s };
  }

  /** Screen pixels per frame pixel. */
  #factor(): number {
    return this.#overlay.clientWidth / this.#canvas.width || 1;
  }

  #draw(b: Box): void {
    const f = this.#factor();
    Object.assign(this.#box.style, { left: `${b.x * f}px`, top: `${b.y * f}px`, width: `${b.width * f}px`, height: `${b.height * f}px` });
  }

  #place(): void {
    const l = this.#layer();
    this.#box.hidden = !l;
    if (l && !this.#drag) this.#draw(this.#nudged?.id === l.id ? this.#nudged.box : this.#boxOf(l));
  }

  #start(e: PointerEvent): void {
    const l = this.#layer();
    // One drag at a time: a second finger or pen while one runs is ignored.
    if (!l || e.button !== 0 || this.#drag || this.#nudged || !allows('operator')) return;
    e.preventDefault();
    const scaling = (e.target as HTMLElement).id === 'stage-handle';
    const from = this.#boxOf(l);
    const f = this.#factor();
    const { width: W, height: H } = this.#canvas;
    this.#box.setPointerCapture(e.pointerId);
    this.#drag = { ...from };
    const move = (m: PointerEvent): void => {
      if (m.pointerId !== e.pointerId) return;
      const dx = (m.clientX - e.clientX) / f;
      const dy = (m.clientY - e.clientY) / f;
      if (scaling) {
        const k = Math.max(
          MIN_PX / from.width,
          Math.min(MAX_PX / from.width, (from.width + Math.max(dx, (dy * from.width) / from.height)) / from.width),
        );
        this.#drag = { ...from, width: from.width * k, height: from.height * k };
      } else {
        const x = Math.min(W - KEEP_PX, Math.max(KEEP_PX - from.width, from.x + dx));
        const y = Math.min(H - KEEP_PX, Math.max(KEEP_PX - from.height, from.y + dy));
        this.#drag = { ...from, x, y };
      }
      this.#draw(this.#drag);
    };
    const end = (m: PointerEvent): void => {
      if (m.pointerId !== e.pointerId) return;
      this.#box.removeEventListener('pointermove', move);
      this.#box.removeEventListener('pointerup', end);
      this.#box.removeEventListener('pointercancel', end);
      const to = this.#drag!;
      this.#drag = null;
      if (to.x !== from.x || to.y !== from.y || to.width !== from.width) void this.#send(l, from, to);
    };
    this.#box.addEventListener('pointermove', move);
    this.#box.addEventListener('pointerup', end);
    this.#box.addEventListener('pointercancel', end);
  }

  /**
   * Arrow keys move the chosen layer 1 px (10 with Shift), each from where the last key put it;
   * presses within {@link NUDGE_MS} of each other (a held key) go as one PATCH, one at a time.
   */
  #nudge(e: KeyboardEvent): void {
    const step = e.shiftKey ? 10 : 1;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    const l = this.#layer();
    if (!d || !l || this.#drag || !allows('operator')) return;
    e.preventDefault();
    const from = this.#nudged?.id === l.id ? this.#nudged.box : this.#boxOf(l);
    const { width: W, height: H } = this.#canvas;
    const x = Math.min(W - KEEP_PX, Math.max(KEEP_PX - from.width, from.x + d[0]!));
    const y = Math.min(H - KEEP_PX, Math.max(KEEP_PX - from.height, from.y + d[1]!));
    this.#nudged = { id: l.id, box: { ...from, x, y } };
    this.#draw(this.#nudged.box);
    clearTimeout(this.#nudgeTimer);
    this.#nudgeTimer = window.setTimeout(() => void this.#flushNudges(), NUDGE_MS);
  }

  /** Sends where the nudges put the layer; keys pressed meanwhile go in the next PATCH, after the answer. */
  async #flushNudges(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      for (let n = this.#nudged; n; n = this.#nudged) {
        const l = this.#layers.find((x) => x.id === n.id);
        const ok = !!l && (await this.#send(l, this.#boxOf(l), n.box));
        if (!ok || this.#nudged === n) this.#nudged = null;
      }
    } finally {
      this.#sending = false;
    }
    this.#place();
  }

  /** One tweened PATCH from box `from` to `to`; the answer goes to `changed`. @returns false when refused (shown) */
  async #send(l: Layer, from: Box, to: Box): Promise<boolean> {
    const t = l.transform;
    const transform: Record<string, number> = { x: Math.round(to.x), y: Math.round(to.y) };
    if (to.width !== from.width) {
      const k = to.width / from.width;
      if (t.width !== undefined && t.height !== undefined) {
        transform['width'] = Math.max(1, Math.min(MAX_PX, Math.round(t.width * k)));
        transform['height'] = Math.max(1, Math.min(MAX_PX, Math.round(t.height * k)));
      } else transform['scale'] = Math.max(0.001, Math.min(MAX_SCALE, Math.round((t.scale ?? 1) * k * 1000) / 1000));
    }
    try {
      this.changed(await this.ctx.api.request<Layer>('PATCH', `/layers/${enc(l.id)}`, { transform, transition: { durationMs: TWEEN_MS } }));
      return true;
    } catch (err) {
      this.ctx.fail(err);
      this.#place();
      return false;
    }
  }
}
