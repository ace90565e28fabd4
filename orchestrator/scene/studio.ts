import { AppError } from '../../shared/errors.js';
import type { Layer } from '../../shared/scene.js';
import type { ScenesState } from '../../shared/scenes.js';
import { TakeSchema } from '../../shared/studio.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { SceneMedia, SceneTransition } from './scene-library.js';
import type { SceneStore } from './scene-store.js';

/** What a take needs of the state: both scenes, the version counter and the saved scenes (its `active`). */
export interface StudioState {
  readonly scene: SceneStore;
  readonly preview: SceneStore;
  readonly version: number;
  readonly scenes: ScenesState;
  setScenes(scenes: ScenesState): unknown;
}

/** The scene crossfades in use: motion/'s scene switcher (`active` while one runs). */
export interface StudioTransition extends SceneTransition {
  readonly active: boolean;
}

/**
 * Timed host animations of one scene (the motion module's Animator): a take carries the ones
 * still playing to the scene their layers move to, so a host taken while talking for 2 s still
 * goes back to idle.
 */
export interface TimedPlays {
  /** Layer id -> scene time, ms, at which its timed animation ends. */
  pendingPlays(): Map<string, number>;
  adopt(plays: ReadonlyMap<string, number>, version: number, has: (id: string) => boolean): void;
}

/** What a take did: its state version, transition and duration (ms), and both scenes' layers after it. */
export interface TakeResult {
  version: number;
  transition: 'cut' | 'crossfade';
  durationMs: number;
  program: Layer[];
  preview: Layer[];
}

/** The name a take's crossfade is known by in `animationEnded` (kind `scene`). */
export const TAKE_NAME = 'take';

/**
 * Studio mode's take (OBS's "Transition" button in studio mode, vMix's Cut / Fade): the preview
 * scene becomes the program and the old program the new preview, in one state change written as
 * one document (file: one rename; Redis: one MULTI), so a crash leaves both swapped or neither.
 */
export class Studio {
  /** The video sources, set once the pipeline exists: a take starts the new program's videos at their `startMs`. */
  media: SceneMedia | null = null;
  /** The timed host animations of the program and of the preview scene, set by the app. */
  plays: { program: TimedPlays; preview: TimedPlays } | null = null;

  constructor(
    private readonly state: StudioState,
    private readonly switcher: StudioTransition,
  ) {}

  /**
   * Swaps preview and program. A `cut` shows the new program on the next frame; a `crossfade`
   * mixes from the old program over `durationMs`. The preview's video layers start at their
   * `startMs` on the program; the old program's go to the preview, where nothing is decoded.
   * The saved scenes' `active` is cleared (the program no longer shows it as activated).
   * @throws AppError SM_ERR_VALIDATION (body), SM_ERR_TAKE_IN_PROGRESS (a crossfade of the
   *   program, a take's or a scene activation's, still runs), SM_ERR_PREVIEW_EMPTY (nothing to take)
   */
  take(body: unknown): TakeResult {
    const options = parseOrThrow(TakeSchema, body ?? {}, 'take');
    if (this.switcher.active)
      throw new AppError('SM_ERR_TAKE_IN_PROGRESS', 'A transition of the program is still running; take again once it has ended');
    const { scene: program, preview } = this.state;
    const incoming = preview.list();
    if (!incoming.length)
      throw new AppError('SM_ERR_PREVIEW_EMPTY', 'The preview scene has no layers: add layers to it or activate a scene into it first');
    const outgoing = program.entries();
    const previous = program.list();
    const crossfade = options.transition === 'crossfade' && options.durationMs > 0;
    // The crossfade begins before the program changes: a frame made at once on the change (render
    // ahead) already mixes from the outgoing scene instead of showing the incoming one alone.
    // Its version is the one the program's replacement takes next.
    if (crossfade) this.switcher.begin(outgoing, TAKE_NAME, this.state.version + 1, options);
    // Replacing a scene ends its motions: the hosts still talking go on in the scene they move to.
    const toProgram = this.plays?.preview.pendingPlays();
    const toPreview = this.plays?.program.pendingPlays();
    // Both lists were accepted by this state already: neither replacement can be refused half way.
    program.replaceAll(incoming, true);
    preview.replaceAll(previous, true);
    const hosts = (layers: Layer[]): Set<string> => new Set(layers.filter((l) => l.content.type === 'character').map((l) => l.id));
    if (toProgram?.size) this.plays!.program.adopt(toProgram, this.state.version, (id) => hosts(incoming).has(id));
    if (toPreview?.size) this.plays!.preview.adopt(toPreview, this.state.version, (id) => hosts(previous).has(id));
    const videos = incoming.filter((l) => l.content.type === 'video').map((l) => l.id);
    if (videos.length) this.media?.restartAll(videos);
    if (this.state.scenes.active !== null) this.state.setScenes({ ...this.state.scenes, active: null });
    return {
      version: this.state.version,
      transition: crossfade ? 'crossfade' : 'cut',
      durationMs: crossfade ? options.durationMs : 0,
      program: program.list(),
      preview: preview.list(),
    };
  }
}
