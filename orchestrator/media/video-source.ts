import type { Logger } from 'pino';
import { decoderArgs, type VideoBox } from '../../media/decoder-args.js';
import { endOf, MAX_PICTURE_PIXELS, MAX_PICTURE_SIDE, released, written } from '../../media/frame-ring.js';
import type { MediaState, MediaStatus, VideoContent } from '../../shared/media.js';
import { redactUrl, scrubSecrets, secretsOf } from '../../shared/outputs.js';
import type { Layer } from '../../shared/scene.js';
import type { RestartPolicy, SupervisedOutput } from '../output/supervised-output.js';
import type { VideoFrame } from '../render/video-frames.js';
import { SourceThread, type DecoderRun, type RunExit } from './decoder-run.js';
import { MediaClock, wrapPosition } from './media-clock.js';
import { probeMedia, type MediaProbe } from './probe.js';
import { countRun, RunBook, type Run, type Shown } from './run-book.js';
import type { SourceMetrics } from './source-metrics.js';
import { boxKey, boxPixels, fitOffset, looping, Slate, videoBox } from './video-box.js';
import { feedSupervisor, sourceState } from './source-state.js';

/** A new size of the layer box is decoded (a new run) only once it has held this long on live frames, ms. */
export const BOX_SETTLE_MS = 250;
/** A live feed without a new picture for this long has dropped: its decoder is killed and retried, ms. */
export const LIVE_STALL_MS = 1000;
/** A file whose wanted picture is this far ahead of the decoded ones is sought instead, media ms. */
export const CATCH_UP_MS = 3000;
/**
 * A file run without its first picture this long after it started is given up: `error` (a FIFO
 * or device with no writer blocks ffmpeg's open for ever; a loaded machine starts ffmpeg in a few
 * seconds), ms. A seek or a new box tries again.
 */
export const FIRST_PICTURE_MS = 20_000;
/** A file's decoding is started again this many times when its reader thread fails before a picture. */
const THREAD_RETRIES = 2;

/** What a video source needs from its surroundings. */
export interface VideoSourceOptions {
  layerId: string;
  /** The decoder's input: an absolute file path or a live URL (orchestrator/media/source-path.ts). */
  input: string;
  live: boolean;
  ffmpegPath: string;
  ffprobePath: string;
  /** The program's frame rate now. */
  fps: () => number;
  /** Scene time now, ms. */
  now: () => number;
  /** How a live feed is retried (the outputs' policy; retried forever, see source-state.ts `feedSupervisor`). */
  policy: RestartPolicy;
  log: Logger;
  metrics: SourceMetrics;
  /** Every change of the status's state, error, size or duration. */
  onChange(status: MediaStatus): void;
  /** A non-looping file reached its end (once per run to the end). */
  onEnded(status: MediaStatus): void;
}

/**
 * The source of one video layer, on the main thread: supervises its decoder runs (media/
 * source-reader.ts in a thread of its own, ffmpeg beside it), keeps its media clock and chooses
 * the picture each frame shows; never waits for a decoder on the frame path.
 *
 * Files: the picture for scene time t is the decoded frame with the largest index whose media
 * time (run start + index x frame interval x rate) is at most the clock's position; a frame not
 * decoded yet repeats the last one. A seek, a restart or a new box is a new run with a new ring;
 * the old run's last picture shows until the new one has one. A file that fails to decode is
 * `error`; a non-looping file at its end is `ended` (once per run) and holds or hides.
 *
 * Live feeds: the newest picture wins; a feed that drops (ffmpeg exits, or no picture for
 * {@link LIVE_STALL_MS}) is `reconnecting`, holds its last picture (or the slate) and is retried
 * with the restart policy's backoff forever (supervised like an output).
 *
 * Pinning: a picture handed out for program frame `seq` is not released to the writer until
 * {@link composited} says `seq` is done.
 */
