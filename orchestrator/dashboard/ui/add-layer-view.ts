import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { AssetMeta } from '../../../shared/state-doc.js';
import { busy, el, labelled, type PageContext } from './dom.js';

/** The content types a layer can have (shared/scene.ts `LayerContentSchema`). */
const TYPES = ['color', 'image', 'text', 'character', 'chat', 'video'] as const;
type ContentType = (typeof TYPES)[number];
const LAYER_ID = '[A-Za-z0-9_\\-]{1,64}';
/** The bundled host picture (assets/characters/). */
const HOST = 'assets/characters/auctioneer.png';

/**
 * "Add a layer": one form for each content type (the fields of the chosen type show), to the
 * program or, in studio mode, to the preview scene (`POST /stream/layers` or
 * `/stream/preview/layers`). Position and size are frame pixels; an empty size is the content's own.
 */
export class AddLayerView {
  readonly #form: HTMLFormElement;
  readonly #target: HTMLSelectElement;
  readonly #asset: HTMLSelectElement;
  readonly #video: HTMLInputElement;
  readonly #f: Record<string, HTMLInputElement | HTMLSelectElement> = {};

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
    /** Called with a layer added to the program. */
    private readonly added: (layer: Layer) => void,
  ) {
    const num = (name: string, value: string, min: string, max: string): HTMLInputElement =>
      (this.#f[name] = el('input', { type: 'number', name, value, min, max, step: 'any' }));
    const text = (name: string, value: string, max: number, placeholder = ''): HTMLInputElement =>
      (this.#f[name] = el('input', { type: 'text', name, value, maxLength: max, placeholder }));
    const type = el('select', { name: 'type', id: 'add-type' }, ...TYPES.map((t) => el('option', { value: t, textContent: t })));
    this.#target = el(
      'select',
      { id: 'add-target' },
      el('option', { value: '', textContent: 'program' }),
      el('option', { value: '/preview', textContent: 'preview' }),
    );
    this.#asset = el('select', { name: 'asset' });
    this.#video = text('videoSrc', '', 2048, 'video asset id or http(s)/rtmp/srt URL');
    const id = text('id', '', 64, 'id (optional)');
    id.pattern = LAYER_ID;
    id.id = 'add-id';
    const group = (t: ContentType | 'box', ...children: HTMLElement[]): HTMLFieldSetElement => {
      const f = el('fieldset', { className: `add-${t}` }, ...children);
      f.dataset['for'] = t;
      return f;
    };
    const color = (this.#f['color'] = el('input', { type: 'color', name: 'color', value: '#e5484d' }));
    const textColor = (this.#f['textColor'] = el('input', { type: 'color', name: 'textColor', value: '#ffffff' }));
    const submit = el('button', { type: 'submit', id: 'add-layer', textContent: 'Add layer' });
    this.#form = el(
      'form',
      { id: 'add-form' },
      el('div', { className: 'inline' }, labelled('Type', type), labelled('To', this.#target), labelled('Id', id)),
      group(
        'box',
        labelled('x', num('x', '0', '-16384', '16384')),
        labelled('y', num('y', '0', '-16384', '16384')),
        labelled('w', num('width', '', '1', '16384')),
        labelled('h', num('height', '', '1', '16384')),
        labelled('z', num('zIndex', '10', '-1000000', '1000000')),
      ),
      group('color', labelled('Colour', color)),
      group('image', labelled('Image', this.#asset)),
      group(
        'text',
        labelled('Text', text('content', 'Lot {lot}', 4096)),
        labelled('Size', num('fontSize', '32', '1', '1000')),
        labelled('Colour', textColor),
      ),
      group('character', labelled('Picture', text('modelUrl', HOST, 512))),
      group('chat', labelled('Messages', num('maxMessages', '6', '1', '50')), labelled('Width', num('chatWidth', '480', '1', '16384'))),
      group(
        'video',
        labelled('Source', this.#video),
        labelled('Loop', (this.#f['loop'] = el('input', { type: 'checkbox', name: 'loop', checked: true }))),
      ),
      submit,
    );
    const show = (): void => {
      for (const f of this.#form.querySelectorAll<HTMLFieldSetElement>('fieldset[data-for]')) {
        f.hidden = f.dataset['for'] !== 'box' && f.dataset['for'] !== type.value;
        f.disabled = f.hidden; // hidden fields are not validated
      }
    };
    type.addEventListener('change', show);
    show();
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!this.#form.reportValidity()) return;
      void busy(submit, () => this.#add(type.value as ContentType, id.value));
    });
    root.append(this.#form);
  }

  /** Studio mode on or off: the preview is offered as a target only while it is on. */
  setStudio(on: boolean): void {
    (this.#target.options[1] as HTMLOptionElement).disabled = !on;
    if (!on) this.#target.value = '';
  }

  /** The uploaded images (for image layers) and videos (offered as the video source). */
  setAssets(assets: AssetMeta[]): void {
    const images = assets.filter((a) => a.kind === 'image');
    const chosen = this.#asset.value;
    this.#asset.replaceChildren(
      el('option', { value: HOST, textContent: 'auctioneer.png (bundled)' }),
      ...images.map((a) => el('option', { value: a.id, textContent: a.name || a.id.slice(0, 12) })),
    );
    if ([...this.#asset.options].some((o) => o.value === chosen)) this.#asset.value = chosen;
    const video = assets.find((a) => a.kind === 'video');
    if (video && !this.#video.value) this.#video.value = video.id;
  }

  /** The layer body the form describes. */
  #body(type: ContentType, id: string): Record<string, unknown> {
    const v = (name: string): string => this.#f[name]!.value;
    const n = (name: string): number | undefined => (v(name) === '' ? undefined : Number(v(name)));
    const transform: Record<string, number> = { x: n('x') ?? 0, y: n('y') ?? 0 };
    for (const k of ['width', 'height']) if (n(k) !== undefined) transform[k] = n(k)!;
    const content =
      type === 'color'
        ? { type, color: v('color') }
        : type === 'image'
          ? { type, src: this.#asset.value }
          : type === 'text'
            ? {
                type,
                content: v('content'),
                style: { fontSize: n('fontSize') ?? 32, color: v('textColor'), background: 'rgba(0,0,0,0.6)' },
              }
            : type === 'character'
              ? { type, modelUrl: v('modelUrl'), animations: { idle: 'idle', talking: 'talking' } }
              : type === 'chat'
                ? { type, maxMessages: n('maxMessages') ?? 6, width: n('chatWidth') ?? 480 }
                : { type, src: v('videoSrc'), loop: (this.#f['loop'] as HTMLInputElement).checked };
    return { ...(id ? { id } : {}), zIndex: n('zIndex') ?? 10, transform, content };
  }

  async #add(type: ContentType, id: string): Promise<void> {
    const target = this.#target.value;
    try {
      const layer = await this.ctx.api.request<Layer>('POST', `${target}/layers`, this.#body(type, id));
      this.ctx.say(`Added ${type} layer ${layer.id} to the ${target ? 'preview' : 'program'}.`, 'info');
      if (!target) this.added(layer);
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
