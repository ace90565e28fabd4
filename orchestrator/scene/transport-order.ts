import type { MediaAction } from '../../shared/media.js';

/**
 * The media actions a batch applies to the sources, from all of its `media` ops in op order: per
 * layer (in the order of its first op), its last `seek` or `restart`, then its last `play` or `pause`.
 */
export function transportOrder(actions: readonly { id: string; action: MediaAction }[]): { id: string; action: MediaAction }[] {
  const byLayer = new Map<string, { jump?: MediaAction; transport?: MediaAction }>();
  for (const { id, action } of actions) {
    const entry = byLayer.get(id) ?? {};
    if (action.action === 'seek' || action.action === 'restart') entry.jump = action;
    else entry.transport = action;
    byLayer.set(id, entry);
  }
  return [...byLayer].flatMap(([id, e]) => [e.jump, e.transport].filter((a) => a !== undefined).map((action) => ({ id, action })));
}
