import { z } from 'zod';
import { MEDIA_MAX_POSITION_MS, MediaSrcSchema } from './media.js';

/**
 * Sound (issue 30): a layer's mix controls, the `audio` content type, the master bus and the
 * `audioLevels` message. The program mix is 48 kHz stereo 32-bit float; sample n of the program
 * belongs to scene time n / 48 ms. Levels are dBFS (0 dBFS: a full-scale sample, 1.0).
 */

/** Samples a second of the program mix (and of every decoded source), per channel. */
export const AUDIO_RATE_HZ = 48_000;
/** Channels of the program mix: left, right (interleaved). */
export const AUDIO_CHANNELS = 2;
/** Highest linear `volume` (+6.02 dB). */
export const MAX_VOLUME = 2;
/** Highest `volumeDb`: 20 x log10(2) = +6.02 dB, the same as {@link MAX_VOLUME}. */
export const MAX_VOLUME_DB = 20 * Math.log10(MAX_VOLUME);
/** The floor levels are clamped to, dBFS (digital silence reads as this, not -Infinity: JSON has no infinities). */
export const LEVEL_FLOOR_DB = -120;

/**
 * A source's place in the program mix (the `audio` field of a `video` or `audio` layer; other
 * layers may carry it, it does nothing there). All fields optional:
 * `volume`: linear gain 0..2 (default 1); `volumeDb`: the same in dB (-120..+6.02; -120 or less
 * is silence), an alternative input: a layer holds one or the other (a PATCH that sets one drops
 * the other); `muted`: silence, the volume kept; `pan`: -1 (left) .. 0 (centre) .. 1 (right),
 * a balance (towards one side the other channel falls linearly to 0; orchestrator/audio/program-audio.ts `gains`); `syncOffsetMs`: -1000..1000, positive delays the source's sound
 * against its picture (and the program), negative advances it.
 * `volume` and `pan` glide with a PATCH's `transition` (a fade is a volume tween).
 */
export const AudioMixSchema = z
  .strictObject({
    volume: z.number().min(0).max(MAX_VOLUME).optional(),
    volumeDb: z.number().min(LEVEL_FLOOR_DB).max(MAX_VOLUME_DB).optional(),
    muted: z.boolean().optional(),
    pan: z.number().min(-1).max(1).optional(),
    syncOffsetMs: z.number().int().min(-1000).max(1000).optional(),
  })
  .refine((m) => m.volume === undefined || m.volumeDb === undefined, {
    message: 'Give volume or volumeDb, not both',
    path: ['volumeDb'],
  });
export type AudioMix = z.infer<typeof AudioMixSchema>;

/** A dB value as a linear gain (at or below {@link LEVEL_FLOOR_DB}: 0). */
export function dbToGain(db: number): number {
  return db <= LEVEL_FLOOR_DB ? 0 : 10 ** (db / 20);
}

/** A linear amplitude as dBFS, clamped to {@link LEVEL_FLOOR_DB} (source: the definition, 20 log10). */
export function gainToDb(g: number): number {
  return g <= 0 ? LEVEL_FLOOR_DB : Math.max(LEVEL_FLOOR_DB, 20 * Math.log10(g));
}

/** A mix's linear volume (`volumeDb` converted when given; default 1), muting not applied. */
export function mixVolume(mix: AudioMix | undefined): number {
  if (mix?.volumeDb !== undefined) return dbToGain(mix.volumeDb);
  return mix?.volume ?? 1;
}

/**
 * Sound without a picture, drawn as nothing: an uploaded audio file (WAV, MP3, AAC/M4A, Ogg/Opus,
 * FLAC), a file under `assets/`, or a live URL (the rules of a video layer's `src`). `loop`,
 * `playing` and `startMs` as for video.
 */
export const AudioContentSchema = z.strictObject({
  type: z.literal('audio'),
  src: MediaSrcSchema,
  loop: z.boolean().default(false),
  playing: z.boolean().default(true),
  startMs: z.number().int().min(0).max(MEDIA_MAX_POSITION_MS).default(0),
});
export type AudioContent = z.infer<typeof AudioContentSchema>;

/** The master bus: `volume` (linear 0..2, default 1) and `muted` over the sum, then the limiter. */
export const MasterBusSchema = z.strictObject({
  volume: z.number().min(0).max(MAX_VOLUME).default(1),
  muted: z.boolean().default(false),
});
export type MasterBus = z.infer<typeof MasterBusSchema>;

/** The stream config's `audio` in `PATCH /stream/config` (`{"audio": {...}}`): any subset of the master bus. */
export const MasterBusPatchSchema = z.strictObject({
  volume: MasterBusSchema.shape.volume.unwrap().optional(),
  muted: MasterBusSchema.shape.muted.unwrap().optional(),
});

/** One meter: the peak and RMS of the last window (about 100 ms), dBFS, both channels together. */
export const AudioLevelSchema = z.strictObject({
  peakDb: z.number(),
  rmsDb: z.number(),
});
export type AudioLevel = z.infer<typeof AudioLevelSchema>;

/**
 * WS `audioLevels` (target `audio`), about 10 a second while the program mixes: the master bus
 * (after its volume and the limiter) and each source (after its volume, mute and pan), by layer
 * id. `atMs`: scene time of the window's end.
 */
export const AudioLevelsPayloadSchema = z.strictObject({
  atMs: z.number(),
  master: AudioLevelSchema,
  sources: z.record(z.string(), AudioLevelSchema),
});
export type AudioLevelsPayload = z.infer<typeof AudioLevelsPayloadSchema>;
