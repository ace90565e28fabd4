import { z } from 'zod';

/** An output's state; see orchestrator/output/supervised-output.ts for the transitions. */
export const OutputStateSchema = z.enum(['connecting', 'live', 'reconnecting', 'failed', 'stopped']);

/**
 * One output in `GET /stream/status`'s `outputs` and WS `outputUpdate`: its id, where it goes
 * (stream key redacted: `rtmp://host/app/***`), its state, restarts in this live session, and why
 * it last went down, bytes written, the measured bitrate, and the file being written.
 */
export const OutputStatusSchema = z.strictObject({
  id: z.string(),
  url: z.string().nullable(),
  state: OutputStateSchema,
  restarts: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  /** Bytes the current encoder process has written (ffmpeg's `total_size`; a restart starts at 0). */
  bytes: z.number().int().nonnegative(),
  /** Output bitrate, bits per second, as ffmpeg last reported it; null before its first report. */
  bitrateBps: z.number().nonnegative().nullable(),
  /**
   * A file output: the absolute path of the file being written (the one of this start, with its
   * `-<ISO time>` or `-N` suffix, not the configured name), or of the last one once stopped; null
   * for network and HLS outputs and before a first start.
   */
  file: z.string().nullable(),
});
export type OutputStatus = z.infer<typeof OutputStatusSchema>;
