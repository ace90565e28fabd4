import { endianness } from 'node:os';
import { frameBytes } from '../../pixels/frame-layout.js';
import { i420Bytes, type YuvMatrix } from '../../pixels/yuv.js';

if (endianness() !== 'LE') throw new Error('Stream Manager needs a little-endian CPU (frame words are RGBA in LE order)');

/**
 * One composited frame: a SharedArrayBuffer of premultiplied RGBA (pixels/frame-layout.ts) with
 * a view for the compositor (`words`) and one for previews and snapshots (`bytes`), plus the same
 * picture as I420 (pixels/yuv.ts) for the encoders (`yuv`). Reference counted: every reader
 * (encoder write, preview task, snapshot, "last frame") holds one reference.
 */
export class Frame {
  readonly buffer: SharedArrayBuffer;
  /** Byte view of the RGBA pixels. */
  readonly bytes: Buffer;
  /** One little-endian word per pixel. */
  readonly words: Uint32Array;
  /** The frame as I420 (yuv420p), written to the encoders' stdin as is; filled by the composer. */
  readonly yuv: Buffer;
  /** Frame number in the stream, and its time in ms since the stream started. */
  index = 0;
  timeMs = 0;
  /** @internal */ refs = 0;
  /**
   * Which compositor last drew this buffer and its number for that frame, so the next frame drawn
   * into it redraws only what changed since (frame-composer.ts); -1: unknown content.
   * @internal
   */
  drawnBy: object | null = null;
  /** @internal */ drawnSeq = -1;
  /** The matrix its I420 buffer was drawn with along with the RGBA that time; null: not drawn. @internal */
  yuvDrawn: YuvMatrix | null = null;
  /**
   * How long this frame's stages took, ms (frame-composer.ts `timing`): set by the composer that
   * drew it, so it stays this frame's even when the next frame's stages ended first.
   */
  readonly times = { renderMs: 0, compositeMs: 0, convertMs: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.buffer = new SharedArrayBuffer(frameBytes(width, height));
    this.bytes = Buffer.from(this.buffer);
    this.words = new Uint32Array(this.buffer);
    this.yuv = Buffer.from(new SharedArrayBuffer(i420Bytes(width, height)));
  }
}

/**
 * A pool of frame-sized buffers, so the hot path allocates none: a buffer is allocated the first
 * time the pool runs dry (up to `max`) and reused for the life of the pool. Freshly allocated
 * buffers are touched once up front so the first frames do not pay for their page faults.
 */
export class FramePool {
  readonly #free: Frame[] = [];
  #allocated = 0;

  /**
   * @param width,height frame size in pixels
   * @param max most frames ever allocated; `acquire` returns null past it
   * @param prealloc frames allocated now
   */
  constructor(
    readonly width: number,
    readonly height: number,
    readonly max: number,
    prealloc = 2,
  ) {
    for (let i = 0; i < Math.min(prealloc, max); i++) this.#free.push(this.#allocate());
  }

  /** Frames allocated so far (for metrics). */
  get allocated(): number {
    return this.#allocated;
  }

  /** A free frame with one reference, or null when all `max` frames are in use. */
  acquire(): Frame | null {
    const frame = this.#free.pop() ?? (this.#allocated < this.max ? this.#allocate() : null);
    if (frame) frame.refs = 1;
    return frame;
  }

  /** Adds a reference; returns the frame for chaining. */
  retain(frame: Frame): Frame {
    frame.refs++;
    return frame;
  }

  /** Drops a reference; the last one returns the frame to the pool. */
  release(frame: Frame): void {
    if (frame.refs <= 0) throw new Error('Frame released more times than retained');
    if (--frame.refs === 0 && frame.width === this.width && frame.height === this.height) this.#free.push(frame);
  }

  #allocate(): Frame {
    this.#allocated++;
    const frame = new Frame(this.width, this.height);
    frame.words.fill(0);
    frame.yuv.fill(0);
    return frame;
  }
}
