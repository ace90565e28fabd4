import type { MediaStatus } from '../../../shared/media.js';

/**
 * A video layer's transport in the layer list: play, pause and restart buttons, and its state and
 * position. The server sends a status on each change (`mediaUpdate`, `mediaEnded`, answers); in
 * between, while it plays, the position shown moves on by the time since (at the layer's rate).
 */

/** A media action the page sends to `POST /stream/layers/:id/media`. */
export type MediaCommand = 'play' | 'pause' | 'restart';

/** `0:07.4`: minutes, seconds and tenths from ms. */
export function formatPosition(ms: number): string {
  const tenths = Math.max(0, Math.floor(ms / 100));
  const m = Math.floor(tenths / 600);
  const s = Math.floor((tenths % 600) / 10);
  return `${m}:${String(s).padStart(2, '0')}.${tenths % 10}`;
}

/**
 * Where a source is `elapsedMs` after it reported `status`: moved on at `rate` while playing,
 * wrapped when it loops, held at the end of a file that does not; as it was in any other state.
 */
export function positionNow(status: MediaStatus, elapsedMs: number, rate: number, loop: boolean): number {
  if (status.state !== 'playing') return status.positionMs;
  const p = status.positionMs + Math.max(0, elapsedMs) * rate;
  const d = status.durationMs;
  if (d === null || d <= 0) return p;
  return loop ? p % d : Math.min(p, d);
}

/** `playing · 0:07.4 / 0:30.0`, `live · reconnecting · 1:02.0`, `error: why`. */
export function describeMedia(status: MediaStatus, positionMs: number): string {
  const where =
    status.durationMs === null ? formatPosition(positionMs) : `${formatPosition(positionMs)} / ${formatPosition(status.durationMs)}`;
  const size = status.width > 0 ? ` · ${status.width}x${status.height}` : '';
  const error = status.lastError && (status.state === 'error' || status.state === 'reconnecting') ? ` · ${status.lastError}` : '';
  return `${status.state} · ${where}${size}${error}`;
}

function button(command: MediaCommand, label: string, id: string, send: (c: MediaCommand) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `media-${command}`;
  b.textContent = label;
  b.setAttribute('aria-label', `${label} ${id}`);
  b.addEventListener('click', () => send(command));
  return b;
}

/** The transport row of one video layer's item. */
export class MediaControls {
  readonly element: HTMLDivElement;
  readonly #state: HTMLSpanElement;
  #status: MediaStatus | undefined;
  #at = 0;
  #rate = 1;
  #loop = false;

  constructor(id: string, send: (command: MediaCommand) => void) {
    this.element = document.createElement('div');
    this.element.className = 'media';
    this.#state = document.createElement('span');
    this.#state.className = 'media-state';
    this.#state.setAttribute('aria-live', 'polite');
    this.element.append(
      button('play', 'Play', id, send),
      button('pause', 'Pause', id, send),
      button('restart', 'Restart', id, send),
      this.#state,
    );
  }

  /** Shows `status` (as of now); `rate` and `loop` are the layer's, for the position between updates. */
  set(status: MediaStatus | undefined, rate: number, loop: boolean): void {
    this.#rate = rate;
    this.#loop = loop;
    if (status !== this.#status) {
      this.#status = status;
      this.#at = performance.now();
    }
    this.element.dataset['state'] = status?.state ?? 'unknown';
    this.tick();
  }

  /** Moves the position shown on (called a few times a second). */
  tick(): void {
    const s = this.#status;
    this.#state.textContent = s ? describeMedia(s, positionNow(s, performance.now() - this.#at, this.#rate, this.#loop)) : 'no status yet';
  }
}
