/**
 * The video of an MPEG-TS stream (ISO/IEC 13818-1) as H.264 access units: TS packets of one PID
 * are gathered into PES packets, each of which ffmpeg's mpegts muxer fills with one access unit
 * (Annex-B byte stream: start codes, an AUD, SPS/PPS before keyframes, the slices).
 */

/** Bytes per TS packet, and its sync byte. */
const TS_PACKET = 188;
const SYNC = 0x47;
/** PES header bytes before the optional fields: start code (3), stream id, length (2), flags (2), header length. */
const PES_FIXED = 9;
/** The largest PES we gather, bytes: an access unit past this is dropped (a 4K keyframe at a high bitrate fits). */
const MAX_PES_BYTES = 8 * 1024 * 1024;

/** One access unit: its Annex-B bytes, its presentation time (90 kHz, 33 bits) and whether it holds an IDR slice. */
export interface AccessUnit {
  data: Buffer;
  pts90k: number;
  key: boolean;
}

/** The PTS of a PES header whose optional fields start at `b[i]` (ISO/IEC 13818-1 2.4.3.7), 90 kHz. */
function readPts(b: Buffer, i: number): number {
  return ((b[i]! >> 1) & 0x07) * 2 ** 30 + ((b[i + 1]! << 7) | (b[i + 2]! >> 1)) * 2 ** 15 + ((b[i + 3]! << 7) | (b[i + 4]! >> 1));
}

/** True when the Annex-B access unit holds an IDR slice (NAL type 5). */
export function hasIdr(au: Buffer): boolean {
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && (au[i + 3]! & 0x1f) === 5) return true;
  }
  return false;
}

/**
 * Reassembles the access units of PID `pid` from TS bytes in any chunking. A PES whose header
 * gives its length is emitted at its last byte (what `-omit_video_pes_length 0` gives); one of
 * unbounded length (the default for video) when the next one starts. Packets of other PIDs,
 * scrambled or payload-less packets and PES of another kind are skipped; a lost packet spoils
 * only the access unit it belonged to.
 */
export class TsVideoDemuxer {
  readonly #pid: number;
  readonly #onAccessUnit: (au: AccessUnit) => void;
  #rest: Buffer | null = null;
  #parts: Buffer[] = [];
  #size = 0;
  /** Payload bytes the current PES still needs (Infinity: unbounded), its PTS, and whether one is open. */
  #left = 0;
  #pts: number | null = null;
  #open = false;

  constructor(pid: number, onAccessUnit: (au: AccessUnit) => void) {
    this.#pid = pid;
    this.#onAccessUnit = onAccessUnit;
  }

  /** Forgets a partial packet and PES (a new stream follows). */
  reset(): void {
    this.#rest = null;
    this.#close(false);
  }

  /** Takes the next bytes of the stream. */
  push(chunk: Buffer): void {
    const data = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = null;
    let i = 0;
    while (i + TS_PACKET <= data.length) {
      if (data[i] !== SYNC) {
        // Out of step: find the next sync byte.
        const at = data.indexOf(SYNC, i + 1);
        if (at < 0) {
          i = data.length;
          break;
        }
        i = at;
        continue;
      }
      this.#packet(data, i);
      i += TS_PACKET;
    }
    if (i < data.length) this.#rest = Buffer.from(data.subarray(i));
  }

  #packet(b: Buffer, i: number): void {
    const pid = ((b[i + 1]! & 0x1f) << 8) | b[i + 2]!;
    if (pid !== this.#pid || (b[i + 3]! & 0xc0) !== 0) return;
    const start = (b[i + 1]! & 0x40) !== 0;
    const control = (b[i + 3]! >> 4) & 0x3;
    let p = i + 4;
    if (control & 0x2) p += 1 + b[i + 4]!;
    if (!(control & 0x1) || p >= i + TS_PACKET) return;
    let payload = b.subarray(p, i + TS_PACKET);
    if (start) {
      this.#close(true);
      if (payload.length < PES_FIXED || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return;
      const length = (payload[4]! << 8) | payload[5]!;
      const headerLength = payload[8]!;
      const hasPts = (payload[7]! & 0x80) !== 0;
      if (PES_FIXED + headerLength > payload.length || (hasPts && headerLength < 5)) return;
      this.#pts = hasPts ? readPts(payload, PES_FIXED) : null;
      this.#left = length === 0 ? Infinity : length - 3 - headerLength;
      this.#open = true;
      payload = payload.subarray(PES_FIXED + headerLength);
    }
    if (!this.#open) return;
    if (payload.length > this.#left) payload = payload.subarray(0, this.#left);
    this.#parts.push(Buffer.from(payload));
    this.#size += payload.length;
    this.#left -= payload.length;
    if (this.#size > MAX_PES_BYTES) this.#close(false);
    else if (this.#left <= 0) this.#close(true);
  }

  /** Ends the open PES, emitting it when `emit` and it holds something. */
  #close(emit: boolean): void {
    if (emit && this.#open && this.#size > 0 && this.#pts !== null) {
      const data = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size);
      this.#onAccessUnit({ data, pts90k: this.#pts, key: hasIdr(data) });
    }
    this.#parts = [];
    this.#size = 0;
    this.#open = false;
    this.#pts = null;
  }
}
