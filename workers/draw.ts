/**
 * Drawing on whichever thread calls it: `render` draws one layer with @napi-rs/canvas into the
 * layer's SharedArrayBuffer as premultiplied RGBA (see pixels/frame-layout.ts); `encodeImage`
 * downscales a composited frame and encodes it as JPEG or PNG. The render worker
 * (render-worker.ts) wraps one; the single-thread bench baseline calls one on the main thread.
 */
import { createCanvas, ImageData, type Canvas } from '@napi-rs/canvas';
import { contentBox } from '../pixels/content-box.js';
import { isAssetId } from '../shared/scene.js';
import type { LayerBounds } from '../pixels/frame-layout.js';
import type { Layer } from '../shared/scene.js';
import type { EncodeImageResult, EncodeImageTask, RenderResult, RenderTask, WorkerInit } from '../pool/messages.js';
import { ensureAssetFont, registerBundledFonts } from './fonts.js';
import { ImageCache } from './images.js';
import { boxSize, boxView, layerBox, visiblePart } from './layout.js';
import { prepareCharacter } from './renderers/character.js';
import { prepareChat } from './renderers/chat.js';
import { prepareColor } from './renderers/color.js';
import { prepareImage } from './renderers/image.js';
import { prepareText } from './renderers/text.js';
import type { PreparedContent, RenderEnv } from './renderers/types.js';

/** One thread's drawing state: its decoded images and reusable canvases. */
export interface Drawer {
  /** The thread's decoded pictures (evict one when its asset is deleted). */
  images: ImageCache;
  render(task: RenderTask): Promise<RenderResult>;
  encodeImage(task: EncodeImageTask): Promise<EncodeImageResult>;
}

/**
 * A drawer for the calling thread: registers the bundled fonts, opens an image cache.
 * @param init asset folders and the image cache's size in bytes
 */
