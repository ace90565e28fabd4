import { z } from 'zod';

/**
 * Animation wire types: easings, tweened changes (`transition` on `PATCH /layers/:id`),
 * show/hide transitions, host animations and the `animationEnded` event. Times are ms of scene
 * time (the frame clock's timeline: a frame at scene time t is a pure function of the state and t).
 */

/** The named easings of easings.net (Penner's equations), each in, out and in-out. */
const NAMED_EASINGS = ['quad', 'cubic', 'sine', 'expo', 'back', 'elastic', 'bounce'] as const;
const NAMED_VARIANTS = NAMED_EASINGS.flatMap((n) => [`ease-in-${n}`, `ease-out-${n}`, `ease-in-out-${n}`] as const);

/**
 * An easing: `linear`; the CSS keywords `ease`, `ease-in`, `ease-out`, `ease-in-out`; a CSS
 * `cubic-bezier(x1, y1, x2, y2)` with x1, x2 in 0..1; or a named one (easings.net):
 * `ease-in-quad`, `ease-out-cubic`, `ease-in-out-elastic`, ... for quad, cubic, sine, expo, back,
 * elastic, bounce.
 */
export const EASING_NAMES = ['linear', 'ease', 'ease-in', 'ease-out', 'ease-in-out', ...NAMED_VARIANTS] as readonly string[];
const CUBIC_BEZIER =
  /^cubic-bezier\(\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*,\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*,\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*,\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*\)$/i;

/** The four numbers of a `cubic-bezier(...)` easing, or null when `s` is not one (or x is out of 0..1). */
export function parseCubicBezier(s: string): [number, number, number, number] | null {
  const m = CUBIC_BEZIER.exec(s);
  if (!m) return null;
  const v = m.slice(1, 5).map(Number) as [number, number, number, number];
  if (!v.every(Number.isFinite) || v[0] < 0 || v[0] > 1 || v[2] < 0 || v[2] > 1) return null;
  return v;
}

export const EasingSchema = z
  .string()
  .max(96)
  .refine((s) => EASING_NAMES.includes(s) || parseCubicBezier(s) !== null, {
    message: `Expected linear, ease, ease-in, ease-out, ease-in-out, cubic-bezier(x1,y1,x2,y2), or ease-{in,out,in-out}-{${NAMED_EASINGS.join(',')}}`,
  });
export type Easing = z.infer<typeof EasingSchema>;

/** Longest transition or delay, ms (10 minutes). */
const MAX_MS = 600_000;

/**
 * `transition` on `PATCH /layers/:id` (and batch `patch` ops): the change of `transform`
 * (x, y, width, height, scale, rotation) and `opacity` glides over `durationMs` after `delayMs`
 * instead of jumping. Other fields change at once.
 */
export const TweenSchema = z.strictObject({
  durationMs: z.number().int().min(0).max(MAX_MS),
  easing: EasingSchema.default('linear'),
  delayMs: z.number().int().min(0).max(MAX_MS).default(0),
});
export type Tween = z.infer<typeof TweenSchema>;

/** The frame edge a slide comes in from or goes out to. */
export const EdgeSchema = z.enum(['left', 'right', 'top', 'bottom']);
export type Edge = z.infer<typeof EdgeSchema>;

/**
 * How a layer appears or disappears: `cut` (at once), `fade` (opacity 0 <-> 1) or `slide` (from or
 * to `edge`, travelling one frame width or height), over `durationMs` with `easing`.
 */
export const VisibilityTransitionSchema = z.strictObject({
  type: z.enum(['cut', 'fade', 'slide']),
  durationMs: z.number().int().min(0).max(MAX_MS).default(500),
  easing: EasingSchema.default('ease-in-out'),
  edge: EdgeSchema.default('left'),
});
export type VisibilityTransition = z.infer<typeof VisibilityTransitionSchema>;

/** A layer's default show and hide transitions (none: cut). */
export const LayerTransitionsSchema = z.strictObject({
  show: VisibilityTransitionSchema.optional(),
  hide: VisibilityTransitionSchema.optional(),
});

/** `POST /layers/:id/animation`: play a character animation; with `durationMs`, then back to idle. */
export const AnimationBodySchema = z.strictObject({
  name: z.enum(['idle', 'talking']),
  durationMs: z.number().int().positive().max(MAX_MS).optional(),
});
export type AnimationBody = z.infer<typeof AnimationBodySchema>;

/**
 * WS `animationEnded` payload. `kind`: `tween` (a PATCH's transition; `properties` it moved),
 * `show`/`hide` (a visibility transition), `animation` (a host animation went back to idle),
 * `scene` (a scene crossfade). `cancelled`: a later change took over before the end.
 * `animation`: the id the change's answer gave in its `Animation-Id` header.
 */
export const AnimationEndedPayloadSchema = z.strictObject({
  id: z.string(),
  animation: z.string(),
  kind: z.enum(['tween', 'show', 'hide', 'animation', 'scene']),
  properties: z.array(z.string()).optional(),
  cancelled: z.boolean(),
  /** Scene time of the end, ms. */
  atMs: z.number(),
});
export type AnimationEndedPayload = z.infer<typeof AnimationEndedPayloadSchema>;
