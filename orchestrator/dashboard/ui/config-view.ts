import { busy, el, labelled, CONFIRM_MS, type PageContext } from './dom.js';

/** The part of `GET /stream/config` this panel edits. */
export interface ConfigBody {
  width: number;
  height: number;
  targetFPS: number;
  encoder: { preset: string; bitrateKbps: number };
  /** The master bus (absent: volume 1, not muted); shown by the audio meters. */
  audio?: { volume: number; muted: boolean };
}

/** x264 presets, fastest first (shared/stream-config.ts `X264_PRESETS`). */
const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

/**
 * Config: canvas size, target FPS and the encoder's preset and bitrate (`PATCH /stream/config`,
 * only the fields that changed). While live such a change restarts the encoder, so Apply then asks
 * for a second click. The fields carry the server's limits (even sizes 16..7680 x 16..4320, 1..120
 * FPS, 100..100000 kbit/s); out-of-range values are refused before anything is sent.
 */
export class ConfigView {
  readonly #fields: Record<'width' | 'height' | 'targetFPS' | 'bitrateKbps', HTMLInputElement>;
  readonly #preset: HTMLSelectElement;
  readonly #apply: HTMLButtonElement;
  #config: ConfigBody | null = null;
  #armed: number | undefined;

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
    private readonly isLive: () => boolean,
    /** Called with the new config (the stage follows the canvas size). */
    private readonly changed: (config: ConfigBody) => void,
  ) {
    const num = (id: string, min: number, max: number, step: number): HTMLInputElement =>
      el('input', { id: `config-${id}`, type: 'number', required: true, min: String(min), max: String(max), step: String(step) });
    this.#fields = {
      width: num('width', 16, 7680, 2),
      height: num('height', 16, 4320, 2),
      targetFPS: num('fps', 1, 120, 1),
      bitrateKbps: num('bitrate', 100, 100_000, 1),
    };
    this.#preset = el('select', { id: 'config-preset' }, ...PRESETS.map((p) => el('option', { value: p, textContent: p })));
    this.#apply = el('button', { type: 'submit', id: 'config-apply', textContent: 'Apply' });
    const f = this.#fields;
    const form = el(
      'form',
      { id: 'config-form', className: 'inline', noValidate: false },
      labelled('Width', f.width),
      labelled('Height', f.height),
      labelled('FPS', f.targetFPS),
      labelled('Preset', this.#preset),
      labelled('kbit/s', f.bitrateKbps),
      this.#apply,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return this.ctx.say('Check the config: a value is out of range.');
      const patch = this.#patch();
      if (!patch) return this.ctx.say('Nothing to change.', 'info');
      if (this.isLive() && this.#armed === undefined) {
        this.#apply.textContent = 'Confirm: restarts the encoder';
        this.#apply.classList.add('armed');
        this.#armed = window.setTimeout(() => this.#disarm(), CONFIRM_MS);
        return;
      }
      this.#disarm();
      void busy(this.#apply, () => this.#send(patch));
    });
    root.append(form);
  }

  #disarm(): void {
    clearTimeout(this.#armed);
    this.#armed = undefined;
    this.#apply.textContent = 'Apply';
    this.#apply.classList.remove('armed');
  }

  /** The changed fields as a `PATCH /stream/config` body, or null when nothing changed. */
  #patch(): Record<string, unknown> | null {
    const c = this.#config;
    if (!c) return null;
    const f = this.#fields;
    const patch: Record<string, unknown> = {};
    for (const k of ['width', 'height', 'targetFPS'] as const) if (Number(f[k].value) !== c[k]) patch[k] = Number(f[k].value);
    const encoder: Record<string, unknown> = {};
    if (this.#preset.value !== c.encoder.preset) encoder['preset'] = this.#preset.value;
    if (Number(f.bitrateKbps.value) !== c.encoder.bitrateKbps) encoder['bitrateKbps'] = Number(f.bitrateKbps.value);
    if (Object.keys(encoder).length) patch['encoder'] = encoder;
    return Object.keys(patch).length ? patch : null;
  }

  async #send(patch: Record<string, unknown>): Promise<void> {
    try {
      this.#show(await this.ctx.api.request<ConfigBody>('PATCH', '/config', patch));
      this.ctx.say(`Config changed: ${Object.keys(patch).join(', ')}.`, 'info');
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  #show(c: ConfigBody): void {
    this.#config = c;
    this.#fields.width.value = String(c.width);
    this.#fields.height.value = String(c.height);
    this.#fields.targetFPS.value = String(c.targetFPS);
    this.#fields.bitrateKbps.value = String(c.encoder.bitrateKbps);
    this.#preset.value = c.encoder.preset;
    this.changed(c);
  }

  async refresh(): Promise<void> {
    try {
      this.#show(await this.ctx.api.request<ConfigBody>('GET', '/config'));
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
