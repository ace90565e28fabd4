import sharp from 'sharp';
import type { Frame } from '../render/frame-pool.js';

/**
 * Encodes a composited frame as PNG with sharp, un-premultiplying on the way (sharp's raw input
 * `premultiplied` flag), optionally downscaled to `width` pixels wide (aspect kept).
 * The caller holds a reference on the frame until the returned promise settles.
 */
export async function encodeSnapshot(frame: Frame, width?: number): Promise<Buffer> {
  let image = sharp(frame.bytes, {
    raw: { width: frame.width, height: frame.height, channels: 4, premultiplied: true },
  });
  if (width !== undefined && width < frame.width) image = image.resize({ width });
  return image.png({ compressionLevel: 3 }).toBuffer();
}
