import { parseColor } from '../../shared/color.js';
import type { LayerContent } from '../../shared/scene.js';
import type { PreparedContent, RenderEnv } from './types.js';

type ColorContent = Extract<LayerContent, { type: 'color' }>;

/** A colour box; its natural size is the canvas. */
export function prepareColor(content: ColorContent, env: RenderEnv): PreparedContent {
  return {
    natural: env.canvas,
    opaqueHint: parseColor(content.color).a === 1,
    draw(ctx, width, height) {
      ctx.fillStyle = content.color;
      ctx.fillRect(0, 0, width, height);
    },
  };
}
