/**
 * The render path without an encoder, for the `render` and `encode` scenarios: a scene store
 * loaded with a bench scene, the animator, the layer renderer and the compositor into a frame
 * pool, driven as fast as it goes on a manual scene clock (frame n at n x frame interval).
 * Layers draw on the worker pool (`workers` threads) or, for the single-thread baseline, on
 * the main thread (`workers: 0`).
 */
import { resolve } from 'node:path';
import { premultipliedPixel } from '../shared/color.js';
import type { StreamConfig } from '../shared/stream-config.js';
import { Animator } from '../orchestrator/motion/animator.js';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { createLogger } from '../orchestrator/logger.js';
import { FrameComposer } from '../orchestrator/render/frame-composer.js';
import { FramePool, type Frame } from '../orchestrator/render/frame-pool.js';
import { LayerRenderer, type LayerDrawService } from '../orchestrator/render/layer-renderer.js';
import { RenderPool } from '../pool/render-pool.js';
import { SceneStore } from '../orchestrator/scene/scene-store.js';
import { createDrawer } from '../workers/draw.js';
import { MOVING, movingX, sceneDocument, sceneLayers, type BenchScene } from './scenes.js';

/** What to render. `workers: 0` draws every layer on the main thread (no pool). */
export interface RigOptions {
  scene: BenchScene;
  width: number;
  height: number;
  fps: number;
  workers: number;
  /** Fill each frame's I420 copy too, as the live pipeline does for its encoders (default false). */
  yuv?: boolean;
  /** Frame buffers in the pool (default 4). */
  poolFrames?: number;
}

/** One composited frame's stage times, ms. */
export interface FrameTiming {
  renderMs: number;
  compositeMs: number;
}

/** A loaded rig: `next()` composites the next frame; the caller releases it to `frames`. */
export interface Rig {
  readonly frames: FramePool;
  readonly canvas: StreamConfig;
  /** Composites frame n (at n x frame interval); null when the frame pool had no free buffer. */
  next(): Promise<Frame | null>;
  /** The last frame's stage times (`convertMs`: 0 unless `yuv`). */
  readonly timing: FrameTiming & { convertMs: number };
  /** The render pool (null for the single-thread baseline). */
  readonly pool: RenderPool | null;
  close(): Promise<void>;
}

/** Builds a rig and renders its first frame (decodes and worker start are not measured). */
export async function openRig(o: RigOptions): Promise<Rig> {
  const log = createLogger('warn');
  const pool = o.workers > 0 ? new RenderPool({ threads: o.workers, assetRoot: '.' }) : null;
  if (pool) await pool.warmUp();
  const drawer = pool
    ? null
    : createDrawer({ assetRoot: resolve('.'), assetStorage: resolve('data', 'assets'), imageCacheBytes: 256 * 1024 * 1024 });
  const draw: LayerDrawService = pool ?? { render: (task) => drawer!.render(task) };
  const clock = new ManualClock(0);
  const scene = new SceneStore();
  scene.replaceAll(sceneLayers(o.scene, o.width, o.height));
  const animator = new Animator(scene, clock);
  const renderer = new LayerRenderer(draw, log);
  const composer = new FrameComposer({ renderer, scene, motion: { animator }, yuv: o.yuv === true, bands: pool ?? undefined });
  const canvas = { width: o.width, height: o.height, targetFPS: o.fps, background: '#000000' } as StreamConfig;
  const frames = new FramePool(o.width, o.height, o.poolFrames ?? 4);
  const bg = premultipliedPixel('#000000');
  const sx = o.width / sceneDocument(o.scene).canvas.width;
  const movers = MOVING[o.scene].map((id, i) => ({ id, x0: scene.get(id).transform.x / sx, phaseMs: i * 4000 }));
  let n = 0;
  const next = (): Promise<Frame | null> => {
    const t = (n++ * 1000) / o.fps;
    clock.set(t);
    // Moving layers: a position change through the store each frame, as a live admin or a tween would.
    for (const m of movers) scene.patch(m.id, { transform: { x: movingX(m.x0, t, m.phaseMs, sx) } });
    return composer.composite(frames, canvas, bg, t);
  };
  const first = await next();
  if (first) frames.release(first);
  return {
    frames,
    canvas,
    next,
    timing: composer.timing,
    pool,
    close: async () => {
      animator.close();
      await pool?.close();
    },
  };
}
