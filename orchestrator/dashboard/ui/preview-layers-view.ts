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

  constructor(
    private readonly list: HTMLOListElement,
    private readonly ctx: PageContext,
  ) {}

  setStudio(on: boolean): void {
    this.#on = on;
    if (on) this.changed();
    else this.list.replaceChildren();
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
    this.list.replaceChildren(
      ...displayOrder(layers).map((l) => {
        const del = el('button', { type: 'button', className: 'preview-delete', textContent: 'Delete' });
        del.setAttribute('aria-label', `Delete ${l.id} from the preview`);
        confirmButton(del, 'Confirm delete', async () => {
          try {
            await this.ctx.api.request('DELETE', `/preview/layers/${enc(l.id)}`);
          } catch (err) {
            this.ctx.fail(err);
          }
          this.changed();
        });
        const li = el(
          'li',
          {},
          el('span', { className: 'title', textContent: `${l.name || l.id} · ${l.content.type} · z ${l.zIndex}` }),
          del,
        );
        li.dataset['id'] = l.id;
        return li;
      }),
    );
  }
}
