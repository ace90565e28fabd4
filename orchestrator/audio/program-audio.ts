import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MixerCommand, MixerMessage, MixSource } from '../../media/audio-protocol.js';
import { allocateTape, mixedUpTo, readTape, tapeOf, type AudioTape, type TapeBuffers } from '../../media/audio-tape.js';
import { AUDIO_RATE_HZ, gainToDb, mixVolume, type AudioLevelsPayload, type MasterBus } from '../../shared/audio.js';
import { isLiveSrc, type MediaAction, type MediaStatus } from '../../shared/media.js';
import type { Layer } from '../../shared/scene.js';
import type { Canvas, StreamConfig } from '../../shared/stream-config.js';
import type { ProgramAudioReader } from '../output/audio-feed.js';
import type { LayerEntry, SceneEvent, SceneStore } from '../scene/scene-store.js';
import { liveHostAllowed } from '../media/live-hosts.js';
import { sourceInput } from '../media/source-path.js';
import { probeMedia } from '../media/probe.js';
import { ffprobeFor } from '../output/recording-check.js';
import { AudioSource, type SoundLayer } from './audio-source.js';

const MIXER_FILE = new URL('../../media/audio-mixer.js', import.meta.url);

/** Frames between the gain points of a mix request: 10 ms (tweens are linear between them). */
const GAIN_STEP = AUDIO_RATE_HZ / 100;
/** The most frames one mix request covers: 1 s (a longer gap is left silent). */
const MAX_MIX_FRAMES = AUDIO_RATE_HZ;
/** Audio sources decoding at once, at most (a scene holds up to 1000 layers). */
export const MAX_AUDIO_SOURCES = 16;
/** A live feed whose decoder ended is opened again after this long, ms (then up to 5 s apart). */
const LIVE_RETRY_MS = 1000;
const LIVE_RETRY_MAX_MS = 5000;
/** A mixer thread that dies within this of the last one's death is replaced this much later, ms. */
const MIXER_RESTART_MS = 1000;

/** What the program audio needs from the program. */
export interface ProgramAudioOptions {
  scene: SceneStore;
  /** Scene time now, ms. */
  now: () => number;
  /** The program's frame rate now (the mix runs this many frames ahead of the encoders' reads, and two more). */
  fps: () => number;
  /** The layers as they look at scene time `t`, tweens applied (the animator's `resolve`); absent: as stored. */
  resolve?: ((entries: readonly LayerEntry[], t: number) => readonly LayerEntry[]) | undefined;
  /** The video sources' reports (a seek or restart of a video layer moves its sound with it). */
  media?: { onUpdate(listener: (layerId: string, status: MediaStatus) => void): () => void } | undefined;
  ffmpegPath: string;
  assetRoot: string;
  assetStorage: string;
  liveHosts?: readonly string[] | undefined;
  /**
   * A scene crossfade at scene time `t` (motion/scene-switcher.ts `at`): the outgoing layers (as at
   * the activation) and the incoming scene's weight 0..1; null when none runs. Absent: a cut.
   */
  crossfade?: ((t: number) => { entries: readonly LayerEntry[]; mix: number } | null) | undefined;
  /** The master bus now (the stream config's `audio`; absent: volume 1, not muted). */
  master: () => MasterBus | undefined;
  log: Logger;
}

/**
 * The program's sound: one {@link AudioSource} per layer with sound (`video` and `audio` layers),
 * decoded and mixed in the mixer thread (media/audio-mixer.ts) onto the program tape, which the
 * encoders read ({@link ProgramAudioReader}). The mix is pulled: each read asks the mixer for the
 * frames up to a little ahead of it, with every source's gains (volume, mute, pan, tweened) and
 * media position at those scene times, so a change applies to what is not mixed yet (at most
 * two frame intervals and a read later). Emits `levels` about 10 times a second while mixing.
 */
