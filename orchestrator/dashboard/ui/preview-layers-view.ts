import type { LayerView as Layer } from '../../../shared/layer-view.js';
import { confirmButton, el, enc, type PageContext } from './dom.js';
import { displayOrder } from './layers-view.js';

/**
 * Studio mode's preview scene as a list (front first), each layer with Delete (click twice;
 * `DELETE /stream/preview/layers/:id`), so a scene prepared off air can be tidied before Take.
 * Read with `GET /stream/preview/layers` when studio mode comes on, after a take and on WS
 * `previewLayerUpdate`.
 */
export class PreviewLayersView {
  #on = false;
  #timer: number | undefined;
  /** Items by layer id, kept across reads so a Delete armed for its second click stays armed. */
  readonly #items = new Map<string, HTMLLIElement>();

  constructor(
    private readonly list: HTMLOListElement,
    private readonly ctx: PageContext,
  ) {}

  setStudio(on: boolean): void {
    this.#on = on;
    if (on) this.changed();
    else {
      this.#items.clear();
      this.list.replaceChildren();
    }
  }

  /** The preview scene changed: it is read again (once for a burst of changes). */
  changed(): void {
    if (!this.#on) return;
    clearTimeout(this.#timer);
    this.#timer = window.setTimeout(() => void this.#refresh(), 100);
  }

  async #refresh(): Promise<void> {
    try {
      this.#render((await this.ctx.api.request<{ layers: Layer[] }>('GET', '/preview/layers')).layers);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  #render(layers: Layer[]): void {
    const items = displayOrder(layers).map((l) => {
      const li = this.#items.get(l.id) ?? this.#create(l.id);
      this.#items.set(l.id, li);
      li.querySelector('.title')!.textContent = `${l.name || l.id} · ${l.content.type} · z ${l.zIndex}`;
      return li;
    });
    const shown = new Set(layers.map((l) => l.id));
    for (const id of this.#items.keys()) if (!shown.has(id)) this.#items.delete(id);
    if (items.length !== this.list.children.length || items.some((li, i) => this.list.children[i] !== li))
      this.list.replaceChildren(...items);
  }

  #create(id: string): HTMLLIElement {
    const del = el('button', { type: 'button', className: 'preview-delete', textContent: 'Delete' });
    del.setAttribute('aria-label', `Delete ${id} from the preview`);
    confirmButton(del, 'Confirm delete', async () => {
      try {
        await this.ctx.api.request('DELETE', `/preview/layers/${enc(id)}`);
      } catch (err) {
        this.ctx.fail(err);
      }
      this.changed();
    });
    const li = el('li', {}, el('span', { className: 'title' }), del);
    li.dataset['id'] = id;
    return li;
  }
}
