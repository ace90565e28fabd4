import type { AssetMeta } from '../../../shared/state-doc.js';
import { el, type PageContext } from './dom.js';

/**
 * Assets: the upload form (`POST /stream/assets/upload`, with progress) and the list of uploaded
 * files (`GET /stream/assets`); each new list goes to `changed` (the views offering assets).
 */
export class AssetsView {
  constructor(
    private readonly list: HTMLUListElement,
    form: HTMLFormElement,
    file: HTMLInputElement,
    progress: HTMLProgressElement,
    private readonly ctx: PageContext,
    private readonly changed: (assets: AssetMeta[]) => void,
  ) {
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) return ctx.say('Choose a file to upload first.');
      progress.hidden = false;
      progress.value = 0;
      try {
        const asset = await ctx.api.upload(chosen, (f) => (progress.value = f));
        ctx.say(`Uploaded ${asset.name || chosen.name} (${asset.kind}).`, 'info');
        await this.refresh();
      } catch (err) {
        ctx.fail(err);
      } finally {
        progress.hidden = true;
      }
    });
  }

  /** Reads the assets again. @throws ApiError when the server refuses or cannot be reached */
  async refresh(): Promise<void> {
    this.show((await this.ctx.api.request<{ assets: AssetMeta[] }>('GET', '/assets')).assets);
  }

  show(assets: AssetMeta[]): void {
    this.changed(assets);
    this.list.replaceChildren(
      ...assets.map((a) => {
        const li = el('li', {
          textContent: `${a.name || a.id.slice(0, 12)} · ${a.kind}${a.width ? ` ${a.width}x${a.height}` : ''} · ${Math.ceil(a.bytes / 1024)} KiB`,
        });
        li.title = a.id;
        return li;
      }),
    );
  }
}
