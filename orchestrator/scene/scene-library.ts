import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { LayerSchema, type Layer, type LayerCreate } from '../../shared/scene.js';
import {
  ActivateSceneSchema,
  SceneNameSchema,
  ScenePutSchema,
  SceneTemplateSchema,
  type ActivateScene,
  type SceneTemplate,
  type ScenesState,
} from '../../shared/scenes.js';
import { LIMITS } from '../../shared/limits.js';
import { layersWithoutReadOnly } from '../../shared/layer-view.js';
import { emptyRecord, ownValue } from '../../shared/own-record.js';
import { LayerListSchema } from '../../shared/state-doc.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { Bus } from '../../shared/studio.js';
import type { LayerEntry, SceneStore } from './scene-store.js';

/** A scene as the API shows it. `template`: it comes from `assets/scenes/` (read-only). */
export interface SceneView {
  name: string;
  layers: Layer[];
  template: boolean;
}

/**
 * A template's layers laid out for `width` x `height`: positions and box sizes scaled by the
 * canvas ratio on each axis, `scale`, font sizes and chat widths by the smaller ratio.
 */
export function fitTemplate(template: SceneTemplate, width: number, height: number): LayerCreate[] {
  const sx = width / template.canvas.width;
  const sy = height / template.canvas.height;
  if (sx === 1 && sy === 1) return template.layers;
  const s = Math.min(sx, sy);
  const r = (v: number): number => Math.round(v * 100) / 100;
  return template.layers.map((l) => {
    const t = l.transform ?? { x: 0, y: 0 };
    const transform = {
      ...t,
      x: r((t.x ?? 0) * sx),
      y: r((t.y ?? 0) * sy),
      ...(t.width === undefined ? {} : { width: r(t.width * sx) }),
      ...(t.height === undefined ? {} : { height: r(t.height * sy) }),
      ...(t.scale === undefined ? {} : { scale: r(t.scale * s) }),
    };
    const c = l.content;
    const content =
      c.type === 'text'
        ? { ...c, style: { ...c.style, fontSize: r(c.style.fontSize * s) } }
        : c.type === 'chat'
          ? { ...c, width: r(c.width * sx), style: { ...c.style, fontSize: r(c.style.fontSize * s) } }
          : c;
    return { ...l, transform, content };
  });
}

/** Layers from create bodies: ids assigned where missing, each validated whole. */
function toLayers(bodies: readonly LayerCreate[]): Layer[] {
  return parseOrThrow(
    LayerListSchema,
    bodies.map((b) => parseOrThrow(LayerSchema, { ...b, id: b.id ?? randomUUID() }, 'layer')),
    'layers',
  );
}

/**
 * What the library needs of the state: the saved scenes, the live layers, the canvas size and the
 * state version. The state manager is one (the state is above the scene, which it holds).
 */
export interface SceneLibraryState {
  readonly scenes: ScenesState;
  setScenes(scenes: ScenesState): unknown;
  readonly scene: SceneStore;
  /** Studio mode's off-air preview scene. */
  readonly preview: SceneStore;
  readonly config: { readonly width: number; readonly height: number };
  readonly version: number;
}

/** What the library needs to crossfade: motion/'s scene switcher is one. */
export interface SceneTransition {
  /** Starts a crossfade from `outgoing` (the live layers before the switch) to scene `name`, activated at `version`. */
  begin(outgoing: readonly LayerEntry[], name: string, version: number, options: ActivateScene): void;
}

/** What the library needs of the video sources: MediaControl (orchestrator/media/media-control.ts) is one. */
export interface SceneMedia {
  /** Starts the files of `layerIds` again from their `startMs`. */
  restartAll(layerIds: readonly string[]): void;
}

/**
 * Named scenes (OBS's scene list, CasparCG's saved layouts): saved in the state store, plus the
 * templates in `assets/scenes/*.json` (read at start; a saved scene of the same name wins).
 * Activating one replaces the live layers in one change, with a cut or a crossfade.
 */
export class SceneLibrary {
  readonly #state: SceneLibraryState;
  readonly #switcher: SceneTransition;
  readonly #templates = new Map<string, SceneTemplate>();
  /** The video sources, set once the pipeline exists: an activation starts the scene's videos at their `startMs`. */
  media: SceneMedia | null = null;

  /**
   * @param templatesDir folder of `*.json` scene templates (`assets/scenes`); unreadable or
   *   invalid files are logged and skipped
   */
  constructor(state: SceneLibraryState, switcher: SceneTransition, templatesDir: string, log: Logger) {
    this.#state = state;
    this.#switcher = switcher;
    let files: string[] = [];
    try {
      files = readdirSync(templatesDir).filter((f) => f.endsWith('.json'));
    } catch (err) {
      log.warn({ err, templatesDir }, 'no scene templates');
    }
    for (const file of files) {
      const name = file.slice(0, -'.json'.length);
      try {
        const doc = parseOrThrow(SceneTemplateSchema, JSON.parse(readFileSync(join(templatesDir, file), 'utf8')), 'scene template');
        if (SceneNameSchema.safeParse(name).success) this.#templates.set(name, doc);
      } catch (err) {
        log.error({ err, file }, 'scene template is invalid; skipped');
      }
    }
  }