export function createDrawer(init: Pick<WorkerInit, 'assetRoot' | 'assetStorage' | 'imageCacheBytes'>): Drawer {
  registerBundledFonts(init.assetRoot);
  const images = new ImageCache(init.assetRoot, init.assetStorage, init.imageCacheBytes);
  /** Canvases kept for reuse, by size; an animated layer draws into the same one every frame. */
  const CANVAS_CACHE_SIZE = 8;
  const canvases = new Map<string, Canvas>();
  // encodeImage's own: a render from the job ring may run while an encode awaits its encoder.
  const encodeCanvases = new Map<string, Canvas>();

  function canvasOf(width: number, height: number, cache = canvases): Canvas {
    const key = `${width}x${height}`;
    let canvas = cache.get(key);
    if (canvas) {
      cache.delete(key);
    } else {
      canvas = createCanvas(width, height);
      if (cache.size >= CANVAS_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(key, canvas);
    return canvas;
  }

  function prepare(layer: Layer, env: RenderEnv): PreparedContent | Promise<PreparedContent> {
    const content = layer.content;
    if ((content.type === 'text' || content.type === 'chat') && isAssetId(content.style.font)) {
      ensureAssetFont(content.style.font, images.pathOf(content.style.font));
    }
    switch (content.type) {
      case 'color':
        return prepareColor(content, env);
      case 'image':
        return prepareImage(content, env);
      case 'text':
        return prepareText(content, env);
      case 'character':
        return prepareCharacter(content, env);
      case 'chat':
        return prepareChat(content, env);
      case 'video':
        // Decoded frames go from the source's frame ring straight to the compositor (orchestrator/media/).
        throw new Error('A video layer is not drawn by the render pool');
      case 'audio':
        // Sound only: mixed by the program audio (orchestrator/audio/), never drawn.
        throw new Error('An audio layer is not drawn');
    }
  }

  /** `b` in whole pixels, clipped to a `width` x `height` buffer (empty: 0 x 0). */
  function clipBox(b: LayerBounds, width: number, height: number): LayerBounds {
    const x0 = Math.max(0, Math.floor(b.x));
    const y0 = Math.max(0, Math.floor(b.y));
    const x1 = Math.min(width, Math.ceil(b.x + b.width));
    const y1 = Math.min(height, Math.ceil(b.y + b.height));
    return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : { x: 0, y: 0, width: 0, height: 0 };
  }

  /** True when every pixel's alpha byte is 255. */
  function allOpaque(pixels: Uint8Array): boolean {
    const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) if (words[i]! < 0xff000000) return false;
    return true;
  }

  /**
   * Draws the part of `task.layer` that lies on the canvas (workers/layout.ts `visiblePart`) and
   * writes its pixels to `task.buffer`: a layer never costs more memory or drawing than the canvas.
   * @returns `ok` with the pixels' size and offset (0 x 0 when no part is on the canvas), or
   *   `grow` when the buffer is too small
   * @throws Error when the layer's asset is missing or does not decode
   */
  async function render(task: RenderTask): Promise<RenderResult> {
    const started = performance.now();
    const env: RenderEnv = { images, canvas: { width: task.canvasWidth, height: task.canvasHeight } };
    const prepared = await prepare(task.layer, env);
    const { transform } = task.layer;
    const size = boxSize(prepared.natural, transform);
    const box = layerBox(size, transform.rotation ?? 0);
    const clip = visiblePart(box, transform.x, transform.y, task.canvasWidth, task.canvasHeight);
    const full = { x: box.offsetX, y: box.offsetY, width: box.bufferWidth, height: box.bufferHeight };
    const bytes = clip.width * clip.height * 4;
    if (bytes > task.buffer.byteLength) return { status: 'grow', bytes, runMs: performance.now() - started };
    const placed = { width: clip.width, height: clip.height, offsetX: box.offsetX + clip.x, offsetY: box.offsetY + clip.y, full };
    if (bytes === 0)
      return { status: 'ok', ...placed, opaque: false, content: { x: 0, y: 0, width: 0, height: 0 }, runMs: performance.now() - started };
    if (prepared.write && box.radians === 0 && box.boxWidth * box.boxHeight <= task.canvasWidth * task.canvasHeight) {
      // Straight into the layer buffer: no canvas to clear, draw on and read back.
      const words = new Uint32Array(task.buffer, 0, clip.width * clip.height);
      const content = clipBox(
        prepared.write(words, clip.width, clip.height, box.boxWidth, box.boxHeight, task.timeMs, clip.x, clip.y),
        clip.width,
        clip.height,
      );
      return { status: 'ok', ...placed, opaque: false, content, runMs: performance.now() - started };
    }
    const canvas = canvasOf(clip.width, clip.height);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, clip.width, clip.height);
    // Whole pixels, so the part drawn matches the same pixels of the whole layer exactly.
    ctx.translate(-clip.x, -clip.y);
    if (box.radians !== 0) {
      ctx.translate(box.bufferWidth / 2, box.bufferHeight / 2);
      ctx.rotate(box.radians);
      ctx.translate(-box.boxWidth / 2, -box.boxHeight / 2);
    }
    const drawn = prepared.draw(ctx, box.boxWidth, box.boxHeight, task.timeMs, boxView(box, clip));

    const pixels = canvas.data();
    new Uint8Array(task.buffer, 0, pixels.byteLength).set(pixels);
    const exact = box.radians === 0 && Number.isInteger(box.boxWidth) && Number.isInteger(box.boxHeight);
    const opaque = prepared.opaqueHint === true && exact ? true : task.layer.content.type !== 'character' && allOpaque(pixels);
    const content = opaque
      ? { x: 0, y: 0, width: clip.width, height: clip.height }
      : drawn && box.radians === 0
        ? clipBox({ x: drawn.x - clip.x, y: drawn.y - clip.y, width: drawn.width, height: drawn.height }, clip.width, clip.height)
        : contentBox(new Uint32Array(task.buffer, 0, pixels.byteLength >>> 2), clip.width, clip.height);
    return { status: 'ok', ...placed, opaque, content, runMs: performance.now() - started };
  }

  let scratch: Uint8ClampedArray | undefined;

  /**
   * Downscales a composited frame (premultiplied RGBA; frames over an opaque background are
   * opaque, so premultiplied equals straight) with Skia and encodes it.
   * @returns the encoded bytes
   */
  async function encodeImage(task: EncodeImageTask): Promise<EncodeImageResult> {
    const started = performance.now();
    const full = canvasOf(task.width, task.height, encodeCanvases);
    // ImageData refuses shared memory: copy into this worker's scratch buffer (reused per size).
    const bytes = task.width * task.height * 4;
    if (scratch?.length !== bytes) scratch = new Uint8ClampedArray(bytes);
    scratch.set(new Uint8Array(task.frame, 0, bytes));
    full.getContext('2d').putImageData(new ImageData(scratch, task.width, task.height), 0, 0);
    let source = full;
    if (task.targetWidth < task.width) {
      const tw = Math.max(2, Math.round(task.targetWidth));
      const th = Math.max(2, Math.round((task.height * tw) / task.width));
      source = canvasOf(tw, th, encodeCanvases);
      const ctx = source.getContext('2d');
      ctx.imageSmoothingQuality = 'medium';
      ctx.drawImage(full, 0, 0, tw, th);
    }
    const data = await (task.format === 'png' ? source.encode('png') : source.encode('jpeg', task.quality));
    return { data, runMs: performance.now() - started };
  }

  return { images, render, encodeImage };
}
