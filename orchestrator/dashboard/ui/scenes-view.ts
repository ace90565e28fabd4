import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { SceneList as SceneListType } from '../../../shared/responses.js';
import { busy, confirmButton, el, enc, labelled, type PageContext } from './dom.js';

/** `GET /stream/scenes`'s answer (and `scenesUpdate`'s payload). */
type SceneList = Pick<SceneListType, 'active' | 'scenes'>;
/** One row of it. */
type SceneRow = SceneList['scenes'][number];

/** Scene names as the server takes them (shared/scenes.ts `SceneNameSchema`). */
const SCENE_NAME = '[A-Za-z0-9_\\-]{1,64}';

/**
 * Scenes: the saved scenes and templates (`GET /stream/scenes`), each with Cut and Crossfade
 * (`POST /stream/scenes/:name/activate`, over the panel's duration), "To preview" in studio mode
 * (`POST /stream/preview/scenes/:name/activate`: prepared off air), and Delete for saved ones
 * (second click confirms); a form saves the live layers under a name (`PUT /stream/scenes/:name {}`).
 * WS `scenesUpdate` keeps the list and the active mark current when another client changes them.
 */
export class ScenesView {
  readonly #list: HTMLUListElement;
  readonly #duration: HTMLInputElement;
  #studio = false;
  #rows: SceneRow[] = [];
  #active: string | null = null;

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
    /** Called with the live layers after an activation (the page shows them at once). */
    private readonly activated: (layers: Layer[]) => void,
  ) {
    this.#list = el('ul', { id: 'scene-list', className: 'rows' });
    this.#duration = el('input', { id: 'scene-duration', type: 'number', min: '1', max: '60000', step: '1', value: '1000' });
    const name = el('input', { id: 'scene-name', type: 'text', required: true, pattern: SCENE_NAME, placeholder: 'name' });
    name.title = '1-64 characters: letters, digits, _ and -';
    const save = el('button', { type: 'submit', id: 'scene-save', textContent: 'Save live layers' });
    const form = el('form', { id: 'scene-save-form', className: 'inline' }, labelled('Save as', name), save);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      void busy(save, async () => {
        try {
          await this.ctx.api.request('PUT', `/scenes/${enc(name.value)}`, {});
          this.ctx.say(`Saved the live layers as scene ${name.value}.`, 'info');
          name.value = '';
          await this.refresh();
        } catch (err) {
          this.ctx.fail(err);
        }
      });
    });
    root.append(labelled('Crossfade (ms)', this.#duration), this.#list, form);
  }

  /** Studio mode on or off: "To preview" buttons show only while it is on (the list is read again). */
  setStudio(on: boolean): void {
    this.#studio = on;
    void this.refresh();
  }

  /** Reads the scenes again. */
  async refresh(): Promise<void> {
    try {
      this.show(await this.ctx.api.request<SceneList>('GET', '/scenes'));
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  /**
   * Shows a list of scenes and the active one: an answer of `GET /stream/scenes`, or WS
   * `scenesUpdate` (a scene saved, deleted or activated from another client, a take).
   */
  show(list: SceneList): void {
    this.#rows = list.scenes;
    this.#active = list.active;
    this.#render();
  }

  async #activate(name: string, transition: 'cut' | 'crossfade', preview = false): Promise<void> {
    const ms = Math.max(1, Math.min(60_000, Math.round(Number(this.#duration.value) || 1000)));
    const body = transition === 'cut' ? { transition } : { transition, durationMs: ms };
    try {
      const answer = await this.ctx.api.request<{ layers: Layer[] }>(
        'POST',
        `${preview ? '/preview' : ''}/scenes/${enc(name)}/activate`,
        body,
      );
      if (preview) this.ctx.say(`Scene ${name} is in the preview (off air): Take puts it on air.`, 'info');
      else {
        this.#active = name;
        this.activated(answer.layers);
        this.ctx.say(`Scene ${name} is live (${transition}${transition === 'crossfade' ? ` ${ms} ms` : ''}).`, 'info');
        this.#render();
      }
    } catch (err) {
      this.ctx.fail(err);
      await this.refresh(); // e.g. another dashboard deleted it: the list shows what is there now
    }
  }

  #render(): void {
    this.#list.replaceChildren(
      ...this.#rows.map((s) => {
        const li = el('li', { className: 'scene' });
        li.dataset['name'] = s.name;
        li.classList.toggle('active', s.name === this.#active);
        const title = el('span', { className: 'title', textContent: `${s.name} · ${s.layers} layers${s.template ? ' · template' : ''}` });
        title.title = s.name;
        const button = (cls: string, text: string, run: () => Promise<void>): HTMLButtonElement => {
          const b = el('button', { type: 'button', className: cls, textContent: text });
          b.addEventListener('click', () => void busy(b, run));
          return b;
        };
        li.append(
          title,
          button('scene-cut', 'Cut', () => this.#activate(s.name, 'cut')),
          button('scene-fade', 'Crossfade', () => this.#activate(s.name, 'crossfade')),
        );
        if (this.#studio) li.append(button('scene-preview', 'To preview', () => this.#activate(s.name, 'cut', true)));
        if (!s.template) {
          const del = el('button', { type: 'button', className: 'scene-delete', textContent: 'Delete' });
          confirmButton(del, 'Confirm delete', async () => {
            try {
              await this.ctx.api.request('DELETE', `/scenes/${enc(s.name)}`);
            } catch (err) {
              this.ctx.fail(err);
            }
            await this.refresh();
          });
          li.append(del);
        }
        return li;
      }),
    );
  }
}
