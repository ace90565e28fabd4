import { z } from 'zod';
import { EasingSchema } from './animation.js';
import { StreamConfigSchema } from './stream-config.js';
import { LayerCreateSchema, LayerSchema } from './scene.js';
import { LIMITS } from './limits.js';
import { ownRecord } from './own-record.js';

/**
 * Named scenes: sets of layers saved in the state store (Redis key `stream:scenes`), plus the
 * read-only templates in `assets/scenes/*.json`. Activating one replaces the live layers.
 */

/** A scene name: 1-64 characters of `[A-Za-z0-9_-]`. */
export const SceneNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

/** Most layers in one scene (as `PUT /stream/scene`). */
const MAX_LAYERS = LIMITS.layersPerScene;

/** Unique ids in a list of layers. */
function uniqueIds(layers: { id?: string | undefined }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  layers.forEach((l, i) => {
    if (l.id === undefined) return;
    if (seen.has(l.id)) ctx.addIssue({ code: 'custom', path: ['layers', i, 'id'], message: `Duplicate layer id "${l.id}"` });
    seen.add(l.id);
  });
}

/**
 * The body of `PUT /stream/scenes/:name`: its layers (ids may be left for the server to assign),
 * or no `layers` to save the live scene as it is now.
 */
export const ScenePutSchema = z
  .strictObject({ layers: z.array(LayerCreateSchema).max(MAX_LAYERS).optional() })
  .superRefine((b, ctx) => uniqueIds(b.layers ?? [], ctx));

/**
 * A template file in `assets/scenes/`: layers laid out for `canvas`; activated on another canvas
 * size, positions and sizes are scaled to it.
 */
export const SceneTemplateSchema = z
  .strictObject({
    name: z.string().max(256).optional(),
    canvas: StreamConfigSchema.pick({ width: true, height: true }),
    layers: z.array(LayerCreateSchema).max(MAX_LAYERS),
  })
  .superRefine((b, ctx) => uniqueIds(b.layers, ctx));
export type SceneTemplate = z.infer<typeof SceneTemplateSchema>;

/**
 * What the store keeps: saved scenes by name (an object without prototype that keeps every name,
 * `__proto__` and `constructor` included; see own-record.ts), and the name of the scene last activated.
 */
export const ScenesStateSchema = z.strictObject({
  active: SceneNameSchema.nullable(),
  scenes: ownRecord(SceneNameSchema, z.array(LayerSchema).max(MAX_LAYERS))
    .refine((s) => Object.keys(s).length <= LIMITS.savedScenes, { message: `At most ${LIMITS.savedScenes} saved scenes` })
    .refine((s) => Object.values(s).reduce((n, l) => n + l.length, 0) <= LIMITS.savedSceneLayers, {
      message: `At most ${LIMITS.savedSceneLayers} layers in all saved scenes together`,
    }),
});
export type ScenesState = z.infer<typeof ScenesStateSchema>;

/**
 * The body of `POST /stream/scenes/:name/activate`: `cut` (default) or `crossfade` over
 * `durationMs` with `easing`.
 */
export const ActivateSceneSchema = z.strictObject({
  transition: z.enum(['cut', 'crossfade']).default('cut'),
  durationMs: z.number().int().min(0).max(60_000).default(1000),
  easing: EasingSchema.default('linear'),
});
export type ActivateScene = z.infer<typeof ActivateSceneSchema>;
