import { z } from 'zod';
import { ColorSchema } from './color.js';
import { LayerTransitionsSchema, VisibilityTransitionSchema } from './animation.js';
import { LIMITS } from './limits.js';
import { ASSET_ID } from './asset-ref.js';
import { VideoContentSchema } from './media.js';
import { AudioContentSchema, AudioMixSchema } from './audio.js';

/**
 * The scene model: the canvas and its layers. These zod schemas are the single source of truth
 * for the wire format, the stored state and the worker tasks; the TS types are derived from them.
 * All objects are strict: an unknown field is an error, never silently kept.
 */

/** A layer id: 1-64 characters of `[A-Za-z0-9_-]`. */
export const LayerIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Expected 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');

export { ASSET_ID, isAssetId } from './asset-ref.js';

/**
 * What an image or character layer shows: an uploaded asset's id, or a path of a file under the
 * repository's `assets/` folder, e.g. `assets/characters/auctioneer.png`. Absolute paths, NUL
 * bytes and `..` segments are refused so a layer can never read outside `assets/`.
 */
export const AssetPathSchema = z
  .string()
  .min(1)
  .max(LIMITS.assetPathChars)
  .refine((p) => ASSET_ID.test(p) || (p.startsWith('assets/') && !p.includes('\0') && !p.split(/[\\/]/).includes('..')), {
    message: 'Expected an asset id or a relative path under assets/ without ".." segments',
  });

/**
 * Where and how big a layer is, in frame pixels. `x`, `y`: top-left of the unrotated layer box.
 * `width`/`height`: the box size (defaults: the content's natural size; a colour layer fills the
 * canvas). `scale` multiplies the size; `rotation` turns the box about its centre, in degrees clockwise.
 */
export const TransformSchema = z.strictObject({
  x: z.number().finite().default(0),
  y: z.number().finite().default(0),
  width: z.number().positive().max(LIMITS.layerSizePx).optional(),
  height: z.number().positive().max(LIMITS.layerSizePx).optional(),
  scale: z.number().positive().max(LIMITS.scale).optional(),
  rotation: z.number().finite().optional(),
});
export type Transform = z.infer<typeof TransformSchema>;

/** A flat colour box. */
export const ColorContentSchema = z.strictObject({
  type: z.literal('color'),
  color: ColorSchema,
});

/** A picture from `assets/` (PNG, JPEG, WebP, GIF first frame), scaled to the transform's box. */
export const ImageContentSchema = z.strictObject({
  type: z.literal('image'),
  src: AssetPathSchema,
});

/**
 * The family a text style without `font` is drawn in: `sans-serif`, which workers/fonts.ts gives
 * to the bundled Liberation Sans (assets/fonts) only. (The name `Liberation Sans` itself may find
 * a system copy of another version first, where one is installed.)
 */
export const DEFAULT_FONT = 'sans-serif';

/**
 * Text style. `font`: a family name (the bundled Liberation Sans answers to Arial) or a font
 * asset's id; default {@link DEFAULT_FONT}, filled in when the style is parsed, so stored and
 * returned layers always name it. `fontSize` and `strokeWidth` in pixels; `background` fills the text box.
 */
export const TextStyleSchema = z.strictObject({
  font: z.string().min(1).max(LIMITS.fontNameChars).default(DEFAULT_FONT),
  fontSize: z.number().positive().max(LIMITS.fontSizePx),
  color: ColorSchema,
  align: z.enum(['left', 'center', 'right']).optional(),
  strokeColor: ColorSchema.optional(),
  strokeWidth: z.number().nonnegative().max(LIMITS.strokeWidthPx).optional(),
  background: ColorSchema.optional(),
});
export type TextStyle = z.infer<typeof TextStyleSchema>;

/** A line (or lines, split on `\n`) of text. */
export const TextContentSchema = z.strictObject({
  type: z.literal('text'),
  content: z.string().max(LIMITS.textChars),
  style: TextStyleSchema,
});

/** Names of the character's animations, as the API contract names them. */
export const CharacterAnimationsSchema = z.strictObject({
  idle: z.string().min(1).max(128),
  talking: z.string().min(1).max(128),
});

/**
 * Where the face is on the character picture, as fractions (0..1) of its width and height, so
 * the worker can blink the eyes and move the mouth. The defaults fit `assets/characters/auctioneer.png`.
 */
export const CharacterRigSchema = z.strictObject({
  eyes: z.array(z.strictObject({ x: z.number().min(0).max(1), y: z.number().min(0).max(1) })).max(4),
  eyeRadius: z.number().positive().max(0.5),
  mouth: z.strictObject({ x: z.number().min(0).max(1), y: z.number().min(0).max(1), width: z.number().positive().max(1) }),
  skinColor: ColorSchema,
});
export type CharacterRig = z.infer<typeof CharacterRigSchema>;

/**
 * An animation drawn from a sprite sheet: `frames` cells of `frameWidth` x `frameHeight` pixels,
 * left to right then top to bottom, played at `fps` and looped.
 */
