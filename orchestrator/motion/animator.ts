import { EventEmitter } from 'node:events';
import type { AnimationEndedPayload, Edge } from '../../shared/animation.js';
import type { Layer } from '../../shared/scene.js';
import { mixVolume } from '../../shared/audio.js';
import type { Canvas } from '../../shared/stream-config.js';
import { freshRevision, type LayerEntry, type SceneEvent, type SceneStore } from '../scene/scene-store.js';
import { easingFn, type EasingFn } from './easing.js';
import type { SceneClock } from './scene-clock.js';

/** The layer values a `transition` moves. */
const PROPS = ['x', 'y', 'width', 'height', 'scale', 'rotation', 'opacity', 'volume', 'pan'] as const;
type Prop = (typeof PROPS)[number];
/** Props that change the layer's pixels (the others are applied by the compositor). */
const SIZE_PROPS = new Set<Prop>(['width', 'height', 'scale', 'rotation']);

/** One animation as the client sees it: what one change started; ends when all its parts have. */
interface Anim {
  layerId: string;
  id: string;
  kind: AnimationEndedPayload['kind'];
  properties: string[];
  open: number;
  cancelled: boolean;
}

/** A value moving from `from` to `to` over [start, start + duration] of scene time. */
interface Segment {
  from: number;
  to: number;
  start: number;
  duration: number;
  ease: EasingFn;
  anim: Anim;
}

/** Show/hide progress: 0 hidden, 1 shown; faded or slid in by how far it is. */
interface Reveal extends Segment {
  mode: 'fade' | 'slide';
  edge: Edge;
}

/** Everything moving on one layer. */
interface Motion {
  tweens: Map<Prop, Segment>;
  reveal: Reveal | null;
  /** A host animation that goes back to idle at `until`. */
  play: { until: number; anim: Anim } | null;
}

/** The value of a segment at scene time `t`: `from` before its start, `to` after its end. */
function valueAt(seg: Segment, t: number): number {
  if (t <= seg.start) return seg.from;
  const p = seg.duration <= 0 ? 1 : seg.ease(Math.min(1, (t - seg.start) / seg.duration));
  return seg.from + (seg.to - seg.from) * p;
}

function read(layer: Layer, p: Prop): number | undefined {
  switch (p) {
    case 'opacity':
      return layer.opacity;
    case 'volume':
      return mixVolume(layer.audio);
    case 'pan':
      return layer.audio?.pan ?? 0;
    case 'scale':
      return layer.transform.scale ?? 1;
    case 'rotation':
      return layer.transform.rotation ?? 0;
    default:
      return layer.transform[p];
  }
}

/**
 * Layer motion on scene time: tweened changes (`transition` on PATCH), show/hide transitions
 * (fade, slide, cut) and timed host animations. The scene store holds each change's end state at
 * once; this keeps how the layer gets there, and {@link resolve} gives the layers as they look at
 * a frame time, a pure function of the state and the time. A new change of a moving value starts
 * from where it is now. `ended` goes out once per animation when all its parts have finished
 * (from {@link sweep}, which the frame composer calls every frame and a timer calls when no frames
 * are being made); `revert` asks for a host layer to go back to idle.
 */
export class Animator extends EventEmitter<{ ended: [AnimationEndedPayload]; revert: [string] }> {
  readonly #clock: SceneClock;
  readonly #motions = new Map<string, Motion>();
  #timer: NodeJS.Timeout | null = null;
  /** Scene time the timer is set for. */
  #timerAt = Infinity;

