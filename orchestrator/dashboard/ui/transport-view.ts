import type { StreamState } from '../../../shared/stream-state.js';
import { confirmButton, type PageContext } from './dom.js';
import { setDisabled } from './role.js';

/**
 * Start, Pause, Resume, Stop and Reset (`POST /stream/<action>`). Each is enabled only when the
 * server would accept it in the last known state (Start while stopped, Pause while live, Resume
 * while paused, Stop while live); Stop and Reset ask for a second click. Unknown state (no answer
 * yet): all disabled.
 */
export class TransportView {
  #state: StreamState | null = null;
  readonly #buttons: Map<string, HTMLButtonElement>;

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
    /** Called with the answer's state after each action. */
    private readonly changed: (state: StreamState) => void,
  ) {
    this.#buttons = new Map([...root.querySelectorAll<HTMLButtonElement>('button[data-action]')].map((b) => [b.dataset['action']!, b]));
    for (const [action, button] of this.#buttons) {
      const confirm = action === 'stop' ? 'Confirm stop' : action === 'reset' ? 'Confirm reset' : null;
      confirmButton(
        button,
        confirm ?? '',
        () => this.#run(action),
        () => confirm !== null,
      );
    }
    this.render(null);
  }

  async #run(action: string): Promise<void> {
    try {
      const state = await this.ctx.api.request<StreamState>('POST', `/${action}`);
      this.ctx.say('');
      this.changed(state);
    } catch (err) {
      this.ctx.fail(err);
    }
    // After busy() has re-enabled the button: back to what the state allows.
    window.setTimeout(() => this.render(this.#state), 0);
  }

  /** Enables the buttons the state allows. */
  render(state: StreamState | null): void {
    this.#state = state;
    const allowed: Record<string, boolean> = {
      start: !!state && !state.isLive,
      pause: !!state && state.isLive && !state.isPaused,
      resume: !!state && state.isLive && state.isPaused,
      stop: !!state && state.isLive,
      reset: !!state,
    };
    for (const [action, button] of this.#buttons) {
      if (!button.dataset['busy']) setDisabled(button, !allowed[action]);
    }
  }
}
