/**
 * The mixer thread (a `worker_threads` Worker started by orchestrator/audio/program-audio.ts):
 * decodes every audio source (one ffmpeg each, media/audio-decoder.ts), mixes the ranges of
 * program frames the main thread asks for, with the gains it sends (volume, mute and pan per
 * source, already tweened; the master bus), limits the sum (media/limiter.ts) and writes it to
 * the program tape (media/audio-tape.ts), which the encoders read. Levels (peak and RMS per
 * source and of the master, about 100 ms windows) are posted back. Nothing here waits for a
 * source: a frame a decoder has not got reads as silence.
 */
import { parentPort } from 'node:worker_threads';
import { AUDIO_CHANNELS, AUDIO_RATE_HZ, gainToDb, type AudioLevel } from '../shared/audio.js';
import { AudioDecoder, LIVE_DELAY_FRAMES, SOURCE_FRAMES } from './audio-decoder.js';
import type { MixerCommand, MixerMessage, MixSource } from './audio-protocol.js';
import { tapeOf, writeTape, type AudioTape } from './audio-tape.js';
import { Limiter } from './limiter.js';

/** Frames of one level window: 100 ms. */
const LEVEL_FRAMES = AUDIO_RATE_HZ / 10;

const port = parentPort!;
const post = (m: MixerMessage): void => port.postMessage(m);

let tape: AudioTape | null = null;
let ffmpegPath = 'ffmpeg';
const decoders = new Map<string, { run: number; dec: AudioDecoder }>();
const limiter = new Limiter();
let closing = false;
let alive = 0;

/** A level window being summed: squares and peak, per source id and for the master. */
class Meter {
  sumSq = 0;
  peak = 0;
  frames = 0;
  add(l: number, r: number): void {
    this.sumSq += l * l + r * r;
    const p = Math.max(Math.abs(l), Math.abs(r));
    if (p > this.peak) this.peak = p;
  }
  take(): AudioLevel {
    const rms = this.frames > 0 ? Math.sqrt(this.sumSq / (this.frames * AUDIO_CHANNELS)) : 0;
    const level = { peakDb: round(gainToDb(this.peak)), rmsDb: round(gainToDb(rms)) };
    this.sumSq = 0;
    this.peak = 0;
    this.frames = 0;
    return level;
  }
}
const round = (db: number): number => Math.round(db * 100) / 100;
const masterMeter = new Meter();
const sourceMeters = new Map<string, Meter>();
let windowFrames = 0;

port.on('message', (c: MixerCommand) => {
  switch (c.type) {
    case 'init':
      tape = tapeOf(c.tape);
      ffmpegPath = c.ffmpegPath;
      break;
    case 'open':
      if (!closing) open(c);
      break;
    case 'close':
      decoders.get(c.id)?.dec.stop();
      decoders.delete(c.id);
      sourceMeters.delete(c.id);
      break;
    case 'mix':
      mix(c.from, c.to, c.step, c.sources, c.master);
      break;
    case 'shutdown':
      closing = true;
      for (const d of decoders.values()) d.dec.stop();
      decoders.clear();
      if (alive === 0) done();
      break;
  }
});

function done(): void {
  post({ type: 'closed' });
  port.close();
}

function open(c: Extract<MixerCommand, { type: 'open' }>): void {
  decoders.get(c.id)?.dec.stop();
  alive++;
  const dec = new AudioDecoder(
    ffmpegPath,
    { input: c.input, live: c.live, startMs: c.startMs, loop: c.loop },
    (pid, envelope) => post({ type: 'spawned', id: c.id, run: c.run, pid, envelope }),
    (exit) => {
      alive--;
      post({ type: 'exit', id: c.id, run: c.run, ...exit });
      if (closing && alive === 0) done();
    },
  );
  decoders.set(c.id, { run: c.run, dec });
}

/** Scratch gains, one per frame of a block (grown as needed). */
let gainL: Float32Array = new Float32Array(0);
let gainR: Float32Array = new Float32Array(0);

/**
 * The gains of a block's frames, linear between the points `step` frames apart (the last point
 * held), written into `into` (grown when too short; the grown array is kept for the next block).
 */
