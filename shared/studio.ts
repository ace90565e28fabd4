import { z } from 'zod';
import { ActivateSceneSchema } from './scenes.js';
import { LayerViewSchema } from './layer-view.js';

/**
 * The two scenes of studio mode (OBS's and vMix's preview / program): `program` is on air (the
 * outputs, `/stream/layers`), `preview` is the off-air scene prepared for the next take
 * (`/stream/preview/layers`).
 */
export const BusSchema = z.enum(['program', 'preview']);
export type Bus = z.infer<typeof BusSchema>;

/**
 * `POST /stream/take`: the preview becomes the program, with a `cut` (one frame shows the old
 * program, the next the new one) or a `crossfade` over `durationMs` (ms, 0..60000; default 1000)
 * eased by `easing` (default linear); the old program becomes the new preview. The same
 * transitions as a scene activation.
 */
export const TakeSchema = ActivateSceneSchema;
export type Take = z.infer<typeof TakeSchema>;

/**
 * `POST /stream/take`'s answer: the state version of the take, the transition run, and the
 * layers now on the program and on the preview (video layers with their `media`).
 */
export const TakeAnswerSchema = z.strictObject({
  version: z.number().int(),
  transition: z.enum(['cut', 'crossfade']),
  durationMs: z.number().int().nonnegative(),
  program: z.array(LayerViewSchema),
  preview: z.array(LayerViewSchema),
});
export type TakeAnswer = z.infer<typeof TakeAnswerSchema>;