export class ProgramAudio extends EventEmitter<{ levels: [AudioLevelsPayload] }> implements ProgramAudioReader {
  readonly #o: ProgramAudioOptions;
  #worker: Worker;
  readonly #tapeBuffers: TapeBuffers;
  readonly #tape: AudioTape;
  /** Mixer threads started to replace one that died (`stream_manager_audio_mixer_restarts_total`). */
  mixerRestarts = 0;
  /** Sample frames (48 kHz) the encoders read before they were mixed, i.e. as silence (`stream_manager_audio_underrun_seconds_total`). */
  underrunFrames = 0;
  /** The end of the last range counted in {@link underrunFrames}, sample frames. */
  #underrunTo = 0;
  /** Wall-clock time of the last mixer crash, ms (crashes closer than {@link MIXER_RESTART_MS} wait before the next start). */
  #lastCrash = -Infinity;
  #restartTimer: NodeJS.Timeout | null = null;
  #resolveClosed: () => void = () => undefined;
  readonly #sources = new Map<string, AudioSource>();
  /** Sources of a crossfade's outgoing layers (not in the incoming scene), faded out, closed when it ends. */
  readonly #ghosts = new Map<string, AudioSource>();
  /** Ids of the layers that came in with the running crossfade (faded in). */
  #incoming = new Set<string>();
  readonly #ffprobe: string;
  #requested = 0;
  #run = 0;
  #closed = false;
  readonly #offMedia: (() => void) | undefined;
  readonly #closedP: Promise<void>;
  /** Latest levels (for metrics). */
  levels: AudioLevelsPayload | null = null;

