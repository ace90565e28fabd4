import type { Writable } from 'node:stream';
import { AUDIO_CHANNELS, AUDIO_RATE_HZ } from '../../shared/audio.js';
import type { Frame } from '../render/frame-pool.js';

/**
 * The program audio as an encoder reads it (orchestrator/audio/program-audio.ts implements it;
 * the pipeline hands it to the output hub): interleaved stereo float frames at 48 kHz, frame n at
 * scene time n / 48 ms. `read` never waits: what is not mixed yet reads as silence.
 */
export interface ProgramAudioReader {
  /** Copies program frames `from` .. `from + frames` into `out` (at least `frames` x 2 floats). */
  read(from: number, frames: number, out: Float32Array): void;
}

/** Bytes an encoder's audio pipe may hold unread before blocks are skipped (about 2.7 s). */
const MAX_PENDING_BYTES = 1 << 20;

/**
 * One encoder's audio input: with every frame the encoder takes, the program audio of that frame
 * interval goes to ffmpeg's audio pipe (`pipe:3`, raw f32le), so both inputs count the same
 * time: the k-th frame written is at k / FPS in the encode, and so is the audio written with it
 * (round((k+1) x 48000 / FPS) - round(k x 48000 / FPS) frames, exact on average). A new picture's
 * audio starts at its scene time (so picture and sound stay together even after dropped frames);
 * a repeated picture (the held or late one) carries on from where the last block ended.
 */
export class AudioFeed {
  #written = 0;
  /** Program frame the next block starts at, and the picture the last block went with. */
  #next = 0;
  #lastFrame: Frame | null = null;
  #lastIndex = -1;
  #lastTime = Number.NaN;
  #block = new Float32Array(0);
  /** Blocks skipped because ffmpeg did not read its audio pipe. */
  skipped = 0;

  constructor(
    private readonly source: ProgramAudioReader,
    private readonly fps: number,
    private readonly pipe: Writable,
  ) {
    pipe.on('error', () => undefined);
  }

  /** Writes the audio of the frame interval `frame` is written for. */
  write(frame: Frame): void {
    const k = this.#written++;
    const frames = Math.round(((k + 1) * AUDIO_RATE_HZ) / this.fps) - Math.round((k * AUDIO_RATE_HZ) / this.fps);
    const repeat = frame === this.#lastFrame && frame.index === this.#lastIndex && frame.timeMs === this.#lastTime;
    const from = repeat ? this.#next : Math.round((frame.timeMs * AUDIO_RATE_HZ) / 1000);
    this.#lastFrame = frame;
    this.#lastIndex = frame.index;
    this.#lastTime = frame.timeMs;
    this.#next = from + frames;
    if (!this.pipe.writable) return;
    if (this.pipe.writableLength > MAX_PENDING_BYTES) {
      this.skipped++;
      return;
    }
    if (this.#block.length < frames * AUDIO_CHANNELS) this.#block = new Float32Array(frames * AUDIO_CHANNELS);
    this.source.read(Math.max(0, from), frames, this.#block);
    // A copy: the pipe holds it until ffmpeg reads it.
    this.pipe.write(Buffer.from(this.#block.buffer.slice(0, frames * AUDIO_CHANNELS * 4)));
  }

  end(): void {
    this.pipe.end();
  }
}
