import { z } from 'zod';
import { DataKeySchema, DataValueSchema, type DataValue } from '../../shared/data-binding.js';
import { LIMITS } from '../../shared/limits.js';
import { OutputSpecSchema, type OutputSpec } from '../../shared/outputs.js';
import { LayerSchema, type Layer } from '../../shared/scene.js';
import { SceneNameSchema, type ScenesState } from '../../shared/scenes.js';
import { AssetMetaSchema, type AssetMeta, type PersistedState } from '../../shared/state-doc.js';
import { StreamConfigSchema } from '../../shared/stream-config.js';
import { StreamStateSchema } from '../../shared/stream-state.js';
import type { LoadProblem } from './store.js';
import { parsePart } from './validate-parts.js';

/** The parts of the persisted document (the top-level keys of `state.json`, one Redis key each). */
export type PartName = keyof PersistedState;

/** Every part name, in the order the document lists them. */
export const PART_NAMES: readonly PartName[] = ['version', 'config', 'layers', 'assets', 'stream', 'outputs', 'data', 'scenes', 'preview'];

/** What {@link parseParts} kept, and which parts had a problem (their stored form should be set aside). */
export interface PartsResult {
  state: Partial<PersistedState>;
  /** Parts with at least one problem (part or element set aside). */
  damaged: Set<PartName>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a stored document part by part, and list parts element by element, keeping every
 * valid part, layer, output, asset, data key and saved scene and dropping only what is invalid
 * (one problem each, path prefixed with the part, e.g. `layers.12.content.color`). Lists longer
 * than their limit in LIMITS keep their first `limit` valid elements; the rest are reported. The
 * write paths refuse past the same limits, so a document this server wrote loads whole.
 * @param raw the parts as parsed JSON (missing ones are absent: the caller uses its defaults)
 * @param where names where a part is stored (file path, Redis key)
 */
export function parseParts(raw: Partial<Record<string, unknown>>, where: (part: PartName) => string, problems: LoadProblem[]): PartsResult {
  const state: Partial<PersistedState> = {};
  const damaged = new Set<PartName>();
  const before = (): number => problems.length;
  const note = (part: PartName, n: number): void => {
    if (problems.length > n) damaged.add(part);
  };
  for (const key of Object.keys(raw)) {
    if (!(PART_NAMES as readonly string[]).includes(key))
      problems.push({ where: where('version'), path: key, message: 'Unknown part; ignored' });
  }
  const whole = <K extends 'version' | 'config' | 'stream'>(part: K, schema: z.ZodType<PersistedState[K]>): void => {
    if (raw[part] === undefined) return;
    const n = before();
    const value = parsePart(schema, raw[part], where(part), problems, part);
    if (value !== undefined) state[part] = value;
    note(part, n);
  };
  whole('version', z.number().int().nonnegative());
  whole('config', StreamConfigSchema);
  whole('stream', StreamStateSchema);

  if (raw['layers'] !== undefined) {
    const n = before();
    const layers = layerList(raw['layers'], where('layers'), 'layers', problems);
    if (layers) state.layers = layers;
    note('layers', n);
  }
  if (raw['preview'] !== undefined) {
    const n = before();
    const preview = layerList(raw['preview'], where('preview'), 'preview', problems);
    if (preview) state.preview = preview;
    note('preview', n);
  }
  if (raw['assets'] !== undefined) {
    const n = before();
    const entries = recordEntries(raw['assets'], where('assets'), 'assets', problems, (id, v, path) => {
      const meta = parsePart(AssetMetaSchema, v, where('assets'), problems, path);
      if (meta && meta.id !== id)
        return void problems.push({ where: where('assets'), path: `${path}.id`, message: `Expected "${id}" (its key)` });
      return meta;
    });
    if (entries) state.assets = Object.fromEntries(entries) as Record<string, AssetMeta>;
    note('assets', n);
  }
  if (raw['outputs'] !== undefined) {
    const n = before();
    const outputs = uniqueList<OutputSpec>(raw['outputs'], OutputSpecSchema, LIMITS.outputs, where('outputs'), 'outputs', problems);
    if (outputs) state.outputs = outputs;
    note('outputs', n);
  }
  if (raw['data'] !== undefined) {
    const n = before();
    let count = 0;
    const entries = recordEntries(raw['data'], where('data'), 'data', problems, (key, v, path) => {
      const ok = DataKeySchema.safeParse(key).success;
      if (!ok) return void problems.push({ where: where('data'), path, message: 'Invalid data key' });
      const value = parsePart(DataValueSchema, v, where('data'), problems, path);
      if (value === undefined) return undefined;
      if (++count > LIMITS.dataKeys)
        return void problems.push({ where: where('data'), path, message: `Over the limit of ${LIMITS.dataKeys} keys` });
      return value;
    });
    if (entries) state.data = Object.fromEntries(entries) as Record<string, DataValue>;
    note('data', n);
  }
  if (raw['scenes'] !== undefined) {
    const n = before();
    const scenes = scenesPart(raw['scenes'], where('scenes'), problems);
    if (scenes) state.scenes = scenes;
    note('scenes', n);
  }
  return { state, damaged };
}

/** A record's valid entries (null-prototype safe: returned as pairs), or undefined when not an object. */
function recordEntries<T>(
  value: unknown,
  where: string,
  path: string,
  problems: LoadProblem[],
  item: (key: string, v: unknown, path: string) => T | undefined,
): [string, T][] | undefined {
  if (!isRecord(value)) {
    problems.push({ where, path, message: 'Expected an object; part set aside' });
    return undefined;
  }
  const out: [string, T][] = [];
  for (const [k, v] of Object.entries(value)) {
    const kept = item(k, v, `${path}.${k}`);
    if (kept !== undefined) out.push([k, kept]);
  }
  return out;
}

/** Valid elements of a list with unique `id`s, at most `max` of them. */
function uniqueList<T extends { id: string }>(
  value: unknown,
  schema: z.ZodType<T>,
  max: number,
  where: string,
  path: string,
  problems: LoadProblem[],
): T[] | undefined {
  if (!Array.isArray(value)) {
    problems.push({ where, path, message: 'Expected an array; part set aside' });
    return undefined;
  }
  const out: T[] = [];
  const seen = new Set<string>();
  value.forEach((v, i) => {
    const item = parsePart(schema, v, where, problems, `${path}.${i}`);
    if (item === undefined) return;
    if (seen.has(item.id)) return void problems.push({ where, path: `${path}.${i}.id`, message: `Duplicate id "${item.id}"; set aside` });
    if (out.length >= max) return void problems.push({ where, path: `${path}.${i}`, message: `Over the limit of ${max}; set aside` });
    seen.add(item.id);
    out.push(item);
  });
  return out;
}

/** Valid layers of a stored layer list (unique ids, at most LIMITS.layersPerScene). */
function layerList(value: unknown, where: string, path: string, problems: LoadProblem[]): Layer[] | undefined {
  return uniqueList<Layer>(value, LayerSchema, LIMITS.layersPerScene, where, path, problems);
}

function scenesPart(value: unknown, where: string, problems: LoadProblem[]): ScenesState | undefined {
  if (!isRecord(value)) {
    problems.push({ where, path: 'scenes', message: 'Expected an object; part set aside' });
    return undefined;
  }
  const entries = recordEntries(value['scenes'] ?? {}, where, 'scenes.scenes', problems, (name, v, path) => {
    if (!SceneNameSchema.safeParse(name).success) return void problems.push({ where, path, message: 'Invalid scene name; set aside' });
    return layerList(v, where, path, problems);
  });
  // The same caps as the write path (scene-library.ts): scenes past them are set aside, in stored order.
  const kept: [string, Layer[]][] = [];
  let layers = 0;
  for (const [name, list] of entries ?? []) {
    const path = `scenes.scenes.${name}`;
    if (kept.length >= LIMITS.savedScenes)
      problems.push({ where, path, message: `Over the limit of ${LIMITS.savedScenes} saved scenes; set aside` });
    else if (layers + list.length > LIMITS.savedSceneLayers)
      problems.push({ where, path, message: `Over the limit of ${LIMITS.savedSceneLayers} layers in all saved scenes; set aside` });
    else {
      kept.push([name, list]);
      layers += list.length;
    }
  }
  let active: string | null = null;
  if (value['active'] !== undefined && value['active'] !== null) {
    const ok = SceneNameSchema.safeParse(value['active']);
    if (ok.success) active = ok.data;
    else problems.push({ where, path: 'scenes.active', message: 'Invalid scene name; set to none' });
  }
  return { active, scenes: Object.fromEntries(kept) as Record<string, Layer[]> };
}
