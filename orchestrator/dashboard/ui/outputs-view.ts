import type { OutputStatus } from '../../../shared/output-status.js';
import { busy, confirmButton, el, enc, labelled, type PageContext } from './dom.js';
import { formatBitrate } from './format.js';
import { needs, setDisabled } from './role.js';

/** One row of `GET /stream/outputs`. */
type OutputRow = OutputStatus & { kind: string; enabled: boolean };

/** Output kinds (shared/outputs.ts `OutputKindSchema`) and what their url field wants. */
const KINDS: Record<string, string> = {
  file: 'recordings/name.mp4',
  rtmp: 'rtmp://host/app/key',
  srt: 'srt://host:port',
  hls: '(no url)',
  webrtc: '(no url)',
};
const OUTPUT_ID = '[A-Za-z0-9_\\-]{1,64}';

/**
 * Outputs: each with its state, bitrate, restarts and last error; Start and Stop
 * (`POST /stream/outputs/:id/start|stop`; Stop asks for a second click while the output is live),
 * Remove (second click confirms; `main` is the config's and stays; admin); a form adds one
 * (`POST /stream/outputs`, admin). WS `outputUpdate` keeps the rows current.
 */
export class OutputsView {
  readonly #list: HTMLUListElement;
  #rows = new Map<string, OutputRow>();
  readonly #items = new Map<string, HTMLLIElement>();

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
  ) {
    this.#list = el('ul', { id: 'output-list', className: 'rows' });
    const id = el('input', { id: 'output-id', type: 'text', maxLength: 64, pattern: OUTPUT_ID, placeholder: 'id (optional)' });
    const kind = el('select', { id: 'output-kind' }, ...Object.keys(KINDS).map((k) => el('option', { value: k, textContent: k })));
    // A URL may hold a stream key: the browser keeps no autofill history of it.
    const url = el('input', {
      id: 'output-url',
      type: 'text',
      maxLength: 2048,
      placeholder: KINDS['file'],
      autocomplete: 'off',
      spellcheck: false,
    });
    kind.addEventListener('change', () => {
      url.placeholder = KINDS[kind.value] ?? '';
      setDisabled(url, kind.value === 'hls' || kind.value === 'webrtc');
    });
    const add = el('button', { type: 'submit', id: 'output-add', textContent: 'Add output' });
    const form = el(
      'form',
      { id: 'output-form', className: 'inline' },
      labelled('Id', id),
      labelled('Kind', kind),
      labelled('URL', url),
      add,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      void busy(add, async () => {
        const body: Record<string, unknown> = { kind: kind.value };
        if (id.value) body['id'] = id.value;
        if (!url.disabled && url.value) body['url'] = url.value;
        try {
          const o = await this.ctx.api.request<OutputRow>('POST', '/outputs', body);
          this.ctx.say(`Added output ${o.id} (${o.kind}).`, 'info');
          id.value = url.value = '';
          await this.refresh();
        } catch (err) {
          this.ctx.fail(err);
        }
      });
    });
    // Adding or removing an output is an admin's (its URL may hold a stream key); operators start and stop them.
    root.append(this.#list, needs(form, 'admin'));
  }

  async refresh(): Promise<void> {
    try {
      const { outputs } = await this.ctx.api.request<{ outputs: OutputRow[] }>('GET', '/outputs');
      this.#rows = new Map(outputs.map((o) => [o.id, o]));
      this.#render();
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  /** A WS `outputUpdate`: the row's state, bitrate and restarts (an unknown id: the list is read again). */
  update(status: OutputStatus): void {
    const row = this.#rows.get(status.id);
    if (!row) return void this.refresh();
    this.#rows.set(status.id, { ...row, ...status });
    this.#render();
  }

  async #call(method: string, path: string): Promise<void> {
    try {
      await this.ctx.api.request(method, path);
    } catch (err) {
      this.ctx.fail(err);
    }
    await this.refresh();
  }

  /** Rows are kept by id and updated in place, so a Remove armed for its second click stays armed through updates. */
  #render(): void {
    const items = [...this.#rows.values()].map((o) => {
      let li = this.#items.get(o.id);
      if (!li || li.dataset['enabled'] !== String(o.enabled)) {
        li = this.#create(o);
        this.#items.set(o.id, li);
      }
      li.dataset['state'] = o.state;
      const info = `${o.id} · ${o.kind} · ${o.enabled ? o.state : 'stopped (disabled)'} · ${formatBitrate(o.bitrateBps)} · ${o.restarts} restarts`;
      li.querySelector('.title')!.textContent = info;
      const error = li.querySelector<HTMLElement>('.output-error')!;
      error.textContent = o.lastError ?? '';
      error.hidden = !o.lastError;
      return li;
    });
    for (const id of this.#items.keys()) if (!this.#rows.has(id)) this.#items.delete(id);
    if (items.length !== this.#list.children.length || items.some((li, i) => this.#list.children[i] !== li))
      this.#list.replaceChildren(...items);
  }

  #create(o: OutputRow): HTMLLIElement {
    const li = el('li', { className: 'output' }, el('span', { className: 'title' }), el('small', { className: 'output-error' }));
    li.dataset['id'] = o.id;
    li.dataset['enabled'] = String(o.enabled);
    const path = `/outputs/${enc(o.id)}`;
    if (o.id !== 'main') {
      const toggle = el('button', {
        type: 'button',
        className: o.enabled ? 'output-stop' : 'output-start',
        textContent: o.enabled ? 'Stop' : 'Start',
      });
      // Stopping a live output ends that broadcast: a second click confirms it (as Remove).
      confirmButton(
        toggle,
        'Confirm stop',
        () => this.#call('POST', `${path}/${o.enabled ? 'stop' : 'start'}`),
        () => o.enabled && this.#rows.get(o.id)?.state === 'live',
      );
      const remove = needs(el('button', { type: 'button', className: 'output-remove', textContent: 'Remove' }), 'admin');
      confirmButton(remove, 'Confirm remove', () => this.#call('DELETE', path));
      li.append(toggle, remove);
    }
    return li;
  }
}
