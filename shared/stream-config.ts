import { z } from 'zod';
import { ColorSchema } from './color.js';
import { mainOutputUrlProblem } from './output-url.js';
import { MasterBusPatchSchema, MasterBusSchema } from './audio.js';

/** x264 presets, fastest first (source: `x264 --fullhelp`). */
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

/**
 * Encoder settings. `bitrateKbps`: target video bitrate in kbit/s (CBR-like: maxrate = bitrate,
 * bufsize = 2 x bitrate). `keyframeIntervalSeconds`: GOP length in seconds (GOP frames =
 * round(seconds x targetFPS)); 2 s is what Twitch and YouTube ask for. `audio`: `silent` adds an
 * AAC track carrying the program audio (docs/audio.md; digital silence when nothing plays;
 * platforms refuse video-only RTMP), `none` writes video only.
 * `colorMatrix`: the YCbCr matrix of the encoded picture (pixels/yuv.ts), limited range; `auto`
 * (default): BT.709 from 720 lines up, BT.601 below; the stream is tagged with it.
 * `latency`: `normal` (default) encodes as above; `low` trades some quality per bit for delay
 * (docs/latency.md): libx264 `-tune zerolatency` (no lookahead, no B-frames, sliced threads), a
 * VBV buffer of a few frame intervals instead of 2 s, muxers that write each packet at once, and
 * at most one frame queued between the compositor and the encoder.
 */
export const EncoderSettingsSchema = z.strictObject({
  preset: z.enum(X264_PRESETS),
  bitrateKbps: z.number().int().min(100).max(100_000),
  keyframeIntervalSeconds: z.number().positive().max(20),
  audio: z.enum(['silent', 'none']),
  // A default, so that a config stored before the setting existed still loads.
  colorMatrix: z.enum(['auto', 'bt709', 'bt601']).default('auto'),
  // A default, like colorMatrix: configs stored before issue 34 load as `normal`.
  latency: z.enum(['normal', 'low']).default('normal'),
});
export type EncoderSettings = z.infer<typeof EncoderSettingsSchema>;
/** `normal` or `low` (see {@link EncoderSettingsSchema}). */
export type EncoderLatency = EncoderSettings['latency'];

/**
 * Where the encoded stream goes: an `rtmp://`/`rtmps://` URL (FLV), or a file path whose extension
 * picks the container (`.mp4`, `.flv`, `.ts`, `.mkv`): relative to RECORDINGS_DIR, or absolute
 * under it or an OUTPUT_DIRS folder (checked by the server's `OutputPolicy`; see
 * `mainOutputUrlProblem` for what is refused here). `null` (or absent): a new recording
 * `recordings/stream-<ISO time>.mp4` at each start.
 */
export const OutputSettingsSchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(2048)
    .superRefine((u, ctx) => {
      const problem = mainOutputUrlProblem(u);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .nullable()
    // JSON Merge Patch removes a member set to null: `{"output":{"url":null}}` means "back to recordings".
    .default(null),
});
export type OutputSettings = z.infer<typeof OutputSettingsSchema>;

/** The stream configuration served by `GET /config` and changed by `PATCH /config`. */
export const StreamConfigSchema = z.strictObject({
  width: z.number().int().min(16).max(7680).multipleOf(2),
  height: z.number().int().min(16).max(4320).multipleOf(2),
  targetFPS: z.number().int().min(1).max(120),
  background: ColorSchema,
  encoder: EncoderSettingsSchema,
  output: OutputSettingsSchema,
  /** The program audio's master bus (shared/audio.ts): `volume` 0..2 and `muted`; absent: volume 1, not muted. */
  audio: MasterBusSchema.optional(),
});
export type StreamConfig = z.infer<typeof StreamConfigSchema>;

/** The body of `PATCH /config`: any subset, nested objects merged field by field. */
export const StreamConfigPatchSchema = z.strictObject({
  width: StreamConfigSchema.shape.width.optional(),
  height: StreamConfigSchema.shape.height.optional(),
  targetFPS: StreamConfigSchema.shape.targetFPS.optional(),
  background: ColorSchema.optional(),
  // Without the defaults: a patch that leaves colorMatrix or latency out must not reset them.
  encoder: EncoderSettingsSchema.partial()
    .extend({
      colorMatrix: EncoderSettingsSchema.shape.colorMatrix.unwrap().optional(),
      latency: EncoderSettingsSchema.shape.latency.unwrap().optional(),
    })
    .optional(),
  output: OutputSettingsSchema.partial().optional(),
  audio: MasterBusPatchSchema.optional(),
});
export type StreamConfigPatch = z.infer<typeof StreamConfigPatchSchema>;

/** The canvas every frame is composited on: the picture part of the stream config. */
export const CanvasSchema = StreamConfigSchema.pick({ width: true, height: true, targetFPS: true, background: true });
export type Canvas = z.infer<typeof CanvasSchema>;
