import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { evictionChannelName, type EvictMessage } from '../../pool/messages.js';
import { ASSET_ID, type Layer } from '../../shared/scene.js';
import type { AssetMeta } from '../../shared/state-doc.js';
import { assetRefs } from '../scene/asset-check.js';
import type { StateManager } from '../state/state-manager.js';
import type { AssetFiles } from './asset-files.js';
import { inspectUpload, type InspectLimits } from './inspect.js';
import { inspectVideo, type VideoLimits, type VideoTools } from './inspect-video.js';
import { inspectAudio } from './inspect-audio.js';
import { AUDIO_MIMES, type ReceivedUpload } from './upload-sink.js';

/** Video uploads inspected at once (each runs ffprobe and an ffmpeg beside the live program); more wait their turn. */
const VIDEO_INSPECTIONS = 2;

/** What video uploads need: the ffmpeg tools and the limits. */
export interface VideoIngestOptions {
  tools: VideoTools;
  limits: VideoLimits;
}

/** Whether `layer` reads asset `id`. */
function uses(layer: Layer, id: string): boolean {
  return assetRefs(layer).some((r) => r.ref === id);
}

/** The layers of one saved scene that use an asset. */
export interface SceneUse {
  name: string;
  layers: string[];
}

/** What deleting an asset changed: live layers hidden, layers taken out of saved scenes. */
export interface AssetRemoval {
  hiddenLayers: string[];
  removedFromScenes: SceneUse[];
  /** Studio mode's preview scene layers hidden (present only when there were any). */
  hiddenPreviewLayers?: string[];
}

/** Keeps file names to letters, digits, `.`, `_`, `-` (no path parts), at most 100 characters. */
export function sanitizeName(name: string | null | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  return base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100) || 'upload';
}

/**
 * Uploaded assets (images, fonts, videos): validation, content-addressed storage, metadata in the
 * state, use by layers, and eviction from every render worker's caches when one is deleted. Emits `removed` with the
 * asset id, the ids of the live layers that used it and those of studio mode's preview scene
 * (`preview`): their rendered pixels must go too, on the program's renderer and on the preview
 * bus's; a layer shown again must not bring back the deleted picture.
 */
