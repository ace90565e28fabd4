import { EventEmitter } from 'node:events';
import type { AnimationEndedPayload } from '../../shared/animation.js';
import type { ActivateScene } from '../../shared/scenes.js';
import { easingFn, type EasingFn } from './easing.js';
import type { SceneClock } from './scene-clock.js';
import type { LayerEntry } from '../scene/scene-store.js';

/**
 * Slot keys of a crossfade's outgoing layers start with this (layer ids cannot contain it): the
 * renderer keeps their buffers apart from the live layers' and drops them when the fade ends.
 */
export const GHOST_SLOT = '\u0000out:';

/** A crossfade in progress: the outgoing scene's layers and the time span. */
interface Crossfade {
  name: string;
  version: number;
  entries: LayerEntry[];
  start: number;
  duration: number;
  ease: EasingFn;
}

/** What a frame at scene time t needs for a crossfade: the outgoing layers and the incoming scene's weight. */
export interface CrossfadeFrame {
  /** The outgoing scene's layers, with their own renderer buffers (`slot`). */
  entries: readonly LayerEntry[];
  /** Weight of the incoming scene, 0..1 (eased). */
  mix: number;
}

/**
 * Scene crossfades on scene time (like OBS's Fade transition): the outgoing scene's layers are kept
 * as they were at activation and composited into their own frame, which the frame composer mixes
 * under the incoming scene by the eased progress. One crossfade at a time: a new activation during
 * one starts from the scene live at that moment. Emits `ended` (kind `scene`) when it completes.
 */
export class SceneSwitcher extends EventEmitter<{ ended: [AnimationEndedPayload] }> {
  readonly #clock: SceneClock;
  #fade: Crossfade | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(clock: SceneClock) {
    super();
    this.#clock = clock;
  }

  /** True while a crossfade runs. */
  get active(): boolean {
    return this.#fade !== null;
  }

  /**
   * Starts a crossfade now from `outgoing` (the live layers before the switch) to the scene
   * activated as `name` at state `version`.
   */
  begin(outgoing: readonly LayerEntry[], name: string, version: number, options: ActivateScene): void {
    const now = this.#clock.now();
    if (this.#fade) this.#end(now, true);
    const entries = outgoing.map((e) => ({ ...e, slot: GHOST_SLOT + e.layer.id }));
    this.#fade = { name, version, entries, start: now, duration: options.durationMs, ease: easingFn(options.easing) };
    this.#arm();
  }

  /** The crossfade at scene time `t`, or null when none runs. */
  at(t: number): CrossfadeFrame | null {
    const f = this.#fade;
    if (!f) return null;
    const p = f.duration <= 0 ? 1 : Math.min(1, Math.max(0, (t - f.start) / f.duration));
    return { entries: f.entries, mix: f.ease(p) };
  }

  /** Ends the crossfade when `t` is past it (called every frame, and by a timer while no frames are made). */
  sweep(t: number): void {
    const f = this.#fade;
    if (f && t >= f.start + f.duration) this.#end(t, false);
    else if (f && !this.#timer) this.#arm();
  }

  /** Sets the timer for the crossfade's end (unref'd). */
  #arm(): void {
    const f = this.#fade;
    if (!f) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.sweep(this.#clock.now());
      },
      Math.max(1, Math.ceil(f.start + f.duration - this.#clock.now())),
    );
    this.#timer.unref();
  }

  /** Stops the timer. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #end(t: number, cancelled: boolean): void {
    const f = this.#fade;
    if (!f) return;
    this.#fade = null;
    this.close();
    this.emit('ended', { id: f.name, animation: String(f.version), kind: 'scene', cancelled, atMs: t });
  }
}
