import { dropped, release, written } from '../../media/frame-ring.js';
import type { VideoFrame } from '../render/video-frames.js';
import type { DecoderRun } from './decoder-run.js';
import type { SourceMetrics } from './source-metrics.js';

/** Frames pinned at most (a frame never reported composited is forgotten past this). */
const MAX_PINS = 64;

/** One decoder run of a source and what the source keeps about it. */
export interface Run {
  proc: DecoderRun;
  /** Media position of its frame 0 (unwrapped), ms; 0 for live feeds. */
  p0: number;
  /** Media ms between its frames: the program's frame interval x rate. */
  step: number;
  /** Where its picture sits in the layer box (a contained picture is centred), pixels. */
  offsetX: number;
  offsetY: number;
  /** Frames, dropped frames and CPU seconds counted into the metrics so far. */
  counted: number;
  droppedCounted: number;
  cpuCounted: number;
  /** `performance.now()` of its first frame, or null. */
  firstAt: number | null;
  /** `performance.now()` when it was started. */
  startedAt: number;
  /** A looping file sought into its middle: at this run's end a run from the start goes on ({@link next}). */
  loopsAfter: boolean;
  /** That run, started once this one has its first picture (it waits, a few frames decoded), or null. */
  next: Run | null;
  /** The file's last pictures (a start found past its end before its duration was known): shown as its end. */
  tail: boolean;
}

/** A picture: frame `index` of `run`'s ring. */
export interface Shown {
  run: Run;
  index: number;
}

/**
 * The runs of one video source, the picture on screen and the pictures pinned by frames in the
 * making. A run's ring frames below both its picture on screen and its lowest pinned picture are
 * released to its writer (media/frame-ring.ts); an old run is killed and forgotten once it is
 * neither current, on screen nor pinned (its ring then goes with the last reference to it).
 */
export class RunBook {
  readonly runs = new Set<Run>();
  /** The run new pictures come from. */
  current: Run | null = null;
  #shown: Shown | null = null;
  /** Bumped whenever the picture on screen changes (damage tracking). */
  generation = 0;
  #pins: Array<{ seq: number; run: Run; index: number }> = [];

  /** The picture on screen (of any run), or null before the first. */
  get shown(): Shown | null {
    return this.#shown;
  }

  /** The run of `proc`, or null when it was forgotten. */
  runOf(proc: DecoderRun): Run | null {
    for (const run of this.runs) if (run.proc === proc) return run;
    return null;
  }

  /** Makes `run` current; the old current run is killed (and its waiting looping run) and forgotten unless still shown or pinned. */
  replace(run: Run): Run | null {
    const old = this.current;
    this.runs.add(run);
    this.current = run;
    if (old) {
      old.proc.kill();
      if (old.next) {
        old.next.proc.kill();
        this.runs.delete(old.next);
        old.next = null;
      }
      this.drop(old);
    }
    return old;
  }

  /** Makes `s` the picture on screen; false when it already was. Releases what is behind it. */
  show(s: Shown): boolean {
    const prev = this.#shown;
    if (prev && prev.run === s.run && prev.index === s.index) return false;
    this.generation++;
    this.#shown = s;
    this.release(s.run);
    if (prev && prev.run !== s.run) this.drop(prev.run);
    return true;
  }

  /** Keeps `s` unreleased until frame `seq` is composited ({@link unpin}). */
  pin(seq: number, s: Shown): void {
    this.#pins.push({ seq, run: s.run, index: s.index });
    if (this.#pins.length > MAX_PINS) this.unpin(this.#pins[this.#pins.length - MAX_PINS]!.seq - 1);
  }

  /** Frames up to `seq` are composited: their pictures may be written again. */
  unpin(seq: number): void {
    if (this.#pins.length === 0 || this.#pins[0]!.seq > seq) return;
    const touched = new Set<Run>();
    let i = 0;
    while (i < this.#pins.length && this.#pins[i]!.seq <= seq) touched.add(this.#pins[i++]!.run);
    this.#pins = this.#pins.slice(i);
    for (const run of touched) {
      this.release(run);
      this.drop(run);
    }
  }

  /** Releases `run`'s frames below the one on screen and below every pinned one. */
  release(run: Run): void {
    const ring = run.proc.ring;
    if (!ring) return;
    let floor = this.#shown?.run === run ? this.#shown.index : Number.POSITIVE_INFINITY;
    for (const p of this.#pins) if (p.run === run && p.index < floor) floor = p.index;
    if (Number.isFinite(floor)) release(ring, floor);
  }

  /** Kills and forgets `run` once it is neither current, on screen nor pinned. */
  drop(run: Run): void {
    if (run === this.current || this.#shown?.run === run || this.#pins.some((p) => p.run === run)) return;
    run.proc.kill();
    this.runs.delete(run);
  }

  /** `s` as a picture to composite (the ring's slot of its frame). */
  frameOf(s: Shown): VideoFrame {
    const ring = s.run.proc.ring!;
    return {
      pixels: ring.words[s.index % ring.words.length]!,
      width: ring.width,
      height: ring.height,
      offsetX: s.run.offsetX,
      offsetY: s.run.offsetY,
      opaque: true,
      generation: this.generation,
    };
  }

  /** Stops every run and waits until their threads have ended. */
  async close(): Promise<void> {
    await Promise.all([...this.runs].map((r) => r.proc.end()));
  }
}

/** Adds `run`'s frames, dropped frames (only when `playing`: a paused feed drops by design) and CPU time since the last count to `layer`'s metrics. */
export function countRun(run: Run, m: SourceMetrics, layer: string, playing: boolean): void {
  const ring = run.proc.ring;
  if (ring) {
    const n = written(ring);
    m.decoded(layer, n - run.counted);
    run.counted = n;
    const d = dropped(ring);
    if (playing) m.dropped(layer, d - run.droppedCounted);
    run.droppedCounted = d;
  }
  m.cpu(layer, run.proc.cpuSeconds - run.cpuCounted);
  run.cpuCounted = run.proc.cpuSeconds;
}