export class VideoSource {
  readonly #o: VideoSourceOptions;
  #content: VideoContent;
  #box: VideoBox;
  #key: string;
  readonly #clock: MediaClock;
  /** The decoder runs, the picture on screen and the pinned ones. */
  readonly #book = new RunBook();
  /** The reader thread its runs share. */
  readonly #thread = new SourceThread();
  #pending: { key: string; box: VideoBox; since: number } | null = null;
  #supervisor: SupervisedOutput<DecoderRun> | null = null;
  #probe: MediaProbe | null = null;
  #state: MediaState = 'loading';
  #lastError: string | null = null;
  #error = false;
  #ended = false;
  #everShown = false;
  /** Runs started again because their reader thread failed, since the last first picture ({@link THREAD_RETRIES} at most). */
  #threadRetries = 0;
  /** `performance.now()` since when a playing file's wanted picture is not decoded, or null. */
  #laggingSince: number | null = null;
  /** `performance.now()` of the last frame-path call (the watchdog moves the picture on only when frames are not being made). */
  #lastFrameCall = 0;
  readonly #slate = new Slate();
  #lastReported = '';
  #closed = false;

  constructor(layer: Layer, options: VideoSourceOptions) {
    this.#o = options;
    this.#content = layer.content as VideoContent;
    this.#box = videoBox(layer);
    this.#key = boxKey(this.#box, options.fps());
    this.#clock = new MediaClock(options.now(), this.#content.startMs, this.#content.playing, this.#content.rate);
    options.metrics.state(options.layerId, this.#state);
    if (options.live) {
      this.#supervisor = feedSupervisor(
        options.layerId,
        options.policy,
        options.log,
        () => this.#spawn(0)!,
        () => this.#refresh(),
      );
      this.#supervisor.run();
    } else {
      void probeMedia(options.ffprobePath, options.input)
        .then(
          (p) => {
            this.#probe = p;
            this.#refresh(true);
          },
          () => undefined,
        )
        .catch((err: unknown) => options.log.error({ err, layerId: options.layerId }, 'video source failed to take its probe'));
      this.#spawn(this.#content.startMs);
    }
  }

  get live(): boolean {
    return this.#o.live;
  }

  get content(): VideoContent {
    return this.#content;
  }

  /** The decoder's pid now (undefined between runs). */
  get pid(): number | undefined {
    return this.#book.current?.proc.pid;
  }

