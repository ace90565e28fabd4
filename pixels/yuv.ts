/**
 * RGBA -> YUV 4:2:0 planar (I420, what ffmpeg calls `yuv420p`) conversion, so that ffmpeg only
 * encodes: it reads 1.5 bytes per pixel instead of 4 and runs no colour conversion of its own.
 *
 * Layout of a `width` x `height` I420 buffer (both even): the Y plane (`width x height` bytes),
 * then U (`width/2 x height/2`), then V (same), rows top to bottom, no padding.
 *
 * Colour: limited ("TV") range, 8 bits (Y 16..235, U/V 16..240), with one of two matrices,
 * from the standards' luma weights Kr, Kb:
 * - BT.601 (Recommendation ITU-R BT.601-7 (03/2011), 2.5.1-2.5.3: Kr = 0.299, Kb = 0.114), the
 *   SD convention, also what ffmpeg's swscale uses by default for rgba -> yuv420p;
 * - BT.709 (Recommendation ITU-R BT.709-6 (06/2015), part 1, section 3 "Signal format":
 *   Kr = 0.2126, Kb = 0.0722, and section 4 "Digital representation"), the HD convention.
 * With R, G, B in 0..255 (both standards' 8-bit quantisation: Y 219 levels from 16, C 224 around 128):
 *   Y  = 16  + 219/255 (Kr R + (1 - Kr - Kb) G + Kb B)
 *   Cb = 128 + 224/255 (B - Y') / (2 (1 - Kb)),   Cr = 128 + 224/255 (R - Y') / (2 (1 - Kr))
 * in 16-bit fixed point (each coefficient x 65536, rounded; the chroma rows' largest term
 * adjusted so that each row sums to 0 and greys stay at exactly 128), rounded to nearest: every
 * value is within half a level of the exact one.
 *   BT.601: Y (16829, 33039, 6416), Cb (-9714, -19071, 28785), Cr (28784, -24103, -4681)
 *   BT.709: Y (11966, 40254, 4064), Cb (-6596, -22189, 28785), Cr (28784, -26145, -2639)
 * Which one a stream uses: {@link resolveMatrix} (height >= {@link HD_MIN_HEIGHT}: BT.709); the
 * encoder tags the stream with the same one ({@link colorTags}), so that players decode with it.
 *
 * Chroma is the mean of each 2x2 block (swscale filters it a little differently; the difference
 * is at most a few levels at hard edges). Input is premultiplied RGBA over an opaque background,
 * so premultiplied equals straight colour.
 */

/** The YCbCr matrix of a stream's I420 (both limited range). */
export type YuvMatrix = 'bt601' | 'bt709';

/** The configured choice (`encoder.colorMatrix`, env `COLOR_MATRIX`): `auto` picks by height. */
export type ColorMatrixSetting = 'auto' | YuvMatrix;

/**
 * Height in pixels from which `auto` means BT.709: 720p and up are HD (ITU-R BT.709 covers the
 * 1280x720 and 1920x1080 systems; BT.601 the 480- and 576-line ones), so anything of 720 lines
 * or more is HD, anything shorter SD. Width does not count (a 1280x536 scope crop stays SD).
 */
export const HD_MIN_HEIGHT = 720;

/** The matrix a stream of `height` pixels uses for `setting`. */
export function resolveMatrix(setting: ColorMatrixSetting, height: number): YuvMatrix {
  if (setting !== 'auto') return setting;
  return height >= HD_MIN_HEIGHT ? 'bt709' : 'bt601';
}

/**
 * The ffmpeg/x264 colour tags (`-colorspace`, `-color_primaries`, `-color_trc`, `-color_range`)
 * that describe I420 made with `matrix`: BT.709 for HD; for SD the SMPTE 170M set (the 525-line
 * BT.601 system, what x264 and players call BT.601 "NTSC"; the 625-line bt470bg uses the same
 * matrix). Range is always `tv` (limited).
 */
