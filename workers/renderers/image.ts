import type { LayerContent } from '../../shared/scene.js';
import type { PreparedContent, RenderEnv } from './types.js';

type ImageContent = Extract<LayerContent, { type: 'image' }>;

/** A picture scaled to its box; its natural size is the picture's. */
export async function prepareImage(content: ImageContent, env: RenderEnv): Promise<PreparedContent> {
  const image = await env.images.get(content.src);
  return {
    natural: { width: image.width, height: image.height },
    draw(ctx, width, height) {
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(image, 0, 0, width, height);
    },
  };
}