  /** The source as the API reports it (the layer's `media`). */
  status(): MediaStatus {
    const src = this.#book.current?.proc.source;
    const v = this.#probe?.video;
    const durationS = this.#o.live ? null : (this.#probe?.durationS ?? null);
    const durationMs = durationS === null ? null : Math.round(durationS * 1000);
    let positionMs: number;
    if (this.#o.live) positionMs = this.#book.current?.firstAt != null ? performance.now() - this.#book.current.firstAt : 0;
    else positionMs = wrapPosition(this.#clock.position(this.#o.now()), durationMs, looping(this.#content));
    return {
      state: this.#state,
      positionMs: Math.max(0, Math.round(positionMs)),
      durationMs,
      width: v?.width ?? src?.width ?? 0,
      height: v?.height ?? src?.height ?? 0,
      fps: v?.fps ?? src?.fps ?? 0,
      lastError: this.#lastError,
    };
  }

  /**
   * The layer changed: a new `rate`, `loop`/`onEnd` or `fit` is a new run from the position now;
   * `playing` plays or pauses; `slate` and `startMs` apply from now on (startMs at the next start).
   * (A new `src` is a new source: the caller replaces this one.)
   */
  update(layer: Layer): void {
    const next = layer.content as VideoContent;
    const prev = this.#content;
    this.#content = next;
    const t = this.#o.now();
    if (next.playing !== prev.playing) this.#transport(next.playing);
    const box = videoBox(layer);
    if (next.fit !== prev.fit) this.#box = box;
    if (this.#o.live) {
      if (next.fit !== prev.fit) this.#applyBox(box);
      return;
    }
    if (next.rate !== prev.rate) this.#clock.setRate(t, next.rate);
    if (next.rate !== prev.rate || looping(next) !== looping(prev) || next.fit !== prev.fit) {
      this.#box = box;
      this.#key = boxKey(box, this.#o.fps());
      this.#ended = false;
      this.#spawn(this.#clock.position(t));
    }
    this.#refresh();
  }

  /** Plays (a file at its end starts again from `startMs`). */
  play(): void {
    if (this.#ended && !this.#o.live) {
      this.#transport(true);
      this.restart();
      return;
    }
    this.#transport(true);
  }

  /** Pauses: the picture on screen stays. */
  pause(): void {
    this.#transport(false);
  }

  /** Starts again: a file from `startMs` (playing as its transport says), a live feed reconnects. */
  restart(): void {
    if (this.#closed) return;
    if (this.#o.live) {
      const sup = this.#supervisor!;
      void sup.stop().then(() => {
        if (!this.#closed) sup.run();
      });
      return;
    }
    this.seek(this.#content.startMs);
  }

  /**
   * Jumps a file to `positionMs` (a looping file's position folds into it); the last picture shows
   * until the new run has one.
   * @throws Error for a live feed (the caller checks first)
   */
  seek(positionMs: number): void {
    if (this.#o.live) throw new Error('A live feed cannot seek');
    if (this.#closed) return;
    this.#clock.seek(this.#o.now(), positionMs);
    this.#ended = false;
    this.#error = false;
    this.#lastError = null;
    this.#spawn(positionMs);
    this.#refresh(true);
  }

  /**
   * The picture for program frame `seq` at scene time `timeMs` (see the class), or null. Never waits.
   * @param live a live frame: counts repeats, and applies a new box only once it held {@link BOX_SETTLE_MS}
   */
  frame(layer: Layer, timeMs: number, seq: number, live: boolean): VideoFrame | null {
    if (this.#closed) return null;
    this.#lastFrameCall = performance.now();
    this.#checkBox(layer, live);
    const before = this.#book.shown;
    const pick = this.#pick(timeMs);
    if (!this.#o.live) this.#checkEnd(timeMs);
    if (!pick) return this.#slateFrame();
    if (live && before && before.run === pick.run && before.index === pick.index && this.#shouldAdvance())
      this.#o.metrics.repeated(this.#o.layerId);
    this.#show(pick);
    if (this.#ended && this.#content.onEnd === 'hide' && !looping(this.#content)) return null;
    this.#book.pin(seq, pick);
    return this.#book.frameOf(pick);
  }

  /** The picture on screen now for program frame `seq`, pinned (a crossfade's outgoing copy of the layer), or null. */
  current(seq: number): VideoFrame | null {
    const s = this.#book.shown;
    if (!s || this.#closed) return null;
    this.#book.pin(seq, s);
    return this.#book.frameOf(s);
  }

  /** The picture on screen now, unpinned: only for a copy kept after this source stops decoding into it. */
  held(): VideoFrame | null {
    const s = this.#book.shown;
    return s ? this.#book.frameOf(s) : null;
  }

  /**
   * Off the clock: waits until the picture at `timeMs` is decoded, the file cannot get there (an
   * error, its end), or `deadline` (`performance.now()`) passes. Live feeds do not wait.
   */
  async settle(layer: Layer, timeMs: number, deadline: number): Promise<void> {
    this.#checkBox(layer, false);
    if (this.#o.live) return;
    let sought = false;
    while (!this.#closed && !this.#error && performance.now() < deadline) {
      const run = this.#book.current;
      if (!run) return;
      const ring = run.proc.ring;
      const n = ring ? written(ring) : 0;
      const want = this.#want(run, timeMs);
      if (ring && run.loopsAfter && want >= n && endOf(ring) !== 0) {
        this.#promote(run, n);
        continue;
      }
      if (ring && n > 0 && (n - 1 >= want || endOf(ring) !== 0)) return;
      if (!sought && !run.tail && (want - Math.max(0, n - 1)) * run.step > CATCH_UP_MS) {
        // Far ahead of what this run has (frames were not being made): seek rather than decode through.
        sought = true;
        this.#spawn(this.#clock.position(timeMs));
        continue;
      }
      if (!run.proc.running && (!ring || endOf(ring) === 0)) return;
      // Let the decoder move on: the pictures before the wanted one are not needed.
      if (ring && n > 0) this.#show({ run, index: Math.max(released(ring), Math.min(want, n - 1)) });
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Frames up to `seq` are composited: their pictures may be overwritten. */
  composited(seq: number): void {
    this.#book.unpin(seq);
  }

  /**
   * The watchdog (a few times a second): counts frames and CPU, supervises a live feed, notices
   * a file's end when no frames are being made, and the `stalled` state.
   */
  tick(): void {
    if (this.#closed) return;
    const run = this.#book.current;
    const now = performance.now();
    if (run) {
      run.proc.poll(now);
      this.#count(run);
    }
    this.#supervisor?.watch(now);
    if (!this.#o.live && run && run.firstAt === null && !this.#error && now - run.startedAt > FIRST_PICTURE_MS) {
      this.#error = true;
      this.#lastError = `No picture from the file within ${FIRST_PICTURE_MS / 1000} s (a pipe or device nothing writes to?)`;
      this.#o.log.warn({ layerId: this.#o.layerId, err: this.#lastError }, 'video decoder gave no picture');
      run.proc.kill();
    }
    if (now - this.#lastFrameCall > 500) this.#laggingSince = null;
    if (!this.#o.live && run && now - this.#lastFrameCall > 500) {
      // No frames are being made: the position still moves, and a file may reach its end.
      const d = this.#probe?.durationS;
      if (!looping(this.#content) && !this.#ended && d && this.#clock.position(this.#o.now()) >= d * 1000) this.#end();
    }
    this.#refresh();
  }

  /** Stops decoding for good and waits until the decoder's thread has ended (its ffmpeg killed). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#supervisor?.stop(), this.#book.close()]);
    await this.#thread.close();
    this.#o.metrics.remove(this.#o.layerId);
  }

  #transport(playing: boolean): void {
    this.#clock.setPlaying(this.#o.now(), playing);
    this.#laggingSince = null;
    this.#refresh(true);
  }

  /**
   * Starts a decoder run from media position `p0` (files; unwrapped) and makes it current. A
   * looping file sought into its middle is two runs: one from there to the end, then one looping
   * from the start, started at once (it waits, a few frames decoded, until the first one ends),
   * because ffmpeg's `-stream_loop` with `-ss` loses the part before the seek point in every loop.
   */
  #spawn(p0: number): DecoderRun | null {
    const box = boxPixels(this.#box);
    if (
      !this.#o.live &&
      box &&
      (box.width > MAX_PICTURE_SIDE || box.height > MAX_PICTURE_SIDE || box.width * box.height > MAX_PICTURE_PIXELS)
    ) {
      // Refused here with a clear reason, not by ffmpeg's scaler. (A live feed's run fails in ffmpeg, and is retried.)
      this.#error = true;
      this.#lastError = `The layer box (${box.width}x${box.height}) is larger than a video picture may be (${MAX_PICTURE_PIXELS} pixels, ${MAX_PICTURE_SIDE} a side)`;
      this.#refresh(true);
      return null;
    }
    const durationMs = this.#probe?.durationS ? this.#probe.durationS * 1000 : null;
    const loop = !this.#o.live && looping(this.#content);
    // At or past the end of a file that does not loop: its last pictures (a seek there holds the last one).
    const step = (1000 / this.#o.fps()) * this.#content.rate;
    if (!loop && !this.#o.live && durationMs !== null && p0 > durationMs - step) p0 = Math.max(0, durationMs - 2 * step);
    const startMs = loop && durationMs ? p0 % durationMs : p0;
    const run = this.#newRun(startMs, loop && startMs === 0, this.#o.live ? 0 : p0);
    run.loopsAfter = loop && startMs > 0;
    this.#pending = null;
    this.#laggingSince = null;
    const old = this.#book.current;
    if (old) this.#count(old);
    this.#book.replace(run);
    this.#o.log.debug({ layerId: this.#o.layerId, pid: run.proc.pid, p0 }, 'video decoder started');
    return run.proc;
  }

  /** A decoder run from `startMs` of the file (live: the feed), its frame 0 at media position `p0`. */
  #newRun(startMs: number, loop: boolean, p0: number, tail = false): Run {
    const fps = this.#o.fps();
    const frameMs = 1000 / fps;
    const args = decoderArgs({
      input: this.#o.input,
      live: this.#o.live,
      startMs,
      rate: this.#content.rate,
      loop,
      fps,
      box: this.#box,
      tail,
    });
    const proc = this.#thread.run(
      { ffmpegPath: this.#o.ffmpegPath, args, live: this.#o.live, frameMs },
      {
        onFormat: (p) => this.#onFormat(p),
        onFirstFrame: (p) => this.#onFirstFrame(p),
        onFull: (p) => this.#onFull(p),
        onExit: (p, exit) => this.#onExit(p, exit),
        onError: (err) => this.#o.log.error({ err, layerId: this.#o.layerId }, 'video source failed to handle its decoder'),
        scrub: (message) => this.#redact(message),
      },
      Math.max(LIVE_STALL_MS, 3 * frameMs),
    );
    const run: Run = {
      proc,
      p0,
      step: frameMs * (this.#o.live ? 1 : this.#content.rate),
      offsetX: 0,
      offsetY: 0,
      counted: 0,
      droppedCounted: 0,
      cpuCounted: 0,
      firstAt: null,
      startedAt: performance.now(),
      loopsAfter: false,
      next: null,
      tail,
    };
    this.#book.runs.add(run);
    return run;
  }

  /** The current run reached its end and has a looping run waiting: that one goes on from where it ended. */
  #promote(run: Run, frames: number): Run {
    const next = run.next ?? this.#newRun(0, true, Number.NaN);
    run.next = null;
    run.loopsAfter = false;
    next.p0 = run.p0 + frames * run.step;
    this.#book.current = next;
    this.#book.drop(run);
    return next;
  }

  #onFormat(proc: DecoderRun): void {
    const run = this.#book.runOf(proc);
    const ring = proc.ring;
    if (!run || !ring) return;
    const offset = fitOffset(this.#box, ring.width, ring.height);
    run.offsetX = offset.x;
    run.offsetY = offset.y;
    this.#refresh(true);
  }

  #onFirstFrame(proc: DecoderRun): void {
    const run = this.#book.runOf(proc);
    if (!run) return;
    run.firstAt = performance.now();
    this.#threadRetries = 0;
    if (run.loopsAfter && !run.next && run === this.#book.current) run.next = this.#newRun(0, true, Number.NaN);
    this.#refresh();
  }

  /** A live ring is full: the newest picture becomes the one on screen (unless paused), the rest is released. */
  #onFull(proc: DecoderRun): void {
    const run = this.#book.runOf(proc);
    if (!run || run !== this.#book.current || !this.#clock.playing) return;
    const ring = proc.ring;
    if (ring && written(ring) > 0) this.#show({ run, index: written(ring) - 1 });
  }

  #onExit(proc: DecoderRun, exit: RunExit): void {
    const run = this.#book.runOf(proc);
    if (!run || run === this.#book.current?.next) return;
    if (run === this.#book.current && run.loopsAfter && !this.#closed && (exit.state === 'exited' || exit.frames > 0)) {
      // Its end is where the looping run goes on (at once when it made no picture: a seek to the very end).
      if (exit.frames === 0) this.#promote(run, 0);
      return;
    }
    this.#count(run);
    if (run !== this.#book.current || this.#closed || this.#o.live) {
      // A live feed's supervisor sees the exit too and retries; its reason is the supervisor's lastError.
      if (run !== this.#book.current) this.#book.drop(run);
      this.#refresh(true);
      return;
    }
    if (this.#error) {
      // Given up already (no picture in time): its stop is no end of the file.
      this.#refresh(true);
      return;
    }
    if (exit.state === 'failed' && exit.threadFailed && this.#threadRetries < THREAD_RETRIES) {
      // The reader thread died under it (not the file's fault): a new run on a new thread, from where the clock is.
      this.#threadRetries++;
      this.#o.log.warn({ layerId: this.#o.layerId, err: exit.message }, 'video reader thread failed: decoding again');
      this.#spawn(this.#clock.position(this.#o.now()));
      return;
    }
    if (exit.state === 'failed') {
      this.#lastError = this.#redact(exit.message ?? 'the decoder failed');
      this.#o.log.warn({ layerId: this.#o.layerId, code: exit.code, frames: exit.frames, err: this.#lastError }, 'video decoder failed');
      if (exit.frames === 0) this.#error = true;
    } else if (exit.frames === 0) {
      // A clean end without a picture: a start past the end (its last pictures instead), or a file with no picture.
      if (looping(this.#content)) {
        this.#error = true;
        this.#lastError = 'The file has no picture to loop';
      } else if (!run.tail && run.p0 > 0) this.#book.replace(this.#newRun(0, false, 0, true));
      else this.#end();
    }
    this.#refresh(true);
  }

  /** The wanted frame index of `run` at scene time `t` (files). */
  #want(run: Run, t: number): number {
    return Math.floor((this.#clock.position(t) - run.p0) / run.step + 1e-6);
  }

  /** True when showing the same picture again is a repeat (the source should have moved on). */
  #shouldAdvance(): boolean {
    if (!this.#clock.playing || this.#ended) return false;
    if (this.#o.live) return true;
    return this.#laggingSince !== null;
  }

  /** The picture to show at `t`: from the current run when it has one, else the last one shown. */
  #pick(t: number, run = this.#book.current): Shown | null {
    const ring = run?.proc.ring;
    const n = ring ? written(ring) : 0;
    if (run && ring && n > 0) {
      const r = released(ring);
      let index: number;
      if (this.#o.live) {
        const held = this.#book.shown?.run === run ? this.#book.shown.index : -1;
        index = this.#clock.playing || held < 0 ? n - 1 : held;
      } else {
        const want = this.#want(run, t);
        if (run.loopsAfter && want >= n && endOf(ring) !== 0) return this.#pick(t, this.#promote(run, n));
        index = Math.min(Math.max(want, r), n - 1);
        const behind = want > n - 1 && endOf(ring) === 0 && this.#clock.playing;
        if (!behind) this.#laggingSince = null;
        else this.#laggingSince ??= performance.now();
        if (
          behind &&
          !run.tail &&
          (want - (n - 1)) * run.step > CATCH_UP_MS &&
          run.firstAt !== null &&
          performance.now() - run.firstAt > 1000
        ) {
          // Far behind (frames were not being made, or the decoder is slow): seek instead.
          this.#spawn(this.#clock.position(t));
        }
      }
      return { run, index };
    }
    return this.#book.shown?.run.proc.ring ? this.#book.shown : null;
  }

  /** A non-looping file: ended once its last picture's time has passed. */
  #checkEnd(t: number): void {
    if (this.#ended || looping(this.#content)) return;
    const run = this.#book.current;
    const ring = run?.proc.ring;
    if (!run || !ring || endOf(ring) === 0) return;
    const n = written(ring);
    if (n > 0 && this.#want(run, t) >= n) this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#laggingSince = null;
    this.#refresh(true);
    this.#o.onEnded(this.status());
  }

  /** Makes `s` the picture on screen; a live feed's pictures skipped on the way count as dropped. */
  #show(s: Shown): void {
    const prev = this.#book.shown;
    if (!this.#book.show(s)) return;
    this.#everShown = true;
    if (this.#o.live && prev && prev.run === s.run && s.index > prev.index + 1 && this.#clock.playing)
      this.#o.metrics.dropped(this.#o.layerId, s.index - prev.index - 1);
  }

  /** The slate colour over the layer box, for a live feed with no picture yet (needs the box's width and height). */
  #slateFrame(): VideoFrame | null {
    const color = this.#content.slate;
    if (!this.#o.live || color === undefined || this.#everShown) return null;
    return this.#slate.frame(this.#box, color);
  }

  /**
   * A new layer box (or program rate): applied at once off the clock, on live frames once it has
   * held {@link BOX_SETTLE_MS} (a size tween restarts the decoder once, not every frame); the old
   * pictures show meanwhile.
   */
  #checkBox(layer: Layer, live: boolean): void {
    const box = videoBox(layer);
    const key = boxKey(box, this.#o.fps());
    if (key === this.#key) {
      this.#pending = null;
      return;
    }
    const now = performance.now();
    if (this.#pending?.key !== key) this.#pending = { key, box, since: now };
    if (live && now - this.#pending.since < BOX_SETTLE_MS) return;
    this.#applyBox(box);
  }

  #applyBox(box: VideoBox): void {
    this.#box = box;
    this.#key = boxKey(box, this.#o.fps());
    this.#pending = null;
    if (this.#o.live) this.restart();
    else {
      // A new box is worth another try (the last one may have been too large).
      this.#error = false;
      this.#lastError = null;
      this.#spawn(this.#clock.position(this.#o.now()));
    }
  }

  /** Adds `run`'s new frames, drops (not while paused) and CPU time to the metrics. */
  #count(run: Run): void {
    countRun(run, this.#o.metrics, this.#o.layerId, this.#clock.playing);
  }

  /** The state from what is known now; reports a change (or, with `force`, any status change worth a message). */
  #refresh(force = false): void {
    if (this.#closed) return;
    const ring = this.#book.current?.proc.ring;
    const sup = this.#supervisor;
    if (sup) this.#lastError = sup.lastError === null ? null : this.#redact(sup.lastError);
    const state = sourceState({
      error: this.#error,
      ended: this.#ended,
      playing: this.#clock.playing,
      feed: sup ? sup.state : null,
      pictured: this.#everShown || (!sup && !!ring && written(ring) > 0),
      laggingMs: this.#laggingSince === null ? null : performance.now() - this.#laggingSince,
    });
    const changed = state !== this.#state;
    this.#state = state;
    if (changed) this.#o.metrics.state(this.#o.layerId, state);
    const status = this.status();
    const report = `${status.state}|${status.lastError}|${status.width}x${status.height}|${status.durationMs}|${status.fps}`;
    if (changed || (force && report !== this.#lastReported)) {
      this.#lastReported = report;
      this.#o.onChange(status);
    }
  }

  /** ffmpeg's words with a feed URL's secrets (an RTMP stream key, user info, query values) or a file's path on this server replaced. */
  #redact(message: string): string {
    const named = message.split(this.#o.input).join(this.#o.live ? redactUrl(this.#o.input) : this.#content.src);
    // ffmpeg also quotes parts of the URL on their own (an HLS segment's URL with the same token, a playpath).
    return this.#o.live ? scrubSecrets(named, secretsOf(this.#o.input)) : named;
  }
}
