import { z } from 'zod';
import { TweenSchema, type Tween } from './animation.js';
import { LayerSchema, type LayerCreate } from './scene.js';

/**
 * The body of `PATCH /stream/layers/:id` as a schema: a JSON Merge Patch (RFC 7396) of a layer,
 * so every field at every depth may be left out or set to `null` (removed: back to its default),
 * plus `transition` (a tween of `transform` and `opacity`). The server merges the patch into the
 * layer and validates the result whole with `LayerSchema` (orchestrator/scene/scene-store.ts);
 * this schema describes what a patch may hold, for the OpenAPI document and typed clients.
 */

/** A merge patch of `T`: each field optional and nullable, objects patched the same way, arrays and scalars whole. */
export type MergePatch<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: MergePatch<T[K]> | null } : T;

/** A layer patch: a merge patch of a layer, and an optional tween. */
export type LayerPatch = MergePatch<LayerCreate> & { transition?: z.input<typeof TweenSchema> | null };
export type { Tween };

/** `schema` without its default, optional and nullable wrappers. */
function bare(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s;
}

/**
 * The merge-patch schema of `schema`: a (strict) object becomes a strict object of optional,
 * nullable patches of its fields; a discriminated union of objects, the union of their patches
 * (the discriminator optional too: a patch that leaves `type` out patches the content in place);
 * anything else is taken whole.
 */
export function mergePatchSchema(schema: z.ZodType): z.ZodType {
  const s = bare(schema);
  if (s instanceof z.ZodObject) {
    const shape: Record<string, z.ZodType> = {};
    for (const [key, field] of Object.entries(s.shape as Record<string, z.ZodType>))
      shape[key] = mergePatchSchema(field).nullable().optional();
    return z.strictObject(shape);
  }
  if (s instanceof z.ZodDiscriminatedUnion) {
    const options = (s.options as z.ZodType[]).map(mergePatchSchema);
    return z.union(options as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  }
  return s;
}

/** `PATCH /stream/layers/:id`: see the module comment. */
export const LayerPatchSchema = (mergePatchSchema(LayerSchema) as z.ZodObject).extend({
  transition: TweenSchema.nullable().optional(),
}) as unknown as z.ZodType<LayerPatch, LayerPatch>;
