import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { AssetMeta } from '../../../shared/state-doc.js';
import { confirmButton, el } from './dom.js';
import { setDisabled } from './role.js';
import { MediaControls, type MediaCommand } from './media-view.js';

/**
 * The layer list, top of the z-order first, one `<li data-id>` per layer with its controls. Items
 * are updated in place, keyed by id, so a field someone is typing in keeps its focus and text while
 * other changes stream in.
 */

/** What a person asked for; the page sends it to the API. */
export type LayerAction =
  | { kind: 'visible'; id: string; visible: boolean }
  | { kind: 'opacity'; id: string; opacity: number }
  | { kind: 'move'; id: string; direction: 'up' | 'down' }
  | { kind: 'text'; id: string; content: string }
  | { kind: 'image'; id: string; src: string }
  | { kind: 'media'; id: string; action: MediaCommand }
  | { kind: 'delete'; id: string };

/** Layers in display order: highest z-index first; ties keep the compositing order (later on top). */
export function displayOrder(layers: Iterable<Layer>): Layer[] {
  return [...layers]
    .map((l, i) => ({ l, i }))
    .sort((a, b) => b.l.zIndex - a.l.zIndex || b.i - a.i)
    .map((x) => x.l);
}

/** Sets an input's value unless someone is editing it. */
function setValue(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  if (document.activeElement !== input && input.value !== value) input.value = value;
}

export class LayersView {
  #items = new Map<string, HTMLLIElement>();
  /** The transport rows of the video layers' items. */
  #media = new Map<string, MediaControls>();
  #images: AssetMeta[] = [];
  #layers: Layer[] = [];

  constructor(
    private readonly list: HTMLOListElement,
    /** Sends an action; Delete stays disabled until its promise settles (a double click deletes once). */
    private readonly act: (action: LayerAction) => Promise<void> | void,
  ) {}

