import { EventEmitter } from 'node:events';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Logger } from 'pino';
import { LayerCreateSchema, type Layer, type LayerCreate } from '../../shared/scene.js';
import { layersWithoutReadOnly } from '../../shared/layer-view.js';
import { SceneDocumentSchema, type AssetMeta, type PersistedState, type SceneDocument } from '../../shared/state-doc.js';
import type { OutputSpec } from '../../shared/outputs.js';
import type { ScenesState } from '../../shared/scenes.js';
import { DataPatchSchema, DataSetSchema, type DataSet, type DataValue } from '../../shared/data-binding.js';
import type { StreamConfig } from '../../shared/stream-config.js';
import { initialStreamState, type StreamState } from '../../shared/stream-state.js';
import { AppError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validation.js';
import { assertMatch, SceneStore, type IfMatch, type SceneEvent } from '../scene/scene-store.js';
import { Persister } from './persister.js';
import type { Metrics } from '../metrics/metrics.js';
import type { LoadProblem, StateStore } from './store.js';

/** One change of state, emitted once as `change`. Layer events come from the scene store (the program's; the preview's are `preview`). */
export type StateEvent =
  | SceneEvent
  | { type: 'preview'; event: SceneEvent; version: number }
  | { type: 'asset'; asset: AssetMeta; removed: boolean; version: number }
  | { type: 'config'; config: StreamConfig; version: number }
  | { type: 'stream'; stream: StreamState; version: number }
  | { type: 'outputs'; outputs: OutputSpec[]; version: number }
  | { type: 'data'; data: DataSet; version: number }
  | { type: 'scenes'; scenes: ScenesState; version: number };

/** How the store is doing, for `/health`. */
export interface StoreHealth {
  kind: StateStore['kind'];
  status: 'ok' | 'degraded';
  connected: boolean;
  dirty: boolean;
  /** What the last load found invalid and set aside (the first {@link MAX_REPORTED_PROBLEMS}), and how many in all. */
  loadProblems: { count: number; items: LoadProblem[] };
}

/** Load problems listed by `/health` (all of them are in the log). */
const MAX_REPORTED_PROBLEMS = 20;

/** Longest a request waits for its change to be stored before it is answered 503, ms. */
export const STORE_ACK_TIMEOUT_MS = 5000;

/** The 503 message when a change was applied but could not be stored. */
const HELD_MESSAGE =
  'The change was applied but the state store could not be written; it is held in memory and will be written when the store is back (see /health)';

export interface StateManagerOptions {
  store: StateStore;
  /** First-boot values, used for whatever the store does not hold. */
  defaults: { config: StreamConfig; layers: LayerCreate[] };
  /** Layer check (asset existence), see SceneStore. */
  check?: (layer: Layer, previous?: Layer) => void;
  log: Logger;
  metrics?: Metrics;
}

/** Minimum interval between metrics writes, ms (never once per frame). */
const METRICS_INTERVAL_MS = 1000;

/**
 * The one state of an app instance: stream config, layers, asset metadata and the stream state
 * at its last transition. Every change takes the next value of one monotonic `version`, emits one
 * `change` event and is persisted (whole document, coalesced, see Persister). Validation happens
 * before anything changes, so a refused request changes nothing.
 */
export class StateManager extends EventEmitter<{ change: [StateEvent] }> {
  /** The program: the scene on air. */
  readonly scene: SceneStore;
  /** Studio mode's preview: the off-air scene the next take puts on air (same checks, same version counter). */
  readonly preview: SceneStore;
  readonly store: StateStore;
  readonly #persister: Persister;
  readonly #log: Logger;
  readonly #defaults: StateManagerOptions['defaults'];
  #version = 0;
  #config: StreamConfig;
  #configVersion = 0;
  #stream: StreamState;
  #assets: Record<string, AssetMeta> = {};
  #outputs: OutputSpec[] = [];
  #data: DataSet = {};
  #scenes: ScenesState = { active: null, scenes: {} };
  #dataVersion = 0;
  #loaded = false;
  #configStored = false;
  /** Scene or config changed by a user before the stored state was read. */
  #touched = false;
  #lastMetrics = 0;
  #loadProblems: LoadProblem[] = [];
  /** The last metrics sample failed (logged once until one succeeds again). */
  #sampleFailed = false;
  readonly #metrics: Metrics | undefined;

  constructor(options: StateManagerOptions) {
    super();
    this.store = options.store;
    this.#log = options.log;
    this.#defaults = options.defaults;
    this.#config = options.defaults.config;
    this.#stream = initialStreamState(options.defaults.config.targetFPS);
    this.scene = new SceneStore({ check: options.check, nextVersion: () => ++this.#version });
    this.scene.on('change', (e) => this.#changed(e));
    this.preview = new SceneStore({ check: options.check, nextVersion: () => ++this.#version });
    this.preview.on('change', (e) => this.#changed({ type: 'preview', event: e, version: e.version }));
    this.#metrics = options.metrics;
    this.#persister = new Persister(
      options.store,
      () => this.document(),
      options.log,
      () => this.#loaded,
      options.metrics,
    );
    options.store.onAmnesia?.((reason) => {
      if (!this.#loaded) return;
      this.#log.warn({ reason, version: this.#version, store: this.store.kind }, 'the store lost the state; writing the whole state back');
      this.#persister.markDirty();
    });
  }

  /** The monotonic state version (every change bumps it). */
  get version(): number {
    return this.#version;
  }

  get config(): StreamConfig {
    return this.#config;
  }

  /** Version at which the config last changed (its ETag). */
  get configVersion(): number {
    return this.#configVersion;
  }

  /** The stream state at its last transition (live, paused, error), as persisted. */
  get stream(): StreamState {
    return this.#stream;
  }

  /** True when the config in effect was read from the store (false: the defaults). */
  get configStored(): boolean {
    return this.#configStored;
  }

  /** True once stored state has been read (or found absent). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The live data for text placeholders. */
  get data(): DataSet {
    return this.#data;
  }

  /** The state version of the data's last change (renderers re-render bound text when it moves). */
  get dataVersion(): number {
    return this.#dataVersion;
  }

  /**
   * Merges `body` into the data (RFC 7396: `null` removes a key), all or nothing.
   * @throws AppError SM_ERR_VALIDATION
   */
  patchData(body: unknown): DataSet {
    const patch = parseOrThrow(DataPatchSchema, body, 'data');
    const next: Record<string, DataValue> = { ...this.#data };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.#data = parseOrThrow(DataSetSchema, next, 'data');
    this.#dataVersion = ++this.#version;
    this.#changed({ type: 'data', data: this.#data, version: this.#version });
    return this.#data;
  }

  /** The extra outputs as stored (URLs in full). */
  get outputs(): OutputSpec[] {
    return this.#outputs;
  }

  /** Replaces the stored extra outputs (the output hub calls it on every change). */
  setOutputs(outputs: OutputSpec[]): void {
    this.#outputs = outputs;
    this.#changed({ type: 'outputs', outputs, version: ++this.#version });
  }

  /** Saved named scenes and the one last activated. */
  get scenes(): ScenesState {
    return this.#scenes;
  }

  /** Replaces the saved scenes (the scene library calls it on every change). */
  setScenes(scenes: ScenesState): void {
    this.#scenes = scenes;
    this.#changed({ type: 'scenes', scenes, version: ++this.#version });
  }

  get assets(): Record<string, AssetMeta> {
    return this.#assets;
  }

  /** An asset's metadata, or undefined. */
  asset(id: string): AssetMeta | undefined {
    return Object.hasOwn(this.#assets, id) ? this.#assets[id] : undefined;
  }

  /** Adds (or keeps) an asset's metadata. */
  putAsset(meta: AssetMeta): void {
    this.#assets = { ...this.#assets, [meta.id]: meta };
    this.#changed({ type: 'asset', asset: meta, removed: false, version: ++this.#version });
  }

  /** Forgets an asset's metadata (the caller removes the file). */
  removeAsset(id: string): void {
    const meta = this.asset(id);
    if (!meta) return;
    const rest = { ...this.#assets };
    delete rest[id];
    this.#assets = rest;
    this.#changed({ type: 'asset', asset: meta, removed: true, version: ++this.#version });
  }

  /**
   * Loads the stored state. Missing or invalid parts fall back to the defaults (invalid ones are
   * logged with where and which field, and were set aside by the store). With no stored state at
   * all, the defaults (including the default scene) are applied and written.
   * @returns whether a stored state was found, and the problems seen
   * @throws Error when the store cannot be read (e.g. Redis unreachable)
   */
  async load(emit = false): Promise<{ restored: boolean; problems: LoadProblem[] }> {
    this.#metrics?.storeOps.inc({ op: 'load' });
    const { state, problems } = await this.store.load().catch((err: unknown) => {
      this.#metrics?.storeFailures.inc({ op: 'load' });
      throw err;
    });
    for (const p of problems)
      this.#log.error(p, 'stored state is invalid; set aside, the valid rest is kept (defaults for a missing part)');
    this.#loadProblems = problems;
    this.#loaded = true;
    this.#configStored = Boolean(state?.config);
    if (!state) {
      this.#applyDefaults();
      this.#persister.markDirty();
      return { restored: false, problems };
    }
    this.#version = state.version ?? 0;
    this.#config = state.config ?? this.#defaults.config;
    this.#configVersion = this.#version;
    this.#assets = state.assets ?? {};
    this.#outputs = state.outputs ?? [];
    this.#data = state.data ?? {};
    this.#dataVersion = this.#version;
    this.#scenes = state.scenes ?? { active: null, scenes: {} };
    this.#stream = state.stream ?? initialStreamState(this.#config.targetFPS);
    if (state.layers) this.scene.restore(state.layers, this.#version);
    else this.#restoreDefaultLayers();
    this.preview.restore(state.preview ?? [], this.#version);
    if (problems.length) this.#persister.markDirty();
    else this.#persister.markStored(this.#version);
    if (emit) {
      // Through the scene stores, so that whoever follows a scene (the WS layerUpdate and
      // previewLayerUpdate, the renderers, the video sources) hears of it, not only the state's listeners.
      this.scene.announceRestored(this.#version);
      this.preview.announceRestored(this.#version);
      this.emit('change', { type: 'config', config: this.#config, version: this.#version });
    }
    return { restored: true, problems };
  }

  /**
   * Reads the stored state once the store is reachable after a boot without it. If a user changed
   * the scene or config meanwhile, their state wins and is written; otherwise the stored state is
   * adopted (with events, so the pipeline and viewers follow).
   * @returns true when the stored state was adopted
   */
  async loadLate(): Promise<boolean> {
    if (this.#loaded) return false;
    if (this.#touched) {
      this.#loaded = true;
      this.#log.warn('the store came back after changes were made without it; writing the current state over it');
      this.#persister.markDirty();
      return false;
    }
    const { restored } = await this.load(true);
    return restored;
  }

  /** Starts with the defaults without reading the store (it was unreachable); `load` may follow. */
  useDefaults(): void {
    this.#applyDefaults();
  }

  /**
   * Replaces the stream config.
   * @throws AppError SM_ERR_PRECONDITION_FAILED when `ifMatch` is not the config's version
   */
  setConfig(config: StreamConfig, ifMatch?: IfMatch): StreamConfig {
    assertMatch(ifMatch, this.#configVersion, 'The config');
    this.#config = config;
    this.#configVersion = ++this.#version;
    this.#changed({ type: 'config', config, version: this.#version });
    return config;
  }

  /**
   * Notes the pipeline's stream state. Only transitions (live, paused, error, start time) are
   * state changes; the counters are metrics, written at most once a second with a TTL.
   */
  observeStream(s: StreamState): void {
    const prev = this.#stream;
    if (
      prev.isLive !== s.isLive ||
      prev.isPaused !== s.isPaused ||
      prev.error !== s.error ||
      prev.startTime !== s.startTime ||
      prev.targetFPS !== s.targetFPS
    ) {
      this.#stream = { ...s };
      this.#changed({ type: 'stream', stream: this.#stream, version: ++this.#version });
    }
    const now = Date.now();
    if (now - this.#lastMetrics >= METRICS_INTERVAL_MS && this.store.connected) {
      this.#lastMetrics = now;
      let sample: Parameters<StateStore['saveMetrics']>[0];
      try {
        // process.memoryUsage() and os.* read /proc: they throw (EMFILE) when the fd table is
        // full, and this runs in the stream's timer, where a throw would end the process.
        sample = {
          stream: {
            fps: s.fps,
            frameCount: s.frameCount,
            droppedFrames: s.droppedFrames,
            averageRenderTime: s.averageRenderTime,
            memoryUsage: process.memoryUsage.rss(),
            timestamp: now,
          },
          system: {
            cpuCores: cpus().length,
            load1: loadavg()[0] ?? 0,
            memoryUsed: totalmem() - freemem(),
            memoryTotal: totalmem(),
            timestamp: now,
          },
          health: { status: this.health().status, isLive: s.isLive, timestamp: now },
        };
      } catch (err) {
        if (!this.#sampleFailed) this.#log.warn({ err }, 'metrics sample failed (fd table full?); skipped until it succeeds');
        this.#sampleFailed = true;
        return;
      }
      this.#sampleFailed = false;
      this.store.saveMetrics(sample).then(
        () => this.#metrics?.storeOps.inc({ op: 'metrics' }),
        (err: unknown) => {
          this.#metrics?.storeFailures.inc({ op: 'metrics' });
          this.#log.debug({ err }, 'metrics write failed');
        },
      );
    }
  }

  /** The scene as one versioned document. */
  sceneDocument(): SceneDocument {
    const { width, height, targetFPS, background } = this.#config;
    return { version: this.#version, canvas: { width, height, targetFPS, background }, layers: this.scene.list() };
  }

  /**
   * Replaces canvas and layers from a scene document, all or nothing. The layers' read-only
   * `media` (a document read from `GET /scene`) is ignored.
   * @throws AppError SM_ERR_VALIDATION, SM_ERR_ASSET_NOT_FOUND, SM_ERR_PRECONDITION_FAILED (against `version`)
   */
  replaceScene(body: unknown, ifMatch?: IfMatch): SceneDocument {
    const doc = parseOrThrow(SceneDocumentSchema, layersWithoutReadOnly(body), 'scene');
    assertMatch(ifMatch, this.#version, 'The scene');
    this.scene.replaceAll(doc.layers);
    this.setConfig({ ...this.#config, ...doc.canvas });
    return this.sceneDocument();
  }

  /** Studio mode's preview scene as one versioned document (the canvas is the program's: both share it). */
  previewDocument(): SceneDocument {
    return { ...this.sceneDocument(), layers: this.preview.list() };
  }

  /**
   * Replaces the preview scene's layers from a scene document, all or nothing. Its canvas must be
   * the one in effect (program and preview share it; `PATCH /stream/config` changes it).
   * @throws AppError SM_ERR_VALIDATION (also a different canvas), SM_ERR_ASSET_NOT_FOUND,
   *   SM_ERR_PRECONDITION_FAILED (against `version`)
   */
  replacePreview(body: unknown, ifMatch?: IfMatch): SceneDocument {
    const doc = parseOrThrow(SceneDocumentSchema, layersWithoutReadOnly(body), 'scene');
    assertMatch(ifMatch, this.#version, 'The preview scene');
    const { canvas } = this.sceneDocument();
    const same = (['width', 'height', 'targetFPS', 'background'] as const).every(
      (k) => JSON.stringify(doc.canvas[k]) === JSON.stringify(canvas[k]),
    );
    if (!same)
      throw new AppError(
        'SM_ERR_VALIDATION',
        'The canvas is shared by program and preview: send the one in effect (GET /stream/preview/scene), change it with PATCH /stream/config',
        [{ path: 'canvas', message: `Expected the canvas in effect: ${JSON.stringify(canvas)}` }],
      );
    this.preview.replaceAll(doc.layers);
    return this.previewDocument();
  }

  /** The whole persisted document. */
  document(): PersistedState {
    return {
      version: this.#version,
      config: this.#config,
      layers: this.scene.list(),
      assets: this.#assets,
      stream: this.#stream,
      outputs: this.#outputs,
      data: this.#data,
      scenes: this.#scenes,
      preview: this.preview.list(),
    };
  }

  health(): StoreHealth {
    const connected = this.store.connected;
    const ok = connected && this.#loaded && !this.#persister.failing;
    return {
      kind: this.store.kind,
      status: ok ? 'ok' : 'degraded',
      connected,
      dirty: this.#persister.dirty,
      loadProblems: { count: this.#loadProblems.length, items: this.#loadProblems.slice(0, MAX_REPORTED_PROBLEMS) },
    };
  }

  /**
   * True when a change made now can be stored: the stored state was read, the store is reachable
   * and its last write did not fail. Mutating requests are refused up front (503) otherwise.
   */
  get writable(): boolean {
    return this.#loaded && this.store.connected && !this.#persister.failing;
  }

  /**
   * Resolves once the store holds `version` (default: the current one): a 2xx may be answered.
   * Changes made meanwhile by other requests share the same write (group commit).
   * @throws AppError SM_ERR_STORE_UNAVAILABLE when the store is unreachable, the write fails or
   *   takes over {@link STORE_ACK_TIMEOUT_MS}; the change stays in memory and is written later
   */
  async durable(version = this.#version): Promise<void> {
    if (this.#persister.storedVersion >= version) return;
    if (!this.#loaded || !this.store.connected) throw new AppError('SM_ERR_STORE_UNAVAILABLE', HELD_MESSAGE);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#persister.durable(version),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not stored within ${STORE_ACK_TIMEOUT_MS} ms`)), STORE_ACK_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      throw new AppError('SM_ERR_STORE_UNAVAILABLE', HELD_MESSAGE, undefined, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Persister counters (writes, failures). */
  get persistCounts(): { writes: number; failures: number } {
    return { ...this.#persister.counts };
  }

  /** Resolves once the store has the latest state (or a write failed). */
  flush(): Promise<void> {
    return this.#persister.flush();
  }

  /** Writes what is pending, then stops retrying and closes the store. */
  async close(): Promise<void> {
    await this.flush();
    this.#persister.close();
    await this.store.close();
  }

  #applyDefaults(): void {
    this.#config = this.#defaults.config;
    this.#configVersion = this.#version;
    this.#restoreDefaultLayers();
  }

  #restoreDefaultLayers(): void {
    const layers = this.#defaults.layers.map((l) => {
      const parsed = LayerCreateSchema.parse(l);
      return { ...parsed, id: parsed.id ?? `layer-${Math.random().toString(36).slice(2, 10)}` };
    });
    this.scene.restore(layers, this.#version);
  }

  #changed(event: StateEvent): void {
    if (event.type !== 'stream') this.#touched = true;
    this.#persister.markDirty();
    this.emit('change', event);
  }
}