function ramp(points: readonly number[], step: number, frames: number, into: Float32Array): Float32Array {
  let out = into;
  if (out.length < frames) {
    out = new Float32Array(frames);
    if (into === gainL) gainL = out;
    else gainR = out;
  }
  for (let i = 0, k = 0; k < frames; i++) {
    const a = points[i] ?? points[points.length - 1] ?? 0;
    const b = points[i + 1] ?? a;
    const n = Math.min(step, frames - k);
    const d = (b - a) / step;
    for (let j = 0; j < n; j++, k++) out[k] = a + d * j;
  }
  return out;
}

/**
 * The run frame that program frame `from` reads from `src`'s decoder, or null when the source
 * gives nothing (paused, not open, its run replaced). A live feed is anchored
 * {@link LIVE_DELAY_FRAMES} (plus its delay) behind its newest frame once it has that much, and
 * anchored again when it ran dry (it stalled) or ran far ahead (a burst after a stall).
 */
function startFrame(src: MixSource, dec: AudioDecoder, from: number, frames: number): number | null {
  if (!dec.spec.live) {
    if (!src.playing) return null;
    return Math.round(src.positionMs * (AUDIO_RATE_HZ / 1000));
  }
  const delay = Math.max(AUDIO_RATE_HZ / 50, LIVE_DELAY_FRAMES + Math.round((src.delayMs * AUDIO_RATE_HZ) / 1000));
  if (dec.liveOffset !== null) {
    const lead = dec.written - (from - dec.liveOffset);
    if (lead < -delay) {
      // Ran dry (the feed stalled): silence until a new jitter buffer's worth has come in.
      dec.liveOffset = null;
      dec.resumeAt = dec.written + delay;
    } else if (lead > delay * 4 + frames || lead > SOURCE_FRAMES / 2) dec.liveOffset = null;
  }
  if (dec.liveOffset === null) {
    if (dec.written < Math.max(delay, dec.resumeAt)) return null;
    dec.liveOffset = from - (dec.written - delay);
  }
  return from - dec.liveOffset;
}

function mix(from: number, to: number, step: number, sources: MixSource[], master: number[]): void {
  if (!tape || to <= from) return;
  const frames = to - from;
  const out = new Float32Array(frames * AUDIO_CHANNELS);
  for (const src of sources) {
    const d = decoders.get(src.id);
    let meter = sourceMeters.get(src.id);
    if (!meter) sourceMeters.set(src.id, (meter = new Meter()));
    meter.frames += frames;
    if (!d || d.run !== src.run) continue;
    const dec = d.dec;
    const first = startFrame(src, dec, from, frames);
    if (first === null) continue;
    dec.wanted(first + frames);
    const gl = ramp(src.left, step, frames, gainL);
    const gr = ramp(src.right, step, frames, gainR);
    const ring = dec.ring;
    // The frames the ring has, in runs that do not wrap around its end.
    let k = Math.max(0, dec.written - SOURCE_FRAMES - first);
    const end = Math.min(frames, dec.written - first);
    while (k < end) {
      const slot = dec.slot(first + k);
      const run = Math.min(end - k, SOURCE_FRAMES - slot / AUDIO_CHANNELS);
      for (let j = 0; j < run; j++, k++) {
        const l = ring[slot + 2 * j]! * gl[k]!;
        const r = ring[slot + 2 * j + 1]! * gr[k]!;
        out[k * 2] = out[k * 2]! + l;
        out[k * 2 + 1] = out[k * 2 + 1]! + r;
        meter.add(l, r);
      }
    }
  }
  const gm = ramp(master, step, frames, gainL);
  for (let k = 0; k < frames; k++) {
    const g = gm[k]!;
    out[k * 2] = out[k * 2]! * g;
    out[k * 2 + 1] = out[k * 2 + 1]! * g;
  }
  limiter.process(out);
  for (let k = 0; k < frames; k++) masterMeter.add(out[k * 2]!, out[k * 2 + 1]!);
  masterMeter.frames += frames;
  writeTape(tape, from, out);
  windowFrames += frames;
  if (windowFrames >= LEVEL_FRAMES) {
    windowFrames = 0;
    const levels: Record<string, AudioLevel> = {};
    for (const [id, m] of sourceMeters) levels[id] = m.take();
    post({ type: 'levels', at: to, master: masterMeter.take(), sources: levels });
  }
}
