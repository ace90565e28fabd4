import { z } from 'zod';
import { MediaStatusSchema } from './media.js';
import { LayerSchema } from './scene.js';

/**
 * A layer as the API answers it (REST and WebSocket): the stored layer, plus, for a video layer,
 * `media`, the state of its source (read-only: never stored, dropped from request bodies).
 */
export const LayerViewSchema = LayerSchema.extend({ media: MediaStatusSchema.optional() });
export type LayerView = z.infer<typeof LayerViewSchema>;

/** Fields the API adds to a layer in its answers and ignores in request bodies. */
export const READ_ONLY_LAYER_FIELDS = ['media'] as const;

/**
 * A layer body without its read-only fields ({@link READ_ONLY_LAYER_FIELDS}), so that a layer read
 * from the API can be written back as it is. Anything but a plain object comes back unchanged (the
 * schema then says what is wrong with it).
 */
export function withoutReadOnly(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  if (!READ_ONLY_LAYER_FIELDS.some((f) => Object.hasOwn(body, f))) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const f of READ_ONLY_LAYER_FIELDS) delete copy[f];
  return copy;
}

/**
 * A body holding `layers` (`PUT /stream/scene`, `PUT /stream/scenes/:name`) with each layer
 * passed through {@link withoutReadOnly}; anything else comes back unchanged.
 */
export function layersWithoutReadOnly(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const layers = (body as { layers?: unknown }).layers;
  if (!Array.isArray(layers)) return body;
  return { ...(body as Record<string, unknown>), layers: layers.map(withoutReadOnly) };
}
