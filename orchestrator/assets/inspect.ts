import { GlobalFonts } from '@napi-rs/canvas';
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../../shared/errors.js';
import type { AssetMeta } from '../../shared/state-doc.js';

/** What an accepted upload becomes: the bytes to store and their kind, MIME type and size. */
export interface InspectedAsset {
  bytes: Buffer;
  kind: AssetMeta['kind'];
  mime: string;
  width?: number;
  height?: number;
}

export interface InspectLimits {
  /** Most pixels (width x height) an image may have. */
  limitInputPixels: number;
  /** Accept SVG (rasterised to PNG). */
  allowSvg: boolean;
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
const FONT_TYPES = new Set(['font/ttf', 'font/otf', 'font/woff2']);

/** True when the bytes look like an SVG document (XML text with an `<svg` element up front). */
function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return (head.startsWith('<svg') || head.startsWith('<?xml') || head.startsWith('<!')) && /<svg[\s>]/i.test(head);
}

/** Decodes the whole image once, so a truncated or crafted file fails here, not in a render worker. */
async function checkImage(bytes: Buffer, limit: number): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new AppError('SM_ERR_UNDECODABLE', `The image header could not be read: ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (!width || !height) throw new AppError('SM_ERR_UNDECODABLE', 'The image has no size');
  // Refused from the header alone: a tiny file declaring 50000x50000 costs nothing to turn away.
  if (width * height > limit) {
    throw new AppError('SM_ERR_UNDECODABLE', `The image has ${width}x${height} pixels; at most ${limit} are accepted (LIMIT_INPUT_PIXELS)`);
  }
  try {
    await sharp(bytes, { limitInputPixels: limit, failOn: 'truncated', pages: 1 }).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    throw new AppError('SM_ERR_UNDECODABLE', `The image could not be decoded: ${(err as Error).message}`);
  }
  return { width, height };
}

/** Loads the font into Skia once (then unloads it): what Skia cannot load is refused. */
function checkFont(bytes: Buffer): void {
  const key = GlobalFonts.register(bytes, `sm-check-${Date.now()}`);
  if (!key) throw new AppError('SM_ERR_UNDECODABLE', 'The font could not be loaded');
  GlobalFonts.remove(key);
}

/**
 * Decides what an uploaded file is from its bytes alone (magic bytes via `file-type`; never the
 * name or the declared type) and validates it: PNG, JPEG, WebP and GIF (first frame) images are
 * decoded by sharp within `limitInputPixels`; TTF, OTF and WOFF2 fonts must load in Skia; SVG is
 * refused unless allowed, then rasterised to PNG within the same pixel limit.
 * @throws AppError SM_ERR_UNSUPPORTED_TYPE (415), SM_ERR_UNDECODABLE (422)
 */
export async function inspectUpload(bytes: Buffer, limits: InspectLimits): Promise<InspectedAsset> {
  if (looksLikeSvg(bytes)) {
    if (!limits.allowSvg) throw new AppError('SM_ERR_UNSUPPORTED_TYPE', 'SVG is refused unless ALLOW_SVG=true');
    const size = await checkImage(bytes, limits.limitInputPixels);
    const png = await sharp(bytes, { limitInputPixels: limits.limitInputPixels }).png().toBuffer();
    return { bytes: png, kind: 'image', mime: 'image/png', ...size };
  }
  const type = await fileTypeFromBuffer(bytes);
  if (type && IMAGE_TYPES.has(type.mime)) {
    return { bytes, kind: 'image', mime: type.mime, ...(await checkImage(bytes, limits.limitInputPixels)) };
  }
  if (type && FONT_TYPES.has(type.mime)) {
    checkFont(bytes);
    return { bytes, kind: 'font', mime: type.mime };
  }
  throw new AppError(
    'SM_ERR_UNSUPPORTED_TYPE',
    `Unsupported content${type ? ` (${type.mime})` : ''}: only PNG, JPEG, WebP, GIF, TTF, OTF, WOFF2, MP4, MOV, MKV, WebM, WAV, MP3, AAC, M4A, Ogg and FLAC`,
  );
}
