import type { Api } from './api.js';
import { el } from './dom.js';
import { WhepPlayer } from './whep-player.js';

/** The elements of the WebRTC row (index.html `#webrtc`). */
export interface WebrtcElements {
  row: HTMLElement;
  select: HTMLSelectElement;
  play: HTMLButtonElement;
  caption: HTMLElement;
  video: HTMLVideoElement;
}

/**
 * WebRTC: plays a `webrtc` output by WHEP (`/stream/whep/:id`) in a `<video>`; the row is hidden
 * while there is no such output. The caption says `connecting…` until the connection is up, then
 * `playing <id>`; a start that fails, or a connection that fails later, puts the button back to Play.
 */
export class WebrtcView {
  readonly #whep: WhepPlayer;

  constructor(
    private readonly el: WebrtcElements,
    private readonly api: Api,
    private readonly token: () => string | null,
    fail: (err: unknown) => void,
  ) {
    let id = '';
    this.#whep = new WhepPlayer(el.video, (event) => {
      el.caption.textContent = event === 'connected' ? `playing ${id}` : `the connection to ${id} failed`;
      this.#show();
    });
    el.play.addEventListener('click', async () => {
      el.play.disabled = true;
      try {
        if (this.#whep.playing) {
          await this.#whep.stop();
          el.caption.textContent = '';
        } else {
          id = el.select.value;
          el.caption.textContent = 'connecting…';
          await this.#whep.start(`/stream/whep/${encodeURIComponent(id)}`, this.token());
          if (this.#whep.connected) el.caption.textContent = `playing ${id}`;
        }
      } catch (err) {
        el.caption.textContent = '';
        fail(err);
      } finally {
        this.#show();
        el.play.disabled = false;
      }
    });
  }

  /** The video and the button's label as the player is: Stop while it plays (or connects), else Play. */
  #show(): void {
    this.el.video.hidden = !this.#whep.playing;
    this.el.play.textContent = this.#whep.playing ? 'Stop' : 'Play';
  }

  /** Reads the outputs again and offers the `webrtc` ones. */
  async refresh(): Promise<void> {
    try {
      const { outputs } = await this.api.request<{ outputs: { id: string; kind: string }[] }>('GET', '/outputs');
      const ids = outputs.filter((o) => o.kind === 'webrtc').map((o) => o.id);
      const chosen = this.el.select.value;
      this.el.select.replaceChildren(...ids.map((id) => el('option', { value: id, textContent: id })));
      if (ids.includes(chosen)) this.el.select.value = chosen;
      this.el.row.hidden = ids.length === 0;
    } catch {
      // The outputs stay as they were; the page's refresh reports what is wrong.
    }
  }
}
