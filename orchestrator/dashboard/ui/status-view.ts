import type { OutputStatus } from '../../../shared/output-status.js';
import type { StreamState } from '../../../shared/stream-state.js';
import { formatBitrate, formatDuration } from './format.js';

/** What the status panel shows; filled from WS `stateUpdate`/`metricsUpdate`/`outputUpdate` or a polled `/stream/status`. */
export interface StatusModel {
  stream: StreamState | null;
  viewers: number | null;
  bitrateBps: number | null;
  outputs: OutputStatus[];
}

/** Writes a `StatusModel` into the `<dl id="stats">` cells (`[data-stat=...]`) and the state badge. */
export class StatusView {
  constructor(
    private readonly root: HTMLElement,
    private readonly badge: HTMLElement,
  ) {}

  #cell(name: string, text: string): void {
    const cell = this.root.querySelector<HTMLElement>(`[data-stat="${name}"]`);
    if (cell && cell.textContent !== text) cell.textContent = text;
  }

  render(m: StatusModel): void {
    const s = m.stream;
    const state = !s ? 'unknown' : !s.isLive ? 'stopped' : s.isPaused ? 'paused' : 'live';
    this.badge.textContent = state;
    this.badge.dataset['state'] = state;
    this.#cell('fps', s ? `${s.fps.toFixed(1)} / ${s.targetFPS}` : '–');
    this.#cell('dropped', s ? String(s.droppedFrames) : '–');
    this.#cell('frames', s ? String(s.frameCount) : '–');
    this.#cell('render', s ? `${s.averageRenderTime.toFixed(2)} ms` : '–');
    const main = m.outputs[0];
    this.#cell('bitrate', formatBitrate(m.bitrateBps ?? main?.bitrateBps));
    this.#cell('viewers', m.viewers === null ? '–' : String(m.viewers));
    this.#cell('uptime', s?.isLive && s.startTime ? formatDuration(Date.now() - s.startTime) : '–');
    this.#cell(
      'outputs',
      m.outputs.length ? m.outputs.map((o) => `${o.id}: ${o.state}${o.restarts ? ` (${o.restarts} restarts)` : ''}`).join(', ') : '–',
    );
    this.#cell('error', s?.error ?? '');
    const errorRow = this.root.querySelector<HTMLElement>('[data-stat="error"]')?.parentElement;
    if (errorRow) errorRow.hidden = !s?.error;
  }
}