  /** The uploaded images offered to image layers. */
  setAssets(assets: AssetMeta[]): void {
    this.#images = assets.filter((a) => a.kind === 'image');
    this.render(this.#layers);
  }

  /** Moves the video layers' positions on between updates (call it a few times a second). */
  tick(): void {
    for (const m of this.#media.values()) m.tick();
  }

  /** True when a video layer is shown (its status is worth polling). */
  get hasVideo(): boolean {
    return this.#media.size > 0;
  }

  /** Shows `layers` (any order), reusing the items of layers it already shows. */
  render(layers: Layer[]): void {
    this.#layers = layers;
    const ordered = displayOrder(layers);
    const keep = new Set(ordered.map((l) => l.id));
    for (const [id, li] of this.#items) {
      if (!keep.has(id)) {
        li.remove();
        this.#items.delete(id);
        this.#media.delete(id);
      }
    }
    ordered.forEach((layer, i) => {
      let li = this.#items.get(layer.id);
      if (!li || li.dataset['type'] !== layer.content.type) {
        li?.remove();
        li = this.#create(layer);
        this.#items.set(layer.id, li);
      }
      this.#update(li, layer, i, ordered.length);
      if (this.list.children[i] !== li) this.list.insertBefore(li, this.list.children[i] ?? null);
    });
  }

  #create(layer: Layer): HTMLLIElement {
    const id = layer.id;
    const li = el('li', { className: 'layer' });
    li.dataset['id'] = id;
    li.dataset['type'] = layer.content.type;

    const visible = el('input', { type: 'checkbox', className: 'visible', title: 'Visible' });
    visible.addEventListener('change', () => this.act({ kind: 'visible', id, visible: visible.checked }));
    const title = el('span', { className: 'title' });
    const up = el('button', { type: 'button', className: 'up', title: 'Move up (towards the front)', textContent: '▲' });
    up.setAttribute('aria-label', `Move ${id} up`);
    up.addEventListener('click', () => this.act({ kind: 'move', id, direction: 'up' }));
    const down = el('button', { type: 'button', className: 'down', title: 'Move down (towards the back)', textContent: '▼' });
    down.setAttribute('aria-label', `Move ${id} down`);
    down.addEventListener('click', () => this.act({ kind: 'move', id, direction: 'down' }));
    const del = el('button', { type: 'button', className: 'delete', textContent: 'Delete' });
    confirmButton(del, 'Confirm delete', async () => this.act({ kind: 'delete', id }));
    const opacity = el('input', { type: 'range', className: 'opacity', min: '0', max: '1', step: '0.05', title: 'Opacity' });
    opacity.addEventListener('change', () => this.act({ kind: 'opacity', id, opacity: Number(opacity.value) }));
    const opacityLabel = el('label', { className: 'opacity-label' }, 'Opacity ', opacity);

    const head = el('div', { className: 'layer-head' }, el('label', { className: 'visible-label' }, visible), title, up, down, del);
    li.append(head, opacityLabel);

    if (layer.content.type === 'text') {
      const text = el('input', { type: 'text', className: 'text-content', maxLength: 4096 });
      text.setAttribute('aria-label', `Text of ${id}`);
      const form = el('form', { className: 'text-form' }, text, el('button', { type: 'submit', textContent: 'Set text' }));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.act({ kind: 'text', id, content: text.value });
      });
      li.append(form);
    } else if (layer.content.type === 'image') {
      const select = el('select', { className: 'image-src' });
      select.setAttribute('aria-label', `Image of ${id}`);
      select.addEventListener('change', () => this.act({ kind: 'image', id, src: select.value }));
      li.append(el('label', { className: 'image-label' }, 'Image ', select));
    } else if (layer.content.type === 'video') {
      const controls = new MediaControls(id, (action) => this.act({ kind: 'media', id, action }));
      this.#media.set(id, controls);
      li.append(controls.element);
    } else this.#media.delete(id);
    return li;
  }

  #update(li: HTMLLIElement, layer: Layer, index: number, count: number): void {
    li.classList.toggle('hidden', !layer.visible);
    const q = <T extends Element>(sel: string): T => li.querySelector(sel) as T;
    q<HTMLInputElement>('.visible').checked = layer.visible;
    q<HTMLSpanElement>('.title').textContent = `${layer.name || layer.id} · ${layer.content.type} · z ${layer.zIndex}`;
    setDisabled(q<HTMLButtonElement>('.up'), index === 0);
    setDisabled(q<HTMLButtonElement>('.down'), index === count - 1);
    setValue(q<HTMLInputElement>('.opacity'), String(layer.opacity));
    if (layer.content.type === 'text') setValue(q<HTMLInputElement>('.text-content'), layer.content.content);
    if (layer.content.type === 'video') this.#media.get(layer.id)?.set(layer.media, layer.content.rate, layer.content.loop);
    if (layer.content.type === 'image') {
      const select = q<HTMLSelectElement>('.image-src');
      if (document.activeElement === select) return;
      const src = layer.content.src;
      const options = this.#images.map((a) => ({ value: a.id, label: a.name || a.id.slice(0, 12) }));
      if (!options.some((o) => o.value === src)) options.unshift({ value: src, label: src.split('/').pop() ?? src });
      select.replaceChildren(...options.map((o) => el('option', { value: o.value, textContent: o.label })));
      select.value = src;
    }
  }
}

/**
 * The z-index changes that move layer `id` one place up or down in `layers`' display order: it
 * swaps z-index with its neighbour, or goes one past it when both have the same z-index.
 * @returns the PATCHes to send (empty at the top or bottom already)
 */
export function moveChanges(layers: Layer[], id: string, direction: 'up' | 'down'): { id: string; zIndex: number }[] {
  const ordered = displayOrder(layers);
  const i = ordered.findIndex((l) => l.id === id);
  const j = direction === 'up' ? i - 1 : i + 1;
  const me = ordered[i];
  const other = ordered[j];
  if (!me || !other) return [];
  if (me.zIndex === other.zIndex) return [{ id, zIndex: other.zIndex + (direction === 'up' ? 1 : -1) }];
  return [
    { id, zIndex: other.zIndex },
    { id: other.id, zIndex: me.zIndex },
  ];
}
