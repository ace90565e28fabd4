import type { Logger } from 'pino';
import type { SceneStore } from '../scene/scene-store.js';
import type { Animator } from './animator.js';

/**
 * A host (character layer) whose timed animation is over goes back to `idle` in the state too,
 * so that clients and the stored scene see what the stream shows. A layer that is gone, or no
 * longer an animating host, is left alone.
 */
export function idleHostsAfterAnimations(animator: Animator, scene: SceneStore, log: Logger): void {
  animator.on('revert', (id) => {
    try {
      const layer = scene.get(id);
      if (layer.content.type === 'character' && layer.content.animation !== 'idle') scene.patch(id, { content: { animation: 'idle' } });
    } catch (err) {
      log.debug({ err, layerId: id }, 'host animation revert skipped');
    }
  });
}