export function colorTags(matrix: YuvMatrix): { colorspace: string; primaries: string; trc: string; range: 'tv' } {
  return matrix === 'bt709'
    ? { colorspace: 'bt709', primaries: 'bt709', trc: 'bt709', range: 'tv' }
    : { colorspace: 'smpte170m', primaries: 'smpte170m', trc: 'smpte170m', range: 'tv' };
}

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
/** (16 << 16) + (1 << 15): the Y offset and rounding folded into one constant. */
const Y_ADD = 1081344;
/** (128 << 18) + (1 << 17): the chroma offset and rounding for a sum of 4 pixels (>> 18 = / 4 / 65536). */
const C_ADD = 33685504;

/**
 * Converts `rect` of an RGBA frame into the same place of an I420 frame, with `matrix`'s
 * coefficients (chosen once per call, i.e. per band of a frame; the per-pixel loop is the same
 * either way and allocates nothing).
 * @param src   the frame's pixels, one little-endian word per pixel (`A<<24|B<<16|G<<8|R`)
 * @param width,height frame size in pixels, both even
 * @param dst   the I420 frame, {@link i420Bytes} bytes
 * @param matrix BT.601 (default) or BT.709, limited range
 */
export function rgbaToI420(
  src: Uint32Array,
  width: number,
  height: number,
  rect: BlockRect,
  dst: Uint8Array,
  matrix: YuvMatrix = 'bt601',
): void {
  if (matrix === 'bt709') toI420Bt709(src, width, height, rect, dst);
  else toI420Bt601(src, width, height, rect, dst);
}

/** {@link rgbaToI420} with the BT.601 coefficients as literals (the JIT folds them into the multiplies). */
function toI420Bt601(src: Uint32Array, width: number, height: number, rect: BlockRect, dst: Uint8Array): void {
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
      dst[s0] = (16829 * (a & 255) + 33039 * ag + 6416 * ((a >>> 16) & 255) + Y_ADD) >> 16;
      dst[s0 + 1] = (16829 * (b & 255) + 33039 * bg + 6416 * ((b >>> 16) & 255) + Y_ADD) >> 16;
      dst[s1] = (16829 * (e & 255) + 33039 * eg + 6416 * ((e >>> 16) & 255) + Y_ADD) >> 16;
      dst[s1 + 1] = (16829 * (f & 255) + 33039 * fg + 6416 * ((f >>> 16) & 255) + Y_ADD) >> 16;
      // R and B of the four pixels summed in two 16-bit lanes of one word (4 x 255 fits 10 bits).
      const rb = (a & RB) + (b & RB) + (e & RB) + (f & RB);
      const R = rb & 0x3ff;
      const B = rb >>> 16;
      const G = ag + bg + eg + fg;
      dst[uOff + c] = (-9714 * R - 19071 * G + 28785 * B + C_ADD) >> 18;
      dst[vOff + c] = (28784 * R - 24103 * G - 4681 * B + C_ADD) >> 18;
    }
  }
}

/** {@link rgbaToI420} with the BT.709 coefficients as literals. */
function toI420Bt709(src: Uint32Array, width: number, height: number, rect: BlockRect, dst: Uint8Array): void {
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
      dst[s0] = (11966 * (a & 255) + 40254 * ag + 4064 * ((a >>> 16) & 255) + Y_ADD) >> 16;
      dst[s0 + 1] = (11966 * (b & 255) + 40254 * bg + 4064 * ((b >>> 16) & 255) + Y_ADD) >> 16;
      dst[s1] = (11966 * (e & 255) + 40254 * eg + 4064 * ((e >>> 16) & 255) + Y_ADD) >> 16;
      dst[s1 + 1] = (11966 * (f & 255) + 40254 * fg + 4064 * ((f >>> 16) & 255) + Y_ADD) >> 16;
      // R and B of the four pixels summed in two 16-bit lanes of one word (4 x 255 fits 10 bits).
      const rb = (a & RB) + (b & RB) + (e & RB) + (f & RB);
      const R = rb & 0x3ff;
      const B = rb >>> 16;
      const G = ag + bg + eg + fg;
      dst[uOff + c] = (-6596 * R - 22189 * G + 28785 * B + C_ADD) >> 18;
      dst[vOff + c] = (28784 * R - 26145 * G - 2639 * B + C_ADD) >> 18;
    }
  }
}
