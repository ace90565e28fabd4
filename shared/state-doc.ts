import { z } from 'zod';
import { LayerSchema } from './scene.js';
import { CanvasSchema, StreamConfigSchema } from './stream-config.js';
import { StreamStateSchema } from './stream-state.js';
import { OutputSpecSchema } from './outputs.js';
import { DataSetSchema } from './data-binding.js';
import { ScenesStateSchema } from './scenes.js';
import { LIMITS } from './limits.js';
import { ownRecord } from './own-record.js';

/**
 * What ffprobe found in an uploaded video (issue 29), stored with its metadata: the container
 * (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`), the first video stream's codec (`h264`, `vp9`...),
 * its length, ms, and frame rate, frames/s (0 when the file does not say), and its first audio
 * stream (null: no sound). The picture's size is the asset's `width` and `height`, pixels.
 */
export const VideoAssetInfoSchema = z.strictObject({
  container: z.string().max(128),
  codec: z.string().max(64),
  durationMs: z.number().int().nonnegative(),
  fps: z.number().nonnegative(),
  audio: z
    .strictObject({
      codec: z.string().max(64),
      /** Samples per second, Hz (0 when unknown). */
      sampleRate: z.number().int().nonnegative(),
      channels: z.number().int().nonnegative(),
    })
    .nullable(),
});
export type VideoAssetInfo = z.infer<typeof VideoAssetInfoSchema>;

/**
 * What ffprobe found in an uploaded audio file (issue 30): the container (`wav`, `mp3`, `ogg`,
 * `flac`, `mov,mp4,m4a,3gp,3g2,mj2`, `aac`), the first audio stream's codec, its length, ms,
 * samples per second, Hz, and channels.
 */
export const AudioAssetInfoSchema = z.strictObject({
  container: z.string().max(128),
  codec: z.string().max(64),
  durationMs: z.number().int().nonnegative(),
  sampleRate: z.number().int().nonnegative(),
  channels: z.number().int().nonnegative(),
});
export type AudioAssetInfo = z.infer<typeof AudioAssetInfoSchema>;

/**
 * Metadata of an uploaded asset (the assets issue fills these in). `bytes`: file size; `width`,
 * `height`: an image's or a video's picture, pixels; `video`: what a video holds; `audio`: what an audio file holds.
 */
export const AssetMetaSchema = z.strictObject({
  id: z.string().min(1).max(128),
  kind: z.enum(['image', 'font', 'video', 'audio']),
  mime: z.string().min(1).max(128),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  bytes: z.number().int().nonnegative(),
  name: z.string().max(LIMITS.nameChars),
  createdAt: z.number().int().nonnegative(),
  video: VideoAssetInfoSchema.optional(),
  audio: AudioAssetInfoSchema.optional(),
});
export type AssetMeta = z.infer<typeof AssetMetaSchema>;

/** Layers in compositing order with unique ids. */
export const LayerListSchema = z
  .array(LayerSchema)
  .max(LIMITS.layersPerScene)
  .superRefine((layers, ctx) => {
    const seen = new Set<string>();
    layers.forEach((l, i) => {
      if (seen.has(l.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `Duplicate layer id "${l.id}"` });
      seen.add(l.id);
    });
  });

/**
 * Everything Stream Manager persists, as one document: the state version, stream config,
 * layers, asset metadata, the stream state at its last transition (for resume on restart) and
 * the extra outputs.
 */
export const PersistedStateSchema = z.strictObject({
  version: z.number().int().nonnegative(),
  config: StreamConfigSchema,
  layers: LayerListSchema,
  assets: ownRecord(z.string().min(1).max(128), AssetMetaSchema),
  stream: StreamStateSchema,
  /** Extra outputs (`/stream/outputs`), URLs in full: the store holds stream keys, as it does `config.output.url`. */
  outputs: z.array(OutputSpecSchema).max(LIMITS.outputs).default([]),
  /** Live data for text placeholders (`PATCH /stream/data`). */
  data: DataSetSchema.default({}),
  /** Saved named scenes and the one last activated (`/stream/scenes`). */
  scenes: ScenesStateSchema.default({ active: null, scenes: {} }),
  /** Studio mode's off-air preview scene (`/stream/preview/layers`), in compositing order. */
  preview: LayerListSchema.default([]),
});
export type PersistedState = z.infer<typeof PersistedStateSchema>;

/** `GET|PUT /stream/scene`: the canvas and layers as one versioned document. */
export const SceneDocumentSchema = z.strictObject({
  /** State version the document was read at; ignored on PUT (use If-Match). */
  version: z.number().int().nonnegative().optional(),
  canvas: CanvasSchema,
  layers: LayerListSchema,
});
export type SceneDocument = z.infer<typeof SceneDocumentSchema>;
