import type { TakeAnswer } from '../../../shared/studio.js';
import type { Api } from './api.js';
import { PREVIEW_HEADER_BYTES, socketUrl } from './connection.js';
import { PreviewView } from './preview.js';
import { allows, setDisabled } from './role.js';

/** The elements of the studio panel (index.html, `#studio`). */
export interface StudioElements {
  /** "Studio mode" checkbox: off, nothing of it runs (no socket, no preview rendered on the server). */
  toggle: HTMLInputElement;
  panel: HTMLElement;
  canvas: HTMLCanvasElement;
  caption: HTMLElement;
  /** Take duration, ms: 0 a cut, more a crossfade. */
  duration: HTMLInputElement;
  /** A T-bar-like slider of the same duration (0..5 s), kept in step with `duration`. */
  tbar: HTMLInputElement;
  take: HTMLButtonElement;
  cut: HTMLButtonElement;
}

/** Inputs that take no typed text: keys pressed on them are the page's (e.g. after clicking a checkbox). */
const NOT_TEXT = new Set(['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'color', 'file', 'image']);

/**
 * Whether a key pressed on `target` is typing (a text field, a select's type-ahead, editable
 * content), which the shortcuts leave alone. A focused button is not: after clicking Take, T takes again.
 */
export function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !NOT_TEXT.has(target.type);
}

/** How long the preview socket waits before it opens again after dropping, ms. */
const RETRY_MS = 2000;

/**
 * Studio mode on the page (docs/studio-mode.md): the off-air preview scene's frames
 * (`/stream/ws?target=preview&bus=preview`) beside the program's, a Take button with a duration
 * (0: cut; more: crossfade over that many ms) and a Cut button. Keys, while no text field has the
 * focus (a button may): `T` takes with the duration, `C` cuts.
 */
export class StudioView {
  readonly #el: StudioElements;
  readonly #view: PreviewView;
  #ws: WebSocket | null = null;
  #retry: number | undefined;
  #busy = false;

  /**
   * @param taken called with each take's answer (the page reads the program's layers again)
   * @param fail called with a refused or failed take
   */
  constructor(
    el: StudioElements,
    private readonly api: Api,
    private readonly token: () => string | null,
    private readonly taken: (answer: TakeAnswer) => void,
    private readonly fail: (err: unknown) => void,
  ) {
    this.#el = el;
    this.#view = new PreviewView(el.canvas, el.caption);
    el.tbar.addEventListener('input', () => (el.duration.value = el.tbar.value));
    el.duration.addEventListener('input', () => (el.tbar.value = el.duration.value));
    el.toggle.addEventListener('change', () => this.#enable(el.toggle.checked));
    el.take.addEventListener('click', () => void this.take(Number(el.duration.value) || 0));
    el.cut.addEventListener('click', () => void this.take(0));
    document.addEventListener('keydown', (e) => {
      if (!el.toggle.checked || e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.isComposing) return;
      if (typing(e.target)) return;
      if (e.key === 't' || e.key === 'T') void this.take(Number(el.duration.value) || 0);
      else if (e.key === 'c' || e.key === 'C') void this.take(0);
      else return;
      e.preventDefault();
    });
  }

  /** `POST /stream/take`: a cut for 0 ms, else a crossfade over `durationMs`. */
  async take(durationMs: number): Promise<void> {
    if (this.#busy || !allows('operator')) return;
    this.#busy = true;
    setDisabled(this.#el.take, true);
    setDisabled(this.#el.cut, true);
    try {
      const ms = Math.max(0, Math.min(60_000, Math.round(durationMs)));
      const body = ms > 0 ? { transition: 'crossfade', durationMs: ms } : { transition: 'cut' };
      this.taken(await this.api.request<TakeAnswer>('POST', '/take', body));
    } catch (err) {
      this.fail(err);
    } finally {
      this.#busy = false;
      setDisabled(this.#el.take, false);
      setDisabled(this.#el.cut, false);
    }
  }

  /** The token changed: the preview socket opens again with it. */
  restart(): void {
    if (this.#el.toggle.checked) this.#enable(true);
  }

  #enable(on: boolean): void {
    this.#el.panel.hidden = !on;
    // Program and preview side by side (stacked on a narrow screen).
    this.#el.panel.parentElement?.classList.toggle('studio', on);
    clearTimeout(this.#retry);
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
    if (on) this.#open();
  }

  #open(): void {
    const { url, protocols } = socketUrl({ target: 'preview', bus: 'preview', format: 'binary', quality: 'medium' }, this.token());
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === 'string' || e.data.byteLength <= PREVIEW_HEADER_BYTES) return;
      const frame = new DataView(e.data).getUint32(4, true);
      this.#view.show(new Blob([e.data.slice(PREVIEW_HEADER_BYTES)], { type: 'image/jpeg' }), frame);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#retry = window.setTimeout(() => {
        if (this.#el.toggle.checked && !this.#ws) this.#open();
      }, RETRY_MS);
    };
  }
}
