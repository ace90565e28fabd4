import { setDisabled } from './role.js';

/**
 * Small DOM helpers of the dashboard's views. Everything a server or a person wrote goes in as
 * text (`textContent`, `value`), never as HTML, so a layer id, scene name or chat message cannot
 * inject markup.
 */

/** A new element with `props` assigned and `children` appended (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** `#id` from the page. @throws Error when index.html lacks it */
export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from index.html`);
  return e as T;
}

/** How long a confirming button waits for its second click, ms. */
export const CONFIRM_MS = 3000;

/**
 * A button that asks for a second click: the first shows `confirmLabel` (class `armed`) for
 * {@link CONFIRM_MS}, the second within that time runs `action`. While `action` runs the button is
 * disabled, so a double click cannot run it twice.
 * @param needsConfirm false: the first click runs `action` at once (e.g. a change that restarts nothing)
 */
export function confirmButton(
  button: HTMLButtonElement,
  confirmLabel: string,
  action: () => Promise<void>,
  needsConfirm: () => boolean = () => true,
): void {
  const label = button.textContent ?? '';
  let armed: number | undefined;
  const disarm = (): void => {
    clearTimeout(armed);
    armed = undefined;
    button.textContent = label;
    button.classList.remove('armed');
  };
  button.addEventListener('click', async (e) => {
    e.preventDefault();
    if (armed === undefined && needsConfirm()) {
      button.textContent = confirmLabel;
      button.classList.add('armed');
      armed = window.setTimeout(disarm, CONFIRM_MS);
      return;
    }
    disarm();
    await busy(button, action);
  });
}

/** Runs `action` with `button` disabled (a double click sends one request); re-enables it after (unless the page's role may not use it: role.ts). */
export async function busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  if (button.dataset['busy']) return;
  button.dataset['busy'] = '1';
  button.disabled = true;
  try {
    await action();
  } finally {
    delete button.dataset['busy'];
    setDisabled(button, false);
  }
}

/** A `<label>` holding its text and its control. */
export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', {}, `${text} `, control);
}

/** `path` with each segment URL-encoded, e.g. `/scenes/${enc(name)}`. */
export const enc = encodeURIComponent;

/** What every view gets from the page: the REST client and the message line. */
export interface PageContext {
  api: import('./api.js').Api;
  /** Shows a message under the header; an empty text hides it. */
  say(text: string, kind?: 'error' | 'info'): void;
  /** Shows a refused or failed request (asks for a token on 401). */
  fail(err: unknown): void;
}
