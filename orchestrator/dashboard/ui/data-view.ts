import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { DataValue } from '../../../shared/data-binding.js';
import { busy, el, labelled, type PageContext } from './dom.js';

/**
 * The data panel: one field per placeholder key (`{bid}`, `{bid:.2}` in a text layer's content)
 * and per key the data already holds. Setting a field sends `PATCH /stream/data {key: value}`:
 * the layers' templates are never touched. A value that reads as a number is sent as one (so
 * `{bid:.2}` can format it), `true`/`false` as a boolean when the key holds one, else text.
 */

/** A placeholder's key, as shared/data-binding.ts `PLACEHOLDER` reads it (that file is not loaded by the page). */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,63})(?::,?(?:\.\d{1,2})?)?\}/g;
/** A key as the server takes it. */
const KEY = '[A-Za-z_][A-Za-z0-9_]{0,63}';
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The placeholder keys of the text layers, in order of first use. */
export function placeholderKeys(layers: readonly Layer[]): string[] {
  const keys = new Set<string>();
  for (const l of layers) if (l.content.type === 'text') for (const m of l.content.content.matchAll(PLACEHOLDER)) keys.add(m[1]!);
  return [...keys];
}

/** What a typed `text` becomes for a key now holding `current`. */
export function parseValue(text: string, current: DataValue | undefined): DataValue {
  const t = text.trim();
  if (NUMBER.test(t) && Number.isFinite(Number(t))) return Number(t);
  if (typeof current === 'boolean' && (t === 'true' || t === 'false')) return t === 'true';
  return text;
}

export class DataView {
  readonly #fields: HTMLDivElement;
  #data: Record<string, DataValue> = {};
  #keys: string[] = [];

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
  ) {
    this.#fields = el('div', { id: 'data-fields' });
    const key = el('input', { id: 'data-new-key', type: 'text', required: true, pattern: KEY, maxLength: 64, placeholder: 'key' });
    const value = el('input', { id: 'data-new-value', type: 'text', maxLength: 1024, placeholder: 'value' });
    const add = el('button', { type: 'submit', textContent: 'Add' });
    const form = el('form', { id: 'data-add', className: 'inline' }, labelled('New key', key), value, add);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (form.reportValidity()) void busy(add, () => this.#set(key.value, value.value).then(() => void (key.value = value.value = '')));
    });
    root.append(this.#fields, form);
  }

  /** The program's layers changed: their placeholder keys get fields. */
  setLayers(layers: readonly Layer[]): void {
    const keys = placeholderKeys(layers);
    if (keys.join() === this.#keys.join()) return;
    this.#keys = keys;
    this.#render();
  }

  /** The data changed (an answer or WS `dataUpdate`). */
  setData(data: Record<string, DataValue>): void {
    this.#data = data;
    this.#render();
  }

  async refresh(): Promise<void> {
    try {
      this.setData((await this.ctx.api.request<{ data: Record<string, DataValue> }>('GET', '/data')).data);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async #set(key: string, text: string): Promise<void> {
    try {
      const answer = await this.ctx.api.request<{ data: Record<string, DataValue> }>('PATCH', '/data', {
        [key]: parseValue(text, Object.hasOwn(this.#data, key) ? this.#data[key] : undefined),
      });
      this.setData(answer.data);
      this.ctx.say(`${key} = ${String(answer.data[key])}`, 'info');
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  #render(): void {
    const keys = [...new Set([...this.#keys, ...Object.keys(this.#data)])];
    const existing = new Map([...this.#fields.children].map((f) => [(f as HTMLElement).dataset['key'], f as HTMLFormElement]));
    const forms = keys.map((k) => {
      let form = existing.get(k);
      if (!form) {
        const input = el('input', { type: 'text', className: 'data-value', maxLength: 1024 });
        input.setAttribute('aria-label', `Value of ${k}`);
        const set = el('button', { type: 'submit', textContent: 'Set' });
        const f = el('form', { className: 'data-field inline' }, el('label', {}, el('code', { textContent: k }), ' ', input), set);
        f.dataset['key'] = k;
        f.addEventListener('submit', (e) => {
          e.preventDefault();
          void busy(set, () => this.#set(k, input.value));
        });
        form = f;
      }
      const input = form.querySelector<HTMLInputElement>('input')!;
      // Own keys only: a `{constructor}` placeholder is not Object's constructor.
      const v = Object.hasOwn(this.#data, k) ? this.#data[k] : undefined;
      const shown = v === undefined ? '' : String(v);
      if (document.activeElement !== input && input.value !== shown) input.value = shown;
      form.classList.toggle('unset', v === undefined);
      return form;
    });
    // Re-inserting a focused field would take its focus: only when the keys changed.
    if (forms.length === this.#fields.children.length && forms.every((f, i) => this.#fields.children[i] === f)) return;
    this.#fields.replaceChildren(...forms);
  }
}