  /** Every scene (saved and templates), by name, and the one last activated. */
  list(): { active: string | null; scenes: { name: string; layers: number; template: boolean }[] } {
    const names = new Set([...this.#templates.keys(), ...Object.keys(this.#state.scenes.scenes)]);
    return {
      active: this.#state.scenes.active,
      scenes: [...names].sort().map((name) => {
        const v = this.get(name);
        return { name, layers: v.layers.length, template: v.template };
      }),
    };
  }

  /**
   * One scene; a template is laid out for the current canvas.
   * @throws AppError SM_ERR_SCENE_NOT_FOUND
   */
  get(name: string): SceneView {
    const saved = ownValue(this.#state.scenes.scenes, name);
    if (saved) return { name, layers: saved, template: false };
    const template = this.#templates.get(name);
    if (!template) throw new AppError('SM_ERR_SCENE_NOT_FOUND', `No scene is named "${name}"`);
    const { width, height } = this.#state.config;
    return { name, layers: toLayers(fitTemplate(template, width, height)), template: true };
  }

  /**
   * Saves a scene: `{layers}`, or `{}` for the layers of `bus` (default the program's live layers) as they are now.
   * @throws AppError SM_ERR_VALIDATION (name, body, duplicate ids), SM_ERR_ASSET_NOT_FOUND,
   *   SM_ERR_LIMIT_REACHED (LIMITS.savedScenes, LIMITS.savedSceneLayers)
   */
  save(name: string, body: unknown, bus: Bus = 'program'): SceneView {
    parseOrThrow(SceneNameSchema, name, 'scene name');
    const put = parseOrThrow(ScenePutSchema, layersWithoutReadOnly(body ?? {}), 'scene');
    const layers = put.layers ? toLayers(put.layers) : (bus === 'preview' ? this.#state.preview : this.#state.scene).list();
    this.#state.scene.check(layers);
    const s = this.#state.scenes;
    const others = Object.entries(s.scenes).filter(([n]) => n !== name);
    if (others.length >= LIMITS.savedScenes)
      throw new AppError('SM_ERR_LIMIT_REACHED', `At most ${LIMITS.savedScenes} saved scenes; delete one first`, {
        limit: 'savedScenes',
        max: LIMITS.savedScenes,
      });
    const total = others.reduce((n, [, l]) => n + l.length, layers.length);
    if (total > LIMITS.savedSceneLayers)
      throw new AppError(
        'SM_ERR_LIMIT_REACHED',
        `Saved scenes may hold ${LIMITS.savedSceneLayers} layers together; this would make ${total}`,
        { limit: 'savedSceneLayers', max: LIMITS.savedSceneLayers },
      );
    // A copy without prototype: `__proto__` or `constructor` is a name like any other.
    const scenes = Object.assign(emptyRecord<Layer[]>(), s.scenes);
    scenes[name] = layers;
    this.#state.setScenes({ ...s, scenes });
    return { name, layers, template: false };
  }

  /**
   * Deletes a saved scene (templates cannot be deleted).
   * @throws AppError SM_ERR_SCENE_NOT_FOUND
   */
  remove(name: string): void {
    const s = this.#state.scenes;
    if (!ownValue(s.scenes, name))
      throw new AppError(
        'SM_ERR_SCENE_NOT_FOUND',
        `No saved scene is named "${name}"${this.#templates.has(name) ? ' (templates are read-only)' : ''}`,
      );
    const rest = Object.assign(emptyRecord<Layer[]>(), s.scenes);
    delete rest[name];
    this.#state.setScenes({ active: s.active === name ? null : s.active, scenes: rest });
  }

  /**
   * Makes `name` the live scene: its layers replace the live ones in one change (one frame shows
   * the old scene, the next the new one, or the crossfade's first step), and its video layers start
   * at their `startMs` (also those that were live before with the same id).
   * @throws AppError SM_ERR_SCENE_NOT_FOUND, SM_ERR_VALIDATION (body), SM_ERR_ASSET_NOT_FOUND
   */
  activate(name: string, body: unknown): { active: string; version: number; transition: 'cut' | 'crossfade'; layers: Layer[] } {
    const options = parseOrThrow(ActivateSceneSchema, body ?? {}, 'activation');
    const { layers } = this.get(name);
    const scene = this.#state.scene;
    const outgoing = scene.entries();
    // Checked first: a refused activation must not have begun a crossfade.
    scene.checkReplacement(layers);
    const crossfade = options.transition === 'crossfade' && options.durationMs > 0;
    // The crossfade begins before the layers change: a frame made at once on the change (render
    // ahead) already mixes from the outgoing scene instead of showing the incoming one alone for a
    // frame. Its version is the one the replacement takes next.
    if (crossfade) this.#switcher.begin(outgoing, name, this.#state.version + 1, options);
    scene.replaceAll(layers);
    const version = this.#state.version;
    const videos = layers.filter((l) => l.content.type === 'video').map((l) => l.id);
    if (videos.length) this.media?.restartAll(videos);
    this.#state.setScenes({ ...this.#state.scenes, active: name });
    return { active: name, version, transition: crossfade ? 'crossfade' : 'cut', layers: scene.list() };
  }

  /**
   * Loads `name` into studio mode's preview scene (off air: always a cut, nothing on the program
   * changes, the saved scenes' `active` stays). The body is checked as an activation's and its
   * transition ignored (a take chooses the transition).
   * @throws AppError SM_ERR_SCENE_NOT_FOUND, SM_ERR_VALIDATION (body), SM_ERR_ASSET_NOT_FOUND
   */
  activatePreview(name: string, body: unknown): { active: string; version: number; transition: 'cut'; layers: Layer[] } {
    parseOrThrow(ActivateSceneSchema, body ?? {}, 'activation');
    const { layers } = this.get(name);
    this.#state.preview.replaceAll(layers);
    return { active: name, version: this.#state.version, transition: 'cut', layers: this.#state.preview.list() };
  }
}