  constructor(options: ProgramAudioOptions) {
    super();
    this.#o = options;
    this.#ffprobe = ffprobeFor(options.ffmpegPath);
    this.#tapeBuffers = allocateTape();
    this.#tape = tapeOf(this.#tapeBuffers);
    this.#closedP = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#worker = this.#startMixer();
    options.scene.on('change', this.#onChange);
    for (const e of options.scene.entries()) this.#sync(e.layer);
    this.#offMedia = options.media?.onUpdate((id, status) => this.#sources.get(id)?.followVideo(status, this.#o.now()));
  }

  /**
   * The mixer thread's event loop time so far, ms: `active` (mixing, copying decoded sound) and
   * `idle` (Node's `eventLoopUtilization` of the worker, read from this thread); for the bench.
   */
  mixerTime(): { activeMs: number; idleMs: number } {
    const u = this.#worker.performance.eventLoopUtilization();
    return { activeMs: u.active, idleMs: u.idle };
  }

  /** The audio decoders' pids now, by layer id (the bench reads their CPU time). */
  decoderPids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, s] of this.#sources) if (s.pid !== undefined) out[id] = s.pid;
    return out;
  }

  /** Layers with a decoder now, by id (tests and diagnostics). */
  get sourceIds(): string[] {
    return [...this.#sources.keys()];
  }

  // ProgramAudioReader

  read(from: number, frames: number, out: Float32Array): void {
    readTape(this.#tape, from, frames, out);
    // Samples read before they were mixed went out as silence; counted once however many encoders read them.
    const end = from + frames;
    const short = end - Math.max(from, mixedUpTo(this.#tape), this.#underrunTo);
    if (short > 0) {
      this.underrunFrames += short;
      this.#underrunTo = end;
    }
    if (this.#closed) return;
    const fps = this.#o.fps();
    const want = from + frames + Math.round((2 * AUDIO_RATE_HZ) / Math.max(1, fps));
    // Far ahead of this read (scene time went back: a test's clock): start again from here.
    if (this.#requested > want + MAX_MIX_FRAMES) this.#requested = from;
    let start = Math.max(this.#requested, from);
    if (want - start > MAX_MIX_FRAMES) start = want - MAX_MIX_FRAMES;
    if (start >= want) return;
    this.#requested = want;
    this.#mix(start, want);
  }

  /** Asks the mixer for frames [from, to) with every source's gains and positions at their scene times. */
  #mix(from: number, to: number): void {
    const points = Math.ceil((to - from) / GAIN_STEP) + 1;
    const entries = this.#o.scene.entries().filter((e) => this.#sources.has(e.layer.id));
    const at: Array<readonly LayerEntry[]> = [];
    for (let k = 0; k < points; k++) {
      const t = ((from + k * GAIN_STEP) * 1000) / AUDIO_RATE_HZ;
      at.push(this.#o.resolve ? this.#o.resolve(entries, t) : entries);
    }
    // A scene crossfade: the incoming layers fade in by its weight, the outgoing ones out.
    const fades: Array<{ entries: readonly LayerEntry[]; mix: number } | null> = [];
    for (let k = 0; k < points; k++)
      fades.push(
        this.#ghosts.size + this.#incoming.size > 0 ? (this.#o.crossfade?.(((from + k * GAIN_STEP) * 1000) / AUDIO_RATE_HZ) ?? null) : null,
      );
    const sources: MixSource[] = [];
    const tMs = (from * 1000) / AUDIO_RATE_HZ;
    const frameMs = 1000 / Math.max(1, this.#o.fps());
    entries.forEach((e, i) => {
      const src = this.#sources.get(e.layer.id)!;
      const fadesIn = this.#incoming.has(e.layer.id);
      const left: number[] = [];
      const right: number[] = [];
      for (let k = 0; k < points; k++) {
        const g = gains(at[k]![i]!.layer);
        const w = fadesIn ? (fades[k]?.mix ?? 1) : 1;
        left.push(g[0] * w);
        right.push(g[1] * w);
      }
      sources.push(src.mixPart(tMs, e.layer.audio?.syncOffsetMs ?? 0, left, right, frameMs));
    });
    for (const [id, src] of this.#ghosts) {
      const left: number[] = [];
      const right: number[] = [];
      let layer: Layer | undefined;
      for (let k = 0; k < points; k++) {
        const f = fades[k];
        layer = f?.entries.find((x) => x.layer.id === id)?.layer ?? layer;
        const g = f && layer ? gains(layer) : [0, 0];
        left.push(g[0]! * (1 - (f?.mix ?? 1)));
        right.push(g[1]! * (1 - (f?.mix ?? 1)));
      }
      sources.push(src.mixPart(tMs, layer?.audio?.syncOffsetMs ?? 0, left, right, frameMs));
    }
    // Past the crossfade's end: the outgoing sources are done.
    if (fades[points - 1] === null && this.#ghosts.size + this.#incoming.size > 0) this.#endCrossfade();
    const master = this.#o.master();
    const m = master?.muted ? 0 : (master?.volume ?? 1);
    this.#post({ type: 'mix', from, to, step: GAIN_STEP, sources, master: new Array<number>(points).fill(m) });
  }

  /**
   * Lip sync: each character layer of `entries` with `lipSync` gets its `mouth` at scene time `t`
   * from its source's envelope (after the source's volume and mute): 0 (closed) below
   * `thresholdDb`, from 0.35 at it to 1 at 30 dB above. Other entries pass as they are.
   */
  bind(entries: readonly LayerEntry[], t: number): readonly LayerEntry[] {
    let out: LayerEntry[] | null = null;
    entries.forEach((e, i) => {
      const c = e.layer.content;
      if (c.type !== 'character' || !c.lipSync) return;
      const src = this.#sources.get(c.lipSync.source);
      const layer = entries.find((x) => x.layer.id === c.lipSync!.source)?.layer;
      let mouth = 0;
      if (src && layer) {
        const [l, r] = gains(layer);
        const rms = src.envelope(t, layer.audio?.syncOffsetMs ?? 0, c.lipSync.smoothingMs) * ((l + r) / 2);
        const db = gainToDb(rms);
        if (db >= c.lipSync.thresholdDb) mouth = Math.min(1, 0.35 + (db - c.lipSync.thresholdDb) / 30);
      }
      out ??= [...entries];
      out[i] = { ...e, layer: { ...e.layer, content: { ...c, mouth } } };
    });
    return out ?? entries;
  }

  /**
   * A media action on `audio` layer `layerId` (the store already set its `playing`; the change
   * reached its source): a restart starts again from `startMs`, a seek from `positionMs`.
   * @returns the source's state now (`paused`, `playing`; `error` when it has no decoder: over the source limit or refused)
   */
  control(layerId: string, action: MediaAction): MediaStatus {
    const src = this.#sources.get(layerId);
    const now = this.#o.now();
    if (src && action.action === 'restart') src.restart(now);
    else if (src && action.action === 'seek') src.seek(now, action.positionMs ?? 0);
    return src
      ? src.status(now)
      : { state: 'error', positionMs: 0, durationMs: null, width: 0, height: 0, fps: 0, lastError: 'No audio decoder for this layer' };
  }

  /** Kills every decoder, ends the mixer thread (boundedly). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.scene.off('change', this.#onChange);
    this.#offMedia?.();
    for (const s of this.#sources.values()) s.close();
    this.#sources.clear();
    this.#endCrossfade();
    if (this.#restartTimer) {
      clearTimeout(this.#restartTimer);
      this.#restartTimer = null;
      this.#resolveClosed();
    }
    this.#post({ type: 'shutdown' });
    const t = setTimeout(() => void this.#worker.terminate(), 3000);
    await this.#closedP;
    clearTimeout(t);
  }

  #post(c: MixerCommand): void {
    // While a crashed mixer waits to be replaced, nothing is sent (its replacement reopens every source).
    if (this.#restartTimer === null) this.#worker.postMessage(c);
  }

  /** Starts a mixer thread on the program tape; a thread that ends while the program audio is open is replaced ({@link #mixerDied}). */
  #startMixer(): Worker {
    const w = new Worker(MIXER_FILE, { stdout: false, stderr: false });
    w.unref();
    w.on('message', (m: MixerMessage) => {
      if (w !== this.#worker) return;
      if (m.type === 'closed') this.#resolveClosed();
      else this.#onMessage(m);
    });
    w.on('error', (err) => this.#o.log.error({ err }, 'audio mixer thread failed'));
    w.on('exit', (code) => {
      if (w !== this.#worker) return;
      if (this.#closed) this.#resolveClosed();
      else this.#mixerDied(code);
    });
    w.postMessage({ type: 'init', tape: this.#tapeBuffers, ffmpegPath: this.#o.ffmpegPath } satisfies MixerCommand);
    return w;
  }

  /**
   * The mixer thread ended while the program audio was open (it threw, or ran out of memory): the
   * program reads silence meanwhile (the tape never waits); its decoders are killed (they were its
   * children), and a new thread is started, at once or, after a crash less than
   * {@link MIXER_RESTART_MS} ago, that long later (a thread that dies at every start does not spin),
   * and every source is opened again at its position now. Counted in {@link mixerRestarts}.
   */
  #mixerDied(code: number): void {
    this.#o.log.error({ code }, 'audio mixer thread ended; starting a new one');
    for (const s of this.#sources.values()) s.orphaned();
    for (const s of this.#ghosts.values()) s.orphaned();
    this.#endCrossfade();
    const now = Date.now();
    const wait = now - this.#lastCrash < MIXER_RESTART_MS ? MIXER_RESTART_MS : 0;
    this.#lastCrash = now;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#closed) return;
      this.mixerRestarts++;
      this.#worker = this.#startMixer();
      // What the dead thread was asked for is lost: the next read asks again from where it reads.
      this.#requested = 0;
      const t = this.#o.now();
      for (const s of this.#sources.values()) s.reopen(t);
    }, wait);
    this.#restartTimer.unref();
  }

  /** Ends the mixer thread as a crash would (tests of its recovery; the program goes on). */
  async killMixer(): Promise<void> {
    await this.#worker.terminate();
  }

  #onMessage(m: Exclude<MixerMessage, { type: 'closed' }>): void {
    if (m.type === 'levels') {
      const sources: AudioLevelsPayload['sources'] = {};
      for (const [id, l] of Object.entries(m.sources)) if (this.#sources.has(id)) sources[id] = l;
      this.levels = { atMs: Math.round((m.at * 1000) / AUDIO_RATE_HZ), master: m.master, sources };
      this.emit('levels', this.levels);
    } else if (m.type === 'spawned') this.#sources.get(m.id)?.spawned(m.run, m.pid, m.envelope);
    else if (m.type === 'exit') this.#sources.get(m.id)?.exited(m.run, m.code, m.stderr);
  }

  readonly #onChange = (e: SceneEvent): void => {
    if (this.#closed) return;
    try {
      if (e.type === 'layerAdded' || e.type === 'layerUpdated') this.#sync(e.layer);
      else if (e.type === 'layerRemoved') {
        this.#remove(e.layer.id);
        this.#fill();
      } else if (e.type === 'sceneReplaced') {
        const keep = new Set(e.layers.map((l) => l.id));
        // A crossfade (begun just before this change): the outgoing layers' sound fades out, the incoming's in.
        this.#endCrossfade();
        const fade = this.#o.crossfade?.(this.#o.now());
        const outgoing = new Set(fade?.entries.map((x) => x.layer.id) ?? []);
        if (fade) this.#incoming = new Set([...keep].filter((id) => !outgoing.has(id)));
        for (const [id, src] of [...this.#sources]) {
          if (keep.has(id)) continue;
          if (fade && outgoing.has(id)) {
            this.#sources.delete(id);
            this.#ghosts.set(id, src);
          } else this.#remove(id);
        }
        // An audio layer's file starts again (a video layer's sound follows its picture, which a
        // scene activation restarts and reports: MediaSources.restartAll).
        for (const l of e.layers) {
          this.#sync(l);
          if (l.content.type === 'audio') this.#sources.get(l.id)?.restart(this.#o.now());
        }
        this.#fill();
      }
    } catch (err) {
      this.#o.log.error({ err, event: e.type }, 'program audio could not follow a scene change');
    }
  };

  /** Brings the sound of `layer` in line with it: created, changed, replaced (new `src`) or removed. */
  #sync(layer: Layer): void {
    const c = layer.content;
    const ghost = this.#ghosts.get(layer.id);
    if (ghost) {
      ghost.close();
      this.#ghosts.delete(layer.id);
    }
    const existing = this.#sources.get(layer.id);
    if (c.type !== 'video' && c.type !== 'audio') {
      if (existing) this.#remove(layer.id);
      return;
    }
    if (existing && existing.src === c.src) {
      existing.update(c, this.#o.now());
      return;
    }
    if (existing) this.#remove(layer.id);
    if (this.#mixing() >= MAX_AUDIO_SOURCES) {
      this.#o.log.warn({ layerId: layer.id, max: MAX_AUDIO_SOURCES }, 'layer over the audio source limit: not mixed');
      return;
    }
    if (isLiveSrc(c.src) && !liveHostAllowed(c.src, this.#o.liveHosts ?? [])) return;
    let input;
    try {
      input = sourceInput(c.src, this.#o.assetRoot, this.#o.assetStorage);
    } catch (err) {
      this.#o.log.error({ err, layerId: layer.id }, 'audio source refused; the layer is silent');
      return;
    }
    const src = new AudioSource(layer.id, c as SoundLayer, input, this.#o.now(), {
      open: (o) => {
        const run = ++this.#run;
        this.#post({ type: 'open', id: layer.id, run, ...o });
        return run;
      },
      close: () => this.#post({ type: 'close', id: layer.id }),
      retryMs: (n) => Math.min(LIVE_RETRY_MAX_MS, LIVE_RETRY_MS * 2 ** n),
      probe: async (file) => {
        const p = await probeMedia(this.#ffprobe, file);
        return p && { audio: p.audio !== null, durationMs: p.durationS === null ? null : p.durationS * 1000 };
      },
      now: this.#o.now,
      log: this.#o.log,
    });
    this.#sources.set(layer.id, src);
  }

  /** Sources that decode, or may (a video file not probed yet); a video without sound takes no place. */
  #mixing(): number {
    let n = 0;
    for (const s of this.#sources.values()) if (s.mayHaveSound) n++;
    return n;
  }

  /** A place came free: layers with sound left out by {@link MAX_AUDIO_SOURCES} get a decoder, in the scene's order. */
  #fill(): void {
    for (const e of this.#o.scene.entries()) {
      if (this.#mixing() >= MAX_AUDIO_SOURCES) return;
      const t = e.layer.content.type;
      if ((t === 'video' || t === 'audio') && !this.#sources.has(e.layer.id)) this.#sync(e.layer);
    }
  }

  /** The crossfade is over (or replaced): its outgoing sources are closed, its incoming ones play at their own volume. */
  #endCrossfade(): void {
    for (const s of this.#ghosts.values()) s.close();
    this.#ghosts.clear();
    this.#incoming.clear();
  }

  #remove(id: string): void {
    this.#sources.get(id)?.close();
    this.#sources.delete(id);
  }
}

/**
 * A layer's left and right gain: its volume (`volumeDb` converted), 0 when muted or hidden, and
 * its pan as a balance (0: both channels at the volume; towards one side, the other channel
 * falls linearly to 0 at +-1, the near one stays: a stereo source's balance, as OBS and most
 * desks pan stereo).
 */
export function gains(layer: Layer): [number, number] {
  const mix = layer.audio;
  const v = !layer.visible || mix?.muted ? 0 : mixVolume(mix);
  const pan = mix?.pan ?? 0;
  return [v * Math.min(1, 1 - pan), v * Math.min(1, 1 + pan)];
}

/**
 * The program audio of a pipeline from its options: sources under `media.assetRoot` /
 * `media.assetStorage` (default: the working folder), tweens from the animator, the video
 * sources' reports, the master bus from the stream config's `audio`.
 */
export function programAudio(
  o: {
    scene: SceneStore;
    ffmpegPath: string;
    log: Logger;
    motion?:
      | {
          animator?: { resolve(entries: readonly LayerEntry[], t: number, canvas: Canvas): readonly LayerEntry[] } | undefined;
          scenes?: { at(t: number): { entries: readonly LayerEntry[]; mix: number } | null } | undefined;
        }
      | undefined;
    media?: { assetRoot: string; assetStorage: string; liveHosts?: readonly string[] } | undefined;
  },
  media: ProgramAudioOptions['media'],
  now: () => number,
  stream: () => StreamConfig,
): ProgramAudio {
  const animator = o.motion?.animator;
  return new ProgramAudio({
    scene: o.scene,
    now,
    fps: () => stream().targetFPS,
    resolve: animator ? (entries, t) => animator.resolve(entries, t, stream()) : undefined,
    media,
    ffmpegPath: o.ffmpegPath,
    assetRoot: o.media?.assetRoot ?? '.',
    assetStorage: o.media?.assetStorage ?? '.',
    liveHosts: o.media?.liveHosts,
    crossfade: o.motion?.scenes ? (t) => o.motion!.scenes!.at(t) : undefined,
    master: () => stream().audio,
    log: o.log.child({ component: 'audio' }),
  });
}
