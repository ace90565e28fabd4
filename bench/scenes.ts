/**
 * The bench scenes, committed as scene documents in `assets/scenes/` so every contender uses the
 * same layers and the same pictures: S1 the default auction scene (`auction.json`), S2 a backdrop
 * + 6 pictures 400x300 (2 moving) + a text layer (`bench-s2.json`), S3 24 layers of which 8 are
 * animated hosts (`bench-s3.json`). Documents are laid out for their own canvas and scaled to
 * the bench size as the scene library does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SceneTemplateSchema, type SceneTemplate } from '../shared/scenes.js';
import { LayerSchema, type Layer } from '../shared/scene.js';
import { fitTemplate } from '../orchestrator/scene/scene-library.js';

/** Bench scene ids and their documents under `assets/scenes/`. */
export const BENCH_SCENES = { S1: 'auction', S2: 'bench-s2', S3: 'bench-s3' } as const;
export type BenchScene = keyof typeof BENCH_SCENES;

/** Layers that move (their x glides back and forth, {@link MOVE_PX_PER_S}), per scene. */
export const MOVING: Record<BenchScene, readonly string[]> = { S1: [], S2: ['mover-a', 'mover-b'], S3: [] };
/** How far a moving layer travels before it turns, px at the document's canvas, and how fast. */
export const MOVE_RANGE_PX = 1000;
export const MOVE_PX_PER_S = 125;

/** The scene document of `scene`. @throws Error when it is missing or invalid */
export function sceneDocument(scene: BenchScene): SceneTemplate {
  const text = readFileSync(join('assets', 'scenes', `${BENCH_SCENES[scene]}.json`), 'utf8');
  return SceneTemplateSchema.parse(JSON.parse(text));
}

/** The layers of `scene` scaled to `width` x `height` pixels, validated. */
export function sceneLayers(scene: BenchScene, width: number, height: number): Layer[] {
  return fitTemplate(sceneDocument(scene), width, height).map((l) => LayerSchema.parse(l));
}

/**
 * A moving layer's x at time `tMs`: a triangle wave from its document x over MOVE_RANGE_PX at
 * MOVE_PX_PER_S, scaled by `sx` (bench width / document width). The FFmpeg contender uses the
 * same curve as an overlay expression ({@link moveExpression}).
 * @param phaseMs offset of this layer's wave, ms
 */
export function movingX(x0: number, tMs: number, phaseMs: number, sx: number): number {
  const d = ((tMs + phaseMs) / 1000) * MOVE_PX_PER_S;
  const p = d % (2 * MOVE_RANGE_PX);
  return Math.round((x0 + (p < MOVE_RANGE_PX ? p : 2 * MOVE_RANGE_PX - p)) * sx);
}

/** {@link movingX} as an FFmpeg expression of `t` (seconds), commas escaped for a filter graph. */
export function moveExpression(x0: number, phaseMs: number, sx: number): string {
  const r = MOVE_RANGE_PX;
  return `(${x0}+${r}-abs(mod((t+${phaseMs / 1000})*${MOVE_PX_PER_S}\\,${2 * r})-${r}))*${sx}`;
}