export const SpriteSheetSchema = z.strictObject({
  src: AssetPathSchema,
  frameWidth: z.number().int().positive().max(LIMITS.spriteFramePx),
  frameHeight: z.number().int().positive().max(LIMITS.spriteFramePx),
  frames: z.number().int().min(1).max(LIMITS.spriteFrames),
  fps: z.number().positive().max(120).default(12),
});
export type SpriteSheet = z.infer<typeof SpriteSheetSchema>;

/**
 * The contract's animated host. Each animation is drawn from its sprite sheet in `sprites` when it has
 * one; otherwise from the `modelUrl` picture, rigged: idle breathes and blinks, talking bobs and
 * moves the mouth.
 */
export const CharacterContentSchema = z.strictObject({
  type: z.literal('character'),
  modelUrl: AssetPathSchema,
  animations: CharacterAnimationsSchema,
  animation: z.enum(['idle', 'talking']).optional(),
  rig: CharacterRigSchema.optional(),
  sprites: z.strictObject({ idle: SpriteSheetSchema.optional(), talking: SpriteSheetSchema.optional() }).optional(),
  /**
   * Lip sync (issue 30): the mouth opens by the sound of layer `source` (a video or audio layer)
   * instead of the timed talking loop: closed while the source's envelope (RMS over the last
   * `smoothingMs`, after its volume and mute) is below `thresholdDb`, open the more the louder above it.
   */
  lipSync: z
    .strictObject({
      source: LayerIdSchema,
      thresholdDb: z.number().min(-120).max(0).default(-40),
      smoothingMs: z.number().int().min(10).max(2000).default(80),
    })
    .optional(),
  /**
   * How far the mouth is open, 0..1, over the animation's own mouth: set on every frame by lip
   * sync (a client may set it to hold the mouth open).
   */
  mouth: z.number().min(0).max(1).optional(),
});

/** A chat layer's style when it gives none: 24 px white bundled sans on a translucent black strip. */
export const DEFAULT_CHAT_STYLE = { font: DEFAULT_FONT, fontSize: 24, color: '#ffffff', background: 'rgba(0,0,0,0.6)' } as const;

/**
 * A chat overlay: the last `maxMessages` messages posted to `POST /stream/chat`, newest at the
 * bottom, wrapped to `width` pixels; each fades out over `fadeMs` once it is `ttlMs` old. Its box
 * is `width` by `maxMessages` one-line messages high (workers/renderers/chat.ts), so that many short
 * messages always show whole. `style` defaults to {@link DEFAULT_CHAT_STYLE}.
 * `userColor` colours the names (default: the text colour).
 */
export const ChatContentSchema = z.strictObject({
  type: z.literal('chat'),
  maxMessages: z.number().int().min(1).max(50).default(6),
  ttlMs: z.number().int().min(100).max(86_400_000).default(30_000),
  fadeMs: z.number().int().min(0).max(60_000).default(1000),
  width: z.number().positive().max(LIMITS.layerSizePx).default(480),
  style: TextStyleSchema.default(() => ({ ...DEFAULT_CHAT_STYLE })),
  userColor: ColorSchema.optional(),
});

/** What a layer shows, a union on `type`. */
export const LayerContentSchema = z.discriminatedUnion('type', [
  ColorContentSchema,
  ImageContentSchema,
  TextContentSchema,
  CharacterContentSchema,
  ChatContentSchema,
  VideoContentSchema,
  AudioContentSchema,
]);
export type LayerContent = z.infer<typeof LayerContentSchema>;

/** A layer as stored and returned by the API. */
export const LayerSchema = z.strictObject({
  id: LayerIdSchema,
  name: z.string().max(LIMITS.nameChars).default(''),
  zIndex: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  visible: z.boolean().default(true),
  opacity: z.number().min(0).max(1).default(1),
  transform: TransformSchema.default({ x: 0, y: 0 }),
  content: LayerContentSchema,
  /** How the layer appears and disappears by default (none: cut). */
  transitions: LayerTransitionsSchema.optional(),
  /** The layer's place in the program mix (video and audio layers; shared/audio.ts). */
  audio: AudioMixSchema.optional(),
});
export type Layer = z.infer<typeof LayerSchema>;

/** The body of `POST /layers`: a layer whose id may be left for the server to assign. */
export const LayerCreateSchema = LayerSchema.extend({ id: LayerIdSchema.optional() });
export type LayerCreate = z.input<typeof LayerCreateSchema>;

/** The body of `PUT /layers/:id`: a whole layer; its id, if given, must match the path. */
export const LayerReplaceSchema = LayerCreateSchema;

/**
 * The body of `PATCH /layers/:id/visibility`: `visible`, or nothing to toggle; `transition`
 * overrides the layer's default show/hide transition for this call.
 */
export const VisibilityBodySchema = z.strictObject({ visible: z.boolean().optional(), transition: VisibilityTransitionSchema.optional() });
