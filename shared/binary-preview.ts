import { PREVIEW_QUALITIES, type PreviewQuality } from './ws-messages.js';

/**
 * Binary preview frames (`?format=binary`): one WebSocket binary message per frame, a 16-byte
 * little-endian header, then the JPEG bytes.
 *
 *   offset 0  u8   version (1)
 *   offset 1  u8   quality (0 low, 1 medium, 2 high)
 *   offset 2  u16  reserved (0)
 *   offset 4  u32  frame number
 *   offset 8  f64  timestamp, ms since the Unix epoch
 *   offset 16 ...  JPEG
 */
export const BINARY_PREVIEW = { headerBytes: 16, version: 1 } as const;

/** Builds the 16-byte header of a binary preview frame. */
export function binaryPreviewHeader(quality: PreviewQuality, frame: number, timestamp: number): Buffer {
  const h = Buffer.alloc(BINARY_PREVIEW.headerBytes);
  h.writeUInt8(BINARY_PREVIEW.version, 0);
  h.writeUInt8(PREVIEW_QUALITIES.indexOf(quality), 1);
  h.writeUInt32LE(frame >>> 0, 4);
  h.writeDoubleLE(timestamp, 8);
  return h;
}

/** Reads a binary preview frame. @throws Error for a wrong version or a short message */
export function parseBinaryPreview(msg: Buffer): { quality: PreviewQuality; frame: number; timestamp: number; jpeg: Buffer } {
  if (msg.length < BINARY_PREVIEW.headerBytes || msg.readUInt8(0) !== BINARY_PREVIEW.version) throw new Error('not a binary preview frame');
  return {
    quality: PREVIEW_QUALITIES[msg.readUInt8(1)] ?? 'medium',
    frame: msg.readUInt32LE(4),
    timestamp: msg.readDoubleLE(8),
    jpeg: msg.subarray(BINARY_PREVIEW.headerBytes),
  };
}
