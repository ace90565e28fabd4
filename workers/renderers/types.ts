import type { SKRSContext2D } from '@napi-rs/canvas';
import type { LayerBounds } from '../../pixels/frame-layout.js';
import type { ImageCache } from '../images.js';
import type { Size } from '../layout.js';

/** What a renderer may use besides its layer's content. */
export interface RenderEnv {
  images: ImageCache;
  /** Canvas size in pixels. */
  canvas: Size;
}

/**
 * A layer's content made ready to draw: its natural size, and a function that draws it filling a
 * `width` x `height` box at the context's origin (the caller has set up rotation and cleared).
 */
export interface PreparedContent {
  natural: Size;
  /** True when the drawing covers its whole box with opaque pixels (lets the worker skip a scan). */
  opaqueHint?: boolean;
  /**
   * Draws the content. `view`: the part of the box (box pixels, before rotation; a bounding box
   * when rotated) that lies on the canvas; what is outside it may be skipped. May return a box (box pixels, before rotation) that holds every visible
   * pixel it drew, when it knows one without reading the pixels back; the worker scans otherwise.
   */
  draw(ctx: SKRSContext2D, width: number, height: number, timeMs: number, view?: LayerBounds): LayerBounds | void;
  /**
   * Writes the content unrotated straight into its layer buffer, without a canvas read back,
   * when it can: `target` is the buffer's premultiplied RGBA words, `bufferWidth` x
   * `bufferHeight` (every pixel written, outside the content with 0), the box `width` x `height`
   * px with its pixel (`originX`, `originY`) at the buffer's top-left (0, 0 unless the layer is
   * cut at the canvas's edge: the buffer holds only its part on the canvas). Returns a box
   * (buffer pixels) that holds every visible pixel. A layer written this way is taken as not
   * opaque (blended, never row-copied): the host has margins.
   */
  write?(
    target: Uint32Array,
    bufferWidth: number,
    bufferHeight: number,
    width: number,
    height: number,
    timeMs: number,
    originX?: number,
    originY?: number,
  ): LayerBounds;
}
