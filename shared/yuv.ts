/**
 * RGBA -> YUV 4:2:0 planar (I420, what ffmpeg calls `yuv420p`) conversion, so that ffmpeg only
 * encodes: it reads 1.5 bytes per pixel instead of 4 and runs no colour conversion of its own.
 *
 * Layout of a `width` x `height` I420 buffer (both even): the Y plane (`width x height` bytes),
 * then U (`width/2 x height/2`), then V (same), rows top to bottom, no padding.
 *
 * Colour: ITU-R BT.601, limited ("TV") range, what ffmpeg's swscale uses by default for
 * rgba -> yuv420p, so the encoded colours match the ffmpeg-converted output. The 8-bit integer
 * forms are the usual ones (Keith Jack, "Video Demystified"; also Microsoft's "Recommended 8-Bit
 * YUV Formats for Video Rendering"):
 *   Y = ((66 R + 129 G + 25 B + 128) >> 8) + 16
 *   U = ((-38 R - 74 G + 112 B + 128) >> 8) + 128
 *   V = ((112 R - 94 G - 18 B + 128) >> 8) + 128
 * Chroma is the mean of each 2x2 block (swscale filters it a little differently; the difference
 * is at most a few levels at hard edges). Input is premultiplied RGBA over an opaque background,
 * so premultiplied equals straight colour.
 */

/** A rectangle of whole 2x2 blocks, in pixels: `x0`, `y0` even, `x1`, `y1` even, exclusive. */
export interface BlockRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Bytes of a `width` x `height` I420 frame. */
export function i420Bytes(width: number, height: number): number {
  return width * height + 2 * ((width >> 1) * (height >> 1));
}

const RB = 0x00ff00ff;
/** 16 << 8 + 128: the Y offset and rounding folded into one constant. */
const Y_ADD = 4224;
/** (128 << 10) + 512: the chroma offset and rounding for a sum of 4 pixels (>> 10 = / 4 / 256). */
const C_ADD = 131584;

/**
 * Converts `rect` of an RGBA frame into the same place of an I420 frame.
 * @param src   the frame's pixels, one little-endian word per pixel (`A<<24|B<<16|G<<8|R`)
 * @param width,height frame size in pixels, both even
 * @param dst   the I420 frame, {@link i420Bytes} bytes
 */
export function rgbaToI420(src: Uint32Array, width: number, height: number, rect: BlockRect, dst: Uint8Array): void {
  const cw = width >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * (height >> 1);
  const w = rect.x1 - rect.x0;
  for (let y = rect.y0; y < rect.y1; y += 2) {
    let s0 = y * width + rect.x0;
    let s1 = s0 + width;
    let c = (y >> 1) * cw + (rect.x0 >> 1);
    const end = s0 + w;
    for (; s0 < end; s0 += 2, s1 += 2, c++) {
      const a = src[s0]!;
      const b = src[s0 + 1]!;
      const e = src[s1]!;
      const f = src[s1 + 1]!;
      const ag = (a >>> 8) & 255;
      const bg = (b >>> 8) & 255;
      const eg = (e >>> 8) & 255;
      const fg = (f >>> 8) & 255;
      dst[s0] = (66 * (a & 255) + 129 * ag + 25 * ((a >>> 16) & 255) + Y_ADD) >> 8;
      dst[s0 + 1] = (66 * (b & 255) + 129 * bg + 25 * ((b >>> 16) & 255) + Y_ADD) >> 8;
      dst[s1] = (66 * (e & 255) + 129 * eg + 25 * ((e >>> 16) & 255) + Y_ADD) >> 8;
      dst[s1 + 1] = (66 * (f & 255) + 129 * fg + 25 * ((f >>> 16) & 255) + Y_ADD) >> 8;
      // R and B of the four pixels summed in two 16-bit lanes of one word (4 x 255 fits 10 bits).
      const rb = (a & RB) + (b & RB) + (e & RB) + (f & RB);
      const R = rb & 0x3ff;
      const B = rb >>> 16;
      const G = ag + bg + eg + fg;
      dst[uOff + c] = (-38 * R - 74 * G + 112 * B + C_ADD) >> 10;
      dst[vOff + c] = (112 * R - 94 * G - 18 * B + C_ADD) >> 10;
    }
  }
}
