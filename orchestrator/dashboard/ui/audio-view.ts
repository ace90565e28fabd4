import type { AudioLevel, AudioLevelsPayload } from '../../../shared/audio.js';
import type { LayerView as Layer } from '../../../shared/layer-view.js';
import { busy, el, enc, type PageContext } from './dom.js';
import { needs } from './role.js';

/** The meters' scale, dBFS: a bar is empty at {@link FLOOR_DB} and full at 0 dBFS. */
const FLOOR_DB = -60;
/** Without a message for this long (the program stopped mixing), ms, the meters go blank. */
const STALE_MS = 600;

/** The master bus as `GET /stream/config` answers it (`audio` absent: volume 1, not muted). */
interface ConfigAudio {
  audio?: { volume: number; muted: boolean };
}

/** A bar's fill for `db` dBFS, 0..1 on the {@link FLOOR_DB}..0 scale. */
function fill(db: number): number {
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
}

/** One meter: peak and RMS bars and their numbers, and a Mute button. */
class Meter {
  readonly row: HTMLLIElement;
  readonly #peak: HTMLSpanElement;
  readonly #rms: HTMLSpanElement;
  readonly #value: HTMLSpanElement;
  readonly #title: HTMLSpanElement;
  readonly mute: HTMLButtonElement;
  #muted = false;

  constructor(id: string, label: string, onMute: (muted: boolean) => Promise<void>) {
    this.#peak = el('span', { className: 'meter-peak' });
    this.#rms = el('span', { className: 'meter-rms' });
    this.#value = el('span', { className: 'meter-value', textContent: '–' });
    this.mute = el('button', { type: 'button', className: 'audio-mute', textContent: 'Mute' });
    this.mute.addEventListener('click', () => void busy(this.mute, () => onMute(!this.#muted)));
    const bar = el('span', { className: 'meter' }, this.#peak, this.#rms);
    bar.setAttribute('aria-hidden', 'true');
    this.#title = el('span', { className: 'title', textContent: label });
    this.row = el('li', { className: 'audio-source' }, this.#title, bar, this.#value, this.mute);
    this.row.dataset['id'] = id;
    this.set(null);
  }

  /** Shows `level` (null: none yet): bars by transform (no layout), the numbers as text. */
  set(level: AudioLevel | null): void {
    const peak = level?.peakDb ?? -120;
    const rms = level?.rmsDb ?? -120;
    this.#peak.style.transform = `scaleX(${fill(peak)})`;
    this.#rms.style.transform = `scaleX(${fill(rms)})`;
    this.row.dataset['rms'] = rms.toFixed(1);
    this.row.dataset['peak'] = peak.toFixed(1);
    this.#value.textContent = level ? `${rms <= -120 ? '-∞' : rms.toFixed(1)} / ${peak <= -120 ? '-∞' : peak.toFixed(1)} dB` : '–';
  }

  /** The row's name (a layer renamed). */
  setLabel(label: string): void {
    if (this.#title.textContent !== label) this.#title.textContent = label;
  }

  setMuted(muted: boolean): void {
    if (muted === this.#muted && this.row.dataset['muted'] !== undefined) return;
    this.#muted = muted;
    this.row.dataset['muted'] = muted ? '1' : '0';
    this.row.classList.toggle('muted', muted);
    this.mute.textContent = muted ? 'Unmute' : 'Mute';
    this.mute.setAttribute('aria-pressed', String(muted));
  }
}

/**
 * Audio: a meter per sound source (every `audio` layer, and each `video` layer once the mixer
 * meters it, i.e. it has a sound stream) and one for the master bus, from WS `audioLevels` (channel
 * `audio`, about 10 a second while the program mixes): peak and RMS bars on a -60..0 dBFS scale with
 * the numbers (RMS / peak). Mute on a source is `PATCH /stream/layers/:id {audio: {muted}}`
 * (operator); on the master `PATCH /stream/config {audio: {muted}}` (admin). The muted states come
 * from the layers and the config. Rows are rebuilt only when the set of sources changes; a
 * message only sets transforms and texts; without one for 600 ms (the program stopped mixing)
 * the meters go blank (`–`).
 */
export class AudioView {
  readonly #list: HTMLOListElement;
  readonly #master: Meter;
  readonly #meters = new Map<string, Meter>();
  /** Video layers the mixer has metered (they have sound). */
  readonly #metered = new Set<string>();
  #layers: Layer[] = [];
  #stale: number | undefined;

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
  ) {
    this.#master = new Meter('master', 'Master', (muted) => this.#muteMaster(muted));
    this.#master.row.id = 'audio-master';
    needs(this.#master.row, 'admin');
    this.#list = el('ol', { id: 'audio-sources', className: 'rows' });
    needs(this.#list, 'operator');
    root.append(el('ol', { className: 'rows' }, this.#master.row), this.#list);
  }

  /** The config as read or changed (the config panel's `GET /stream/config`, an answer, a full `stateUpdate`): the master's mute follows. */
  setConfig(config: ConfigAudio): void {
    this.#master.setMuted(config.audio?.muted ?? false);
  }

  /** The program's layers: a row per sound source, its Mute from `audio.muted`. */
  setLayers(list: Layer[]): void {
    this.#layers = list;
    this.#rows();
  }

  /** One `audioLevels` message. */
  levels(p: AudioLevelsPayload): void {
    this.#master.set(p.master);
    let added = false;
    for (const id of Object.keys(p.sources)) {
      if (this.#meters.has(id) || this.#metered.has(id)) continue;
      this.#metered.add(id);
      added = true;
    }
    if (added) this.#rows();
    for (const [id, m] of this.#meters) m.set(p.sources[id] ?? null);
    clearTimeout(this.#stale);
    this.#stale = window.setTimeout(() => {
      this.#master.set(null);
      for (const m of this.#meters.values()) m.set(null);
    }, STALE_MS);
  }

  #rows(): void {
    const sources = this.#layers.filter((l) => l.content.type === 'audio' || (l.content.type === 'video' && this.#metered.has(l.id)));
    const ids = sources.map((l) => l.id);
    for (const id of this.#metered) if (!this.#layers.some((l) => l.id === id)) this.#metered.delete(id);
    for (const id of [...this.#meters.keys()]) if (!ids.includes(id)) this.#meters.delete(id);
    const rows = sources.map((l) => {
      let m = this.#meters.get(l.id);
      if (!m) {
        m = new Meter(l.id, l.name || l.id, (muted) => this.#muteLayer(l.id, muted));
        this.#meters.set(l.id, m);
      }
      m.setLabel(l.name || l.id);
      m.setMuted(l.audio?.muted ?? false);
      return m.row;
    });
    const same = rows.length === this.#list.children.length && rows.every((r, i) => this.#list.children[i] === r);
    if (!same) this.#list.replaceChildren(...rows);
  }

  async #muteLayer(id: string, muted: boolean): Promise<void> {
    try {
      const layer = await this.ctx.api.request<Layer>('PATCH', `/layers/${enc(id)}`, { audio: { muted } });
      this.#meters.get(id)?.setMuted(layer.audio?.muted ?? false);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async #muteMaster(muted: boolean): Promise<void> {
    try {
      this.setConfig(await this.ctx.api.request<ConfigAudio>('PATCH', '/config', { audio: { muted } }));
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
