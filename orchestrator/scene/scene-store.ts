import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AppError } from '../../shared/errors.js';
import { LayerCreateSchema, LayerSchema, VisibilityBodySchema, type Layer } from '../../shared/scene.js';
import { LIMITS } from '../../shared/limits.js';
import { parseOrThrow } from '../../shared/validation.js';
import { BatchSchema, type BatchOp } from '../../shared/batch.js';
import { withoutReadOnly } from '../../shared/layer-view.js';
import { isLiveSrc, MediaActionSchema, type MediaAction } from '../../shared/media.js';
import { transportOrder } from './transport-order.js';
import { AnimationBodySchema, TweenSchema, type AnimationBody, type Tween, type VisibilityTransition } from '../../shared/animation.js';
import { mergePatch } from './merge-patch.js';

/** A change to the scene, emitted once per successful change as `change`. */
export type SceneEvent =
  | { type: 'layerAdded'; layer: Layer; version: number }
  | {
      type: 'layerUpdated';
      layer: Layer;
      previous: Layer;
      version: number;
      /** The change's `transition`: transform and opacity glide to their new values. */
      tween?: Tween;
      /** A show/hide transition given with this change (overrides the layer's `transitions`). */
      reveal?: VisibilityTransition;
      /** A host animation was asked for (`POST /layers/:id/animation`). */
      play?: AnimationBody;
    }
  | { type: 'layerRemoved'; layer: Layer; version: number }
  | { type: 'sceneReplaced'; layers: Layer[]; version: number };

/** Options of a {@link SceneStore}. */
export interface SceneStoreOptions {
  /**
   * Runs on every layer about to be stored, after schema validation; throws an AppError to
   * refuse it (e.g. an asset that does not exist). `previous`: the stored layer it replaces (a
   * change to a layer, or a scene replacement keeping its id), so that a check can let through
   * what the layer already had (an asset deleted with force) and refuse only what is new.
   */
  check?: (layer: Layer, previous?: Layer) => void;
  /** Hands out the next state version (the state manager's counter); default: a counter of its own. */
  nextVersion?: () => number;
}

/** An If-Match precondition: the version a change expects, or a list of which any one will do. */
export type IfMatch = number | readonly number[];

/**
 * Throws SM_ERR_PRECONDITION_FAILED unless `ifMatch` is absent or is (or lists) `current`.
 * @param ifMatch the version(s) from the request's If-Match header (an empty list never matches)
 */
export function assertMatch(ifMatch: IfMatch | undefined, current: number, what: string): void {
  if (ifMatch === undefined) return;
  const listed = typeof ifMatch === 'number' ? [ifMatch] : ifMatch;
  if (!listed.includes(current)) {
    const named = listed.length ? listed.join(', ') : 'no strong version tag';
    throw new AppError('SM_ERR_PRECONDITION_FAILED', `${what} is at version ${current}, not ${named}`, { current });
  }
}

/** A layer with the scene version at which it last changed (the renderer's cache key). */
export interface LayerEntry {
  layer: Layer;
  /** Scene version of this layer's last change. */
  revision: number;
  /** Creation order, breaks zIndex ties so the order is stable. */
  seq: number;
  /** The renderer's buffer key when not the layer id (a crossfade's outgoing layers). */
  slot?: string;
}

let freshSeq = 0;

/**
 * A revision no store change ever has (negative, never repeated): for an entry changed at frame
 * time (a tween's size, a chat layer's lines), so the renderer compares its render key again.
 */
export function freshRevision(): number {
  return -++freshSeq;
}

/**
 * The scene's layers, in memory. Every method validates its input with the scene schemas first
 * and changes nothing when that fails; every change takes a new version (the layer's revision,
 * its ETag) and emits one `change` event. `ifMatch` arguments make a change conditional on the
 * layer's revision (optimistic concurrency).
 */
export class SceneStore extends EventEmitter<{ change: [SceneEvent] }> {
  readonly #check: (layer: Layer, previous?: Layer) => void;
  readonly #nextVersion: () => number;
  #entries = new Map<string, LayerEntry>();
  #ordered: LayerEntry[] | null = [];
  #seq = 0;
  #ownVersion = 0;
  /** While a batch runs: its events, emitted only once every operation succeeded. */
  #pending: SceneEvent[] | null = null;

  constructor(options: SceneStoreOptions = {}) {
    super();
    this.#check = options.check ?? (() => undefined);
    this.#nextVersion = options.nextVersion ?? (() => ++this.#ownVersion);
  }

  /**
   * The entry (layer and revision) with this id; the revision is the layer's ETag.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND
   */
  entry(id: string): LayerEntry {
    return this.#entry(id);
  }

