import { z } from 'zod';

/**
 * The contract's `StreamState`, exactly its fields (contract: `GET /stream/status`, WS `stateUpdate`).
 * - `fps`: frames delivered to the output in the last second, measured.
 * - `frameCount`: frames delivered to the output since start.
 * - `droppedFrames`: frame intervals that got no new frame (render late, encoder backpressure, error).
 * - `averageRenderTime`: ms per frame for render + composite, moving average.
 * - `startTime`: ms since the Unix epoch when the stream went live, null when not live.
 */
export const StreamStateSchema = z.strictObject({
  isLive: z.boolean(),
  isPaused: z.boolean(),
  fps: z.number().nonnegative(),
  targetFPS: z.number().int().positive(),
  frameCount: z.number().int().nonnegative(),
  droppedFrames: z.number().int().nonnegative(),
  averageRenderTime: z.number().nonnegative(),
  startTime: z.number().nullable().optional(),
  error: z.string().nullable().optional(),
});
export type StreamState = z.infer<typeof StreamStateSchema>;

/** A fresh, stopped stream state for a given target FPS. */
export function initialStreamState(targetFPS: number): StreamState {
  return {
    isLive: false,
    isPaused: false,
    fps: 0,
    targetFPS,
    frameCount: 0,
    droppedFrames: 0,
    averageRenderTime: 0,
    startTime: null,
    error: null,
  };
}
