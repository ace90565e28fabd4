/**
 * The one set of limits on what Stream Manager accepts and keeps. The zod schemas of the write
 * paths (HTTP bodies) and of the load paths (the stored document, file or Redis) read them from
 * here, so whatever was accepted loads again. The "Limits" table in docs/api.md lists them; change a
 * value here and there together.
 */
export const LIMITS = {
  /** Layers in one scene: the live scene, a saved scene, `PUT /stream/scene`, a template. */
  layersPerScene: 1000,
  /** Characters of a text layer's `content`. */
  textChars: 4096,
  /** Characters of a layer's `name`, an asset's name. */
  nameChars: 256,
  /** Characters of a font family name. */
  fontNameChars: 128,
  /** A text style's `fontSize`, pixels. */
  fontSizePx: 1024,
  /** A text style's `strokeWidth`, pixels. */
  strokeWidthPx: 256,
  /** A layer box's `width` or `height` (and a chat layer's `width`), pixels. */
  layerSizePx: 16384,
  /** A transform's `scale` factor. */
  scale: 64,
  /** A sprite sheet cell's width or height, pixels. */
  spriteFramePx: 4096,
  /** Cells of one sprite sheet. */
  spriteFrames: 1024,
  /** Characters of an asset path (`assets/...`). */
  assetPathChars: 512,
  /** Saved scenes (`PUT /stream/scenes/:name`); templates do not count. */
  savedScenes: 100,
  /**
   * Layers of all saved scenes together: the store writes the whole document on every change,
   * so this bounds what each write costs (about 0.5 KB a layer: 5 MB).
   */
  savedSceneLayers: 10000,
  /** Extra outputs (`/stream/outputs`). */
  outputs: 64,
  /** Operations in one `POST /stream/batch`. */
  batchOps: 100,
  /** Keys of the live data set (`PATCH /stream/data`). */
  dataKeys: 256,
  /** Characters of one data string value. */
  dataStringChars: 256,
} as const;