export class AssetService extends EventEmitter<{ removed: [{ id: string; layers: string[]; preview: string[] }] }> {
  readonly #files: AssetFiles;
  readonly #state: StateManager;
  readonly #limits: InspectLimits;
  readonly #channel: BroadcastChannel;
  readonly #video: VideoIngestOptions;
  /** Video uploads being inspected, by id: the same bytes sent twice at once are inspected once. */
  readonly #pending = new Map<string, Promise<AssetMeta>>();
  #inspecting = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(files: AssetFiles, state: StateManager, limits: InspectLimits, video: VideoIngestOptions) {
    super();
    this.#files = files;
    this.#state = state;
    this.#limits = limits;
    this.#video = video;
    this.#channel = new BroadcastChannel(evictionChannelName(files.dir));
  }

  /**
   * Stores a received upload (routes/asset-routes.ts): a video is probed where it lies and renamed
   * into place (never read into memory); anything else is read (it is at most `MAX_UPLOAD_SIZE`)
   * and goes through {@link ingest}. The same bytes again return the existing asset. The caller
   * removes `upload.path`'s folder afterwards, whatever happened.
   * @returns the metadata, and whether it was new
   * @throws AppError SM_ERR_UNSUPPORTED_TYPE (415), SM_ERR_UNDECODABLE (422), SM_ERR_VIDEO_LIMIT (422); nothing is stored
   */
  async ingestUpload(upload: ReceivedUpload, originalName: string | null | undefined): Promise<{ asset: AssetMeta; created: boolean }> {
    if (!upload.videoMime) return this.ingest(await readFile(upload.path), originalName);
    const id = upload.sha256;
    const existing = this.#state.asset(id);
    if (existing && (await this.#files.exists(id))) return { asset: existing, created: false };
    const pending = this.#pending.get(id);
    if (pending) return { asset: await pending, created: false };
    const mime = upload.videoMime;
    const work = this.#inspectInTurn(() =>
      AUDIO_MIMES.has(mime) ? this.#storeAudio(upload, mime, originalName) : this.#storeVideo(upload, mime, originalName),
    );
    this.#pending.set(id, work);
    try {
      return { asset: await work, created: true };
    } finally {
      this.#pending.delete(id);
    }
  }

  async #storeVideo(upload: ReceivedUpload, mime: string, originalName: string | null | undefined): Promise<AssetMeta> {
    const poster = `${upload.path}.poster.jpg`;
    const video = await inspectVideo(this.#video.tools, upload.path, poster, this.#video.limits);
    await this.#files.adoptVideo(upload.sha256, upload.path, poster);
    const asset: AssetMeta = {
      id: upload.sha256,
      kind: 'video',
      mime,
      width: video.width,
      height: video.height,
      bytes: upload.bytes,
      name: sanitizeName(originalName),
      createdAt: Date.now(),
      video: video.info,
    };
    this.#state.putAsset(asset);
    return asset;
  }

  async #storeAudio(upload: ReceivedUpload, mime: string, originalName: string | null | undefined): Promise<AssetMeta> {
    const audio = await inspectAudio(this.#video.tools, upload.path, this.#video.limits);
    await this.#files.adoptAudio(upload.sha256, upload.path);
    const asset: AssetMeta = {
      id: upload.sha256,
      kind: 'audio',
      mime,
      bytes: upload.bytes,
      name: sanitizeName(originalName),
      createdAt: Date.now(),
      audio,
    };
    this.#state.putAsset(asset);
    return asset;
  }

  /** Runs `fn` once fewer than {@link VIDEO_INSPECTIONS} others run. */
  async #inspectInTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#inspecting >= VIDEO_INSPECTIONS) await new Promise<void>((go) => this.#waiting.push(go));
    else this.#inspecting++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#inspecting--;
    }
  }

  /**
   * Validates and stores an upload; the same bytes again return the existing asset.
   * @returns the metadata, and whether it was new
   * @throws AppError SM_ERR_UNSUPPORTED_TYPE, SM_ERR_UNDECODABLE (nothing is written)
   */
  async ingest(bytes: Buffer, originalName: string | null | undefined): Promise<{ asset: AssetMeta; created: boolean }> {
    const inspected = await inspectUpload(bytes, this.#limits);
    const id = createHash('sha256').update(inspected.bytes).digest('hex');
    const existing = this.#state.asset(id);
    if (existing && (await this.#files.exists(id))) return { asset: existing, created: false };
    await this.#files.write(id, inspected.bytes);
    const asset: AssetMeta = {
      id,
      kind: inspected.kind,
      mime: inspected.mime,
      ...(inspected.width ? { width: inspected.width, height: inspected.height } : {}),
      bytes: inspected.bytes.length,
      name: sanitizeName(originalName),
      createdAt: Date.now(),
    };
    this.#state.putAsset(asset);
    return { asset, created: true };
  }

  /** A new empty folder for one upload to be received in (under the storage folder); the caller removes it. */
  receiveDir(): Promise<string> {
    return this.#files.receiveDir();
  }

  /** Metadata of every asset, oldest first. */
  list(): AssetMeta[] {
    return Object.values(this.#state.assets).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /**
   * One asset's metadata.
   * @throws AppError SM_ERR_INVALID_ASSET_ID (400), SM_ERR_ASSET_UNKNOWN (404)
   */
  get(id: string): AssetMeta {
    if (!ASSET_ID.test(id)) throw new AppError('SM_ERR_INVALID_ASSET_ID', `"${id.slice(0, 80)}" is not an asset id`);
    const meta = this.#state.asset(id);
    if (!meta) throw new AppError('SM_ERR_ASSET_UNKNOWN', `No asset has id "${id}"`);
    return meta;
  }

  /** The file of a known asset. @throws as `get` */
  path(id: string): string {
    this.get(id);
    return this.#files.path(id);
  }

  /**
   * The poster frame (JPEG) of a known video asset.
   * @throws as `get`, and AppError SM_ERR_NOT_FOUND (404) when the asset is not a video
   */
  posterPath(id: string): string {
    const meta = this.get(id);
    if (meta.kind !== 'video') throw new AppError('SM_ERR_NOT_FOUND', `Asset "${id}" is ${meta.kind === 'image' ? 'an' : 'a'} ${meta.kind}; only videos have a poster`);
    return this.#files.posterPath(id);
  }

  /** Ids of the live layers that use asset `id`. */
  usedBy(id: string): string[] {
    return this.#state.scene.list().filter((l) => uses(l, id)).map((l) => l.id);
  }

  /** Ids of studio mode's preview scene layers that use asset `id`. */
  previewUsedBy(id: string): string[] {
    return this.#state.preview.list().filter((l) => uses(l, id)).map((l) => l.id);
  }

  /** The saved scenes (`/scenes`) whose layers use asset `id`, with those layers' ids, by scene name. */
  savedScenesUsing(id: string): SceneUse[] {
    return Object.entries(this.#state.scenes.scenes)
      .map(([name, layers]) => ({ name, layers: layers.filter((l) => uses(l, id)).map((l) => l.id) }))
      .filter((u) => u.layers.length > 0)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Deletes an asset. While live layers or saved scenes use it: 409 with their ids (`details.layers`,
   * `details.scenes`), unless `force`, which hides the live layers (the stream keeps rendering
   * without them) and takes the layers out of the saved scenes (a scene with a missing asset could
   * no longer be activated: activation checks every layer's assets).
   * @returns the ids of the live layers hidden, and the layers taken out of each saved scene
   * @throws AppError SM_ERR_INVALID_ASSET_ID, SM_ERR_ASSET_UNKNOWN, SM_ERR_ASSET_IN_USE
   */
  async remove(id: string, force: boolean): Promise<AssetRemoval> {
    this.get(id);
    const users = this.usedBy(id);
    const scenes = this.savedScenesUsing(id);
    const preview = this.previewUsedBy(id);
    if ((users.length || scenes.length || preview.length) && !force) {
      const where = [
        ...(users.length ? [`layers ${users.join(', ')}`] : []),
        ...(scenes.length ? [`saved scenes ${scenes.map((u) => u.name).join(', ')}`] : []),
        ...(preview.length ? [`preview layers ${preview.join(', ')}`] : []),
      ].join(' and ');
      throw new AppError('SM_ERR_ASSET_IN_USE', `This asset is used by ${where}; change them, or DELETE with ?force=true`, {
        layers: users,
        scenes,
        ...(preview.length ? { preview } : {}),
      });
    }
    const hiddenPreview: string[] = [];
    for (const layerId of preview) {
      if (this.#state.preview.get(layerId).visible) {
        this.#state.preview.setVisibility(layerId, { visible: false });
        hiddenPreview.push(layerId);
      }
    }
    const hidden: string[] = [];
    for (const layerId of users) {
      if (this.#state.scene.get(layerId).visible) {
        this.#state.scene.setVisibility(layerId, { visible: false });
        hidden.push(layerId);
      }
    }
    if (scenes.length) {
      const saved = this.#state.scenes;
      const kept = Object.fromEntries(Object.entries(saved.scenes).map(([name, layers]) => [name, layers.filter((l) => !uses(l, id))]));
      this.#state.setScenes({ ...saved, scenes: kept });
    }
    this.#state.removeAsset(id);
    await this.#files.remove(id);
    this.#channel.postMessage({ evict: id } satisfies EvictMessage);
    this.emit('removed', { id, layers: users, preview });
    return { hiddenLayers: hidden, removedFromScenes: scenes, ...(hiddenPreview.length ? { hiddenPreviewLayers: hiddenPreview } : {}) };
  }

  close(): void {
    this.#channel.close();
  }
}
