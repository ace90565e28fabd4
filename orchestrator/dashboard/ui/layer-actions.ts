import type { LayerView as Layer } from '../../../shared/layer-view.js';
import type { Api } from './api.js';
import { moveChanges, type LayerAction } from './layers-view.js';

/**
 * Sends one action of the layer list to the API.
 * @param layers the layers shown now (a move swaps z-index with a neighbour among them)
 * @returns the layers the server answered with (their new state), and the id deleted, if any
 * @throws ApiError when the server refuses or cannot be reached
 */
export async function runLayerAction(api: Api, layers: Layer[], a: LayerAction): Promise<{ changed: Layer[]; deleted: string | null }> {
  const path = `/layers/${encodeURIComponent(a.id)}`;
  const patch = (id: string, body: unknown): Promise<Layer> => api.request<Layer>('PATCH', `/layers/${encodeURIComponent(id)}`, body);
  switch (a.kind) {
    case 'visible':
      return { changed: [await api.request<Layer>('POST', `${path}/visibility`, { visible: a.visible })], deleted: null };
    case 'opacity':
      return { changed: [await patch(a.id, { opacity: a.opacity })], deleted: null };
    case 'text':
      return { changed: [await patch(a.id, { content: { content: a.content } })], deleted: null };
    case 'image':
      return { changed: [await patch(a.id, { content: { src: a.src } })], deleted: null };
    case 'media':
      return { changed: [await api.request<Layer>('POST', `${path}/media`, { action: a.action })], deleted: null };
    case 'move': {
      const changed: Layer[] = [];
      for (const c of moveChanges(layers, a.id, a.direction)) changed.push(await patch(c.id, { zIndex: c.zIndex }));
      return { changed, deleted: null };
    }
    case 'delete':
      await api.request('DELETE', path);
      return { changed: [], deleted: a.id };
  }
}