  constructor(scene: SceneStore, clock: SceneClock) {
    super();
    this.#clock = clock;
    scene.on('change', (e) => this.#onChange(e));
  }

  /** Layers with something moving now (for tests and metrics). */
  get moving(): number {
    return this.#motions.size;
  }

  /**
   * The layers as they look at scene time `t`, in the same order: moving values interpolated, a
   * layer being hidden still drawn until its transition ends, a host past its `durationMs` idle.
   * Entries without motion are passed through as they are.
   * @param canvas frame size in pixels (slides travel one frame width or height)
   */
  resolve(entries: readonly LayerEntry[], t: number, canvas: Canvas): readonly LayerEntry[] {
    if (this.#motions.size === 0) return entries;
    let out: LayerEntry[] | null = null;
    entries.forEach((entry, i) => {
      const m = this.#motions.get(entry.layer.id);
      if (!m) return;
      const layer = entry.layer;
      const transform = { ...layer.transform };
      let opacity = layer.opacity;
      let visible = layer.visible;
      let resized = false;
      let audio = layer.audio;
      for (const [p, seg] of m.tweens) {
        const v = valueAt(seg, t);
        if (p === 'opacity') opacity = Math.min(1, Math.max(0, v));
        else if (p === 'volume') {
          // A volume given in dB glides in linear gain (what the mixer multiplies by).
          const rest = { ...audio };
          delete rest.volumeDb;
          audio = { ...rest, volume: Math.min(2, Math.max(0, v)) };
        } else if (p === 'pan') audio = { ...audio, pan: Math.min(1, Math.max(-1, v)) };
        else {
          transform[p] = p === 'width' || p === 'height' || p === 'scale' ? Math.max(1e-3, v) : v;
          resized ||= SIZE_PROPS.has(p);
        }
      }
      if (m.reveal) {
        const r = Math.min(1, Math.max(0, valueAt(m.reveal, t)));
        visible = r > 0;
        if (m.reveal.mode === 'fade') opacity *= r;
        else {
          const shift = 1 - r;
          if (m.reveal.edge === 'left') transform.x -= shift * canvas.width;
          else if (m.reveal.edge === 'right') transform.x += shift * canvas.width;
          else if (m.reveal.edge === 'top') transform.y -= shift * canvas.height;
          else transform.y += shift * canvas.height;
        }
      }
      let content = layer.content;
      if (m.play && t >= m.play.until && content.type === 'character') content = { ...content, animation: 'idle' };
      out ??= [...entries];
      out[i] = {
        ...entry,
        layer: { ...layer, transform, opacity, visible, content, ...(audio ? { audio } : {}) },
        revision: resized ? freshRevision() : entry.revision,
      };
    });
    return out ?? entries;
  }

  /** Ends every part finished by scene time `t`: emits `ended` (and `revert` for hosts). */
  sweep(t: number): void {
    for (const [id, m] of this.#motions) {
      for (const [p, seg] of m.tweens) {
        if (t < seg.start + seg.duration) continue;
        m.tweens.delete(p);
        this.#close(seg.anim, t, false);
      }
      if (m.reveal && t >= m.reveal.start + m.reveal.duration) {
        const { anim } = m.reveal;
        m.reveal = null;
        this.#close(anim, t, false);
      }
      if (m.play && t >= m.play.until) {
        const { anim } = m.play;
        m.play = null;
        this.emit('revert', id);
        this.#close(anim, t, false);
      }
      if (!m.tweens.size && !m.reveal && !m.play) this.#motions.delete(id);
    }
    this.#schedule();
  }

  /**
   * The timed host animations still playing: layer id -> scene time (ms) at which each goes back
   * to idle. Studio mode's take carries them over to the other scene (see {@link adopt}).
   */
  pendingPlays(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, m] of this.#motions) if (m.play) out.set(id, m.play.until);
    return out;
  }

  /**
   * Plays timed host animations that another scene started: each listed layer goes back to idle
   * (`revert`, then `ended` of kind `animation`) at its scene time, ms. Layers this scene lacks
   * are skipped; a layer's own timed animation is replaced.
   * @param version the state version the adopted animations are named by in `animationEnded`
   */
  adopt(plays: ReadonlyMap<string, number>, version: number, has: (id: string) => boolean): void {
    for (const [id, until] of plays) {
      if (!has(id)) continue;
      const m: Motion = this.#motions.get(id) ?? { tweens: new Map(), reveal: null, play: null };
      if (m.play) this.#close(m.play.anim, this.#clock.now(), true);
      const a = this.#anim(id, version, 'animation');
      a.open = 1;
      m.play = { until, anim: a };
      this.#motions.set(id, m);
    }
    this.#schedule();
  }

  /** Stops the timer. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #onChange(e: SceneEvent): void {
    const now = this.#clock.now();
    if (e.type === 'layerRemoved') this.#drop(e.layer.id, now);
    else if (e.type === 'sceneReplaced') for (const id of [...this.#motions.keys()]) this.#drop(id, now);
    else if (e.type === 'layerUpdated') this.#update(e, now);
    this.#schedule();
  }

  #update(e: Extract<SceneEvent, { type: 'layerUpdated' }>, now: number): void {
    const id = e.layer.id;
    const m: Motion = this.#motions.get(id) ?? { tweens: new Map(), reveal: null, play: null };
    const anim = e.tween ? this.#anim(id, e.version, 'tween') : null;
    for (const p of PROPS) {
      const target = read(e.layer, p);
      const running = m.tweens.get(p);
      const shown = running ? valueAt(running, now) : read(e.previous, p);
      if (anim && e.tween && shown !== undefined && target !== undefined && shown !== target) {
        if (running) this.#close(running.anim, now, true);
        m.tweens.set(p, {
          from: shown,
          to: target,
          start: now + e.tween.delayMs,
          duration: e.tween.durationMs,
          ease: easingFn(e.tween.easing),
          anim,
        });
        anim.properties.push(p);
        anim.open++;
      } else if (running && running.to !== target) {
        // Changed without a transition (or to/from a natural size): it jumps.
        m.tweens.delete(p);
        this.#close(running.anim, now, true);
      }
    }
    if (anim && anim.open === 0) {
      anim.open = 1;
      this.#close(anim, now, false);
    }

    if (e.previous.visible !== e.layer.visible) {
      const target = e.layer.visible ? 1 : 0;
      const current = m.reveal ? valueAt(m.reveal, now) : 1 - target;
      if (m.reveal) this.#close(m.reveal.anim, now, true);
      m.reveal = null;
      const vt = e.reveal ?? e.layer.transitions?.[e.layer.visible ? 'show' : 'hide'];
      if (vt && vt.type !== 'cut' && vt.durationMs > 0) {
        const a = this.#anim(id, e.version, e.layer.visible ? 'show' : 'hide');
        a.open = 1;
        m.reveal = {
          from: current,
          to: target,
          start: now,
          duration: vt.durationMs,
          ease: easingFn(vt.easing),
          mode: vt.type,
          edge: vt.edge,
          anim: a,
        };
      }
    }

    const prevName = e.previous.content.type === 'character' ? e.previous.content.animation : undefined;
    const name = e.layer.content.type === 'character' ? e.layer.content.animation : undefined;
    if (e.play || prevName !== name || e.layer.content.type !== 'character') {
      if (m.play) this.#close(m.play.anim, now, true);
      m.play = null;
    }
    if (e.play?.durationMs !== undefined && e.play.name !== 'idle') {
      const a = this.#anim(id, e.version, 'animation');
      a.open = 1;
      a.properties.push(e.play.name);
      m.play = { until: now + e.play.durationMs, anim: a };
    }
    if (m.tweens.size || m.reveal || m.play) this.#motions.set(id, m);
    else this.#motions.delete(id);
  }

  #anim(layerId: string, version: number, kind: Anim['kind']): Anim {
    return { layerId, id: String(version), kind, properties: [], open: 0, cancelled: false };
  }

  /** One part of `anim` ended (or was `cancelled` by a later change); the last part sends `ended`. */
  #close(anim: Anim, t: number, cancelled: boolean): void {
    anim.cancelled ||= cancelled;
    if (--anim.open > 0) return;
    this.emit('ended', {
      id: anim.layerId,
      animation: anim.id,
      kind: anim.kind,
      ...(anim.kind === 'tween' ? { properties: anim.properties } : {}),
      cancelled: anim.cancelled,
      atMs: t,
    });
  }

  #drop(id: string, now: number): void {
    const m = this.#motions.get(id);
    if (!m) return;
    this.#motions.delete(id);
    const anims = new Set<Anim>([...m.tweens.values()].map((s) => s.anim));
    if (m.reveal) anims.add(m.reveal.anim);
    if (m.play) anims.add(m.play.anim);
    for (const a of anims) {
      a.open = 1;
      this.#close(a, now, true);
    }
  }

  /**
   * Sweeps when the next part ends, for when no frames are being made (unref'd). Called every
   * frame while something moves, so the timer is replaced only when that end time changes.
   */
  #schedule(): void {
    let next = Infinity;
    for (const m of this.#motions.values()) {
      for (const s of m.tweens.values()) next = Math.min(next, s.start + s.duration);
      if (m.reveal) next = Math.min(next, m.reveal.start + m.reveal.duration);
      if (m.play) next = Math.min(next, m.play.until);
    }
    if (this.#timer && next === this.#timerAt) return;
    this.close();
    if (next === Infinity) return;
    this.#timerAt = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.sweep(this.#clock.now());
      },
      Math.max(1, Math.ceil(next - this.#clock.now())),
    );
    this.#timer.unref();
  }
}