  /**
   * Runs the store's check (assets exist) on layers kept elsewhere, e.g. a saved scene.
   * @throws AppError from the check
   */
  check(layers: readonly Layer[]): void {
    for (const layer of layers) this.#check(layer);
  }

  /**
   * Runs the check {@link replaceAll} runs on `layers`, each against the stored layer of its id,
   * without changing anything (to refuse before anything else is set in motion).
   * @throws AppError from the check
   */
  checkReplacement(layers: readonly Layer[]): void {
    for (const layer of layers) this.#check(layer, this.#entries.get(layer.id)?.layer);
  }

  /** Puts stored layers back, as they were, without events (state loading). */
  restore(layers: readonly Layer[], revision: number): void {
    this.#entries.clear();
    this.#seq = 0;
    for (const layer of layers) this.#entries.set(layer.id, { layer, revision, seq: this.#seq++ });
    this.#ordered = null;
  }

  /**
   * Tells listeners that {@link restore} replaced the whole scene (a stored state loaded late, once
   * the store came back): `sceneReplaced` with the layers now, at state version `version`.
   */
  announceRestored(version: number): void {
    this.emit('change', { type: 'sceneReplaced', layers: this.list(), version });
  }

  /**
   * Replaces every layer at once (`PUT /scene`), all or nothing: each layer passes the check first.
   * Layers must already be schema-valid with unique ids. `trusted`: the layers were accepted by
   * this state already (a studio take swaps program and preview), the check is skipped.
   * @throws AppError from the check (nothing changes)
   */
  replaceAll(layers: readonly Layer[], trusted = false): void {
    if (!trusted) this.checkReplacement(layers);
    const version = this.#nextVersion();
    this.#entries.clear();
    this.#seq = 0;
    for (const layer of layers) this.#entries.set(layer.id, { layer, revision: version, seq: this.#seq++ });
    this.#ordered = null;
    this.emit('change', { type: 'sceneReplaced', layers: [...layers], version });
  }

  /** The layers in compositing order: zIndex ascending, then creation order. */
  entries(): readonly LayerEntry[] {
    if (!this.#ordered) {
      this.#ordered = [...this.#entries.values()].sort((a, b) => a.layer.zIndex - b.layer.zIndex || a.seq - b.seq);
    }
    return this.#ordered;
  }

  /** The layers in compositing order (bottom first). */
  list(): Layer[] {
    return this.entries().map((e) => e.layer);
  }

  /**
   * The layer with this id.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND
   */
  get(id: string): Layer {
    return this.#entry(id).layer;
  }

  /**
   * Adds a layer from a `POST /layers` body; assigns an id when it has none.
   * @throws AppError SM_ERR_VALIDATION, SM_ERR_LAYER_EXISTS, SM_ERR_LIMIT_REACHED (the scene
   *   already has LIMITS.layersPerScene layers)
   */
  create(body: unknown): Layer {
    const input = parseOrThrow(LayerCreateSchema, withoutReadOnly(body), 'layer');
    const layer: Layer = { ...input, id: input.id ?? randomUUID() };
    if (this.#entries.has(layer.id)) {
      throw new AppError('SM_ERR_LAYER_EXISTS', `A layer with id "${layer.id}" already exists`);
    }
    if (this.#entries.size >= LIMITS.layersPerScene) {
      throw new AppError(
        'SM_ERR_LIMIT_REACHED',
        `The scene has ${this.#entries.size} layers; at most ${LIMITS.layersPerScene} are allowed`,
        { limit: 'layersPerScene', max: LIMITS.layersPerScene },
      );
    }
    this.#check(layer);
    const version = this.#nextVersion();
    this.#entries.set(layer.id, { layer, revision: version, seq: this.#seq++ });
    this.#ordered = null;
    this.#emit({ type: 'layerAdded', layer, version });
    return layer;
  }

  /**
   * Replaces a layer with a whole new one (`PUT`); a body id must match.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_VALIDATION, SM_ERR_PRECONDITION_FAILED
   */
  replace(id: string, body: unknown, ifMatch?: IfMatch): Layer {
    assertMatch(ifMatch, this.#entry(id).revision, `Layer "${id}"`);
    const input = parseOrThrow(LayerCreateSchema, withoutReadOnly(body), 'layer');
    if (input.id !== undefined && input.id !== id) {
      throw new AppError('SM_ERR_VALIDATION', `Body id "${input.id}" does not match the path id "${id}"`, [
        { path: 'id', message: `Expected "${id}" or no id` },
      ]);
    }
    return this.#update(id, { ...input, id });
  }

  /**
   * Applies a JSON Merge Patch (RFC 7396) to a layer. A patch that changes `content.type`
   * replaces the content rather than merging into the old one. The result is validated whole.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_VALIDATION, SM_ERR_PRECONDITION_FAILED
   */
  patch(id: string, body: unknown, ifMatch?: IfMatch): Layer {
    const current = this.#entry(id).layer;
    assertMatch(ifMatch, this.#entry(id).revision, `Layer "${id}"`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError('SM_ERR_VALIDATION', 'Expected a JSON object as the patch', [{ path: '', message: 'Expected object' }]);
    }
    const { transition, ...patch } = withoutReadOnly(body) as Record<string, unknown>;
    const tween = transition == null ? undefined : parseOrThrow(TweenSchema, transition, 'transition');
    const content = patch['content'] as Record<string, unknown> | undefined;
    const base: Record<string, unknown> = { ...current };
    if (content && typeof content === 'object' && 'type' in content && content['type'] !== current.content.type) {
      delete base['content'];
    }
    dropOtherVolume(base, patch['audio']);
    const merged = mergePatch(base, patch);
    const layer = parseOrThrow(LayerSchema, merged, 'layer');
    if (layer.id !== id) {
      throw new AppError('SM_ERR_VALIDATION', 'A layer id cannot be changed', [{ path: 'id', message: `Expected "${id}"` }]);
    }
    return this.#update(id, layer, tween && { tween });
  }

  /**
   * Shows or hides a layer; with no `visible` in the body, toggles it.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_VALIDATION, SM_ERR_PRECONDITION_FAILED
   */
  setVisibility(id: string, body: unknown, ifMatch?: IfMatch): Layer {
    const current = this.#entry(id).layer;
    assertMatch(ifMatch, this.#entry(id).revision, `Layer "${id}"`);
    const { visible, transition } = parseOrThrow(VisibilityBodySchema, body ?? {}, 'visibility');
    return this.#update(id, { ...current, visible: visible ?? !current.visible }, transition && { reveal: transition });
  }

  /**
   * Plays a character layer's animation (`POST /layers/:id/animation`): sets `content.animation`;
   * with `durationMs`, the animator puts it back to idle after that long.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_VALIDATION (bad body, or not a character layer)
   */
  playAnimation(id: string, body: unknown): Layer {
    const current = this.#entry(id).layer;
    const play = parseOrThrow(AnimationBodySchema, body ?? {}, 'animation');
    if (current.content.type !== 'character') {
      throw new AppError('SM_ERR_VALIDATION', `Layer "${id}" is a ${current.content.type} layer; only character layers have animations`, [
        { path: 'id', message: 'Expected a character layer' },
      ]);
    }
    return this.#update(id, { ...current, content: { ...current.content, animation: play.name } }, { play });
  }

  /**
   * Checks a media action on video layer `id` (`POST /layers/:id/media`, a batch's `media` op) and
   * stores what it changes of the layer: `play` and `pause` set `content.playing` (a new revision
   * when it changes, none when it already is so), so that the choice survives a restart; `restart`
   * and `seek` store nothing (transport only). The caller applies the action to the source.
   * @returns the layer after the action, and the action parsed
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_PRECONDITION_FAILED, SM_ERR_VALIDATION (not a
   *   video layer, or a body that is not `{action: play|pause|restart|seek, positionMs?}`; seek needs
   *   positionMs, and a live feed does not seek)
   */
  mediaAction(id: string, body: unknown, ifMatch?: IfMatch): { layer: Layer; action: MediaAction } {
    const { layer: current, revision } = this.#entry(id);
    assertMatch(ifMatch, revision, `Layer "${id}"`);
    if (current.content.type !== 'video' && current.content.type !== 'audio') {
      throw new AppError(
        'SM_ERR_VALIDATION',
        `Layer "${id}" is a ${current.content.type} layer; only video and audio layers have media actions`,
        [{ path: 'id', message: 'Expected a video or audio layer' }],
      );
    }
    const action = parseOrThrow(MediaActionSchema, body ?? {}, 'media action');
    if (action.action === 'seek' && isLiveSrc(current.content.src)) {
      throw new AppError('SM_ERR_VALIDATION', `Layer "${id}" shows a live feed; only files seek`, [
        { path: 'action', message: 'Expected play, pause or restart for a live feed' },
      ]);
    }
    const playing = action.action === 'play' ? true : action.action === 'pause' ? false : current.content.playing;
    if (playing === current.content.playing) return { layer: current, action };
    return { layer: this.#update(id, { ...current, content: { ...current.content, playing } }), action };
  }

  /**
   * Removes a layer.
   * @throws AppError SM_ERR_LAYER_NOT_FOUND, SM_ERR_PRECONDITION_FAILED
   */
  delete(id: string, ifMatch?: IfMatch): Layer {
    const { layer, revision } = this.#entry(id);
    assertMatch(ifMatch, revision, `Layer "${id}"`);
    this.#entries.delete(id);
    this.#ordered = null;
    const version = this.#nextVersion();
    this.#emit({ type: 'layerRemoved', layer, version });
    return layer;
  }

  /**
   * Applies a `POST /batch` body: every operation in order, all or nothing. The layers change
   * synchronously, between two frames, so one frame shows either none or all of the batch; the
   * change events go out afterwards, in order; then `transport` gets the `media` ops' actions
   * (the sources change in the same tick as the layers, before the next frame): per layer, in the
   * order of its first op, its last seek or restart, then its last play or pause (what one frame
   * would show of them all; a hundred seeks start one decoder, not a hundred).
   * @param transport applies a media action to a video layer's source (MediaControl.control)
   * @returns what each operation returned: the layer, or `{ id, deleted: true }`
   * @throws AppError of the first failing operation (nothing changed), its message prefixed `ops[i]`
   *   and `details.index` set; SM_ERR_VALIDATION for a malformed batch
   */
  batch(body: unknown, transport?: (id: string, action: MediaAction) => void): (Layer | { id: string; deleted: true })[] {
    const { ops } = parseOrThrow(BatchSchema, body, 'batch');
    const actions: { id: string; action: MediaAction }[] = [];
    const saved = { entries: new Map(this.#entries), seq: this.#seq };
    const events: SceneEvent[] = [];
    this.#pending = events;
    let results: (Layer | { id: string; deleted: true })[];
    try {
      results = ops.map((op, index) => {
        try {
          if (op.op !== 'media') return this.#apply(op);
          const { layer, action } = this.mediaAction(op.id, { action: op.action, positionMs: op.positionMs });
          actions.push({ id: op.id, action });
          return layer;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          throw new AppError(err.code, `ops[${index}] (${op.op}): ${err.message}`, { index, op: op.op, errors: err.details });
        }
      });
    } catch (err) {
      this.#entries = saved.entries;
      this.#seq = saved.seq;
      this.#ordered = null;
      throw err;
    } finally {
      this.#pending = null;
    }
    for (const e of events) this.emit('change', e);
    for (const a of transportOrder(actions)) transport?.(a.id, a.action);
    return results;
  }

  #apply(op: Exclude<BatchOp, { op: 'media' }>): Layer | { id: string; deleted: true } {
    switch (op.op) {
      case 'create':
        return this.create(op.layer);
      case 'patch':
        return this.patch(op.id, op.patch);
      case 'replace':
        return this.replace(op.id, op.layer);
      case 'visibility':
        return this.setVisibility(op.id, {
          ...(op.visible === undefined ? {} : { visible: op.visible }),
          ...(op.transition === undefined ? {} : { transition: op.transition }),
        });
      case 'delete':
        this.delete(op.id);
        return { id: op.id, deleted: true };
    }
  }

  #emit(event: SceneEvent): void {
    if (this.#pending) this.#pending.push(event);
    else this.emit('change', event);
  }

  #entry(id: string): LayerEntry {
    const entry = this.#entries.get(id);
    if (!entry) throw new AppError('SM_ERR_LAYER_NOT_FOUND', `No layer has id "${id}"`);
    return entry;
  }

  #update(id: string, layer: Layer, extra: { tween?: Tween; reveal?: VisibilityTransition; play?: AnimationBody } = {}): Layer {
    const entry = this.#entry(id);
    this.#check(layer, entry.layer);
    const previous = entry.layer;
    const version = this.#nextVersion();
    this.#entries.set(id, { layer, revision: version, seq: entry.seq });
    this.#ordered = null;
    this.#emit({ type: 'layerUpdated', layer, previous, version, ...extra });
    return layer;
  }
}

/**
 * A layer holds `audio.volume` or `audio.volumeDb`, not both: a patch that sets one drops the
 * other from `base` (a copy of the stored layer) before the merge.
 */
function dropOtherVolume(base: Record<string, unknown>, audio: unknown): void {
  const stored = base['audio'];
  if (typeof audio !== 'object' || audio === null || typeof stored !== 'object' || stored === null) return;
  const a = audio as Record<string, unknown>;
  const other = a['volume'] != null ? 'volumeDb' : a['volumeDb'] != null ? 'volume' : null;
  if (!other) return;
  const rest = { ...(stored as Record<string, unknown>) };
  delete rest[other];
  base['audio'] = rest;
}
