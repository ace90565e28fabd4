/**
 * Fans one MPEG-TS byte stream (the shared encoder's stdout) out to several muxers. Chunks are cut
 * on 188-byte packet boundaries; a muxer that joins mid-stream gets nothing until the next video
 * keyframe, and then the latest PAT and PMT followed by the stream from that keyframe on, so it
 * starts with a decodable picture (ISO/IEC 13818-1: `random_access_indicator` in the adaptation
 * field, which ffmpeg's mpegts muxer sets on keyframes).
 */

/** Bytes per transport stream packet. */
export const TS_PACKET_BYTES = 188;
const SYNC = 0x47;
/** PIDs the shared encoder is told to use (`-mpegts_pmt_start_pid`, `-mpegts_start_pid`, video mapped first). */
export const PMT_PID = 0x1000;
export const VIDEO_PID = 0x100;

/** Where the fan-out writes; `write` must not keep or change the buffer after it returns false or true. */
export interface TsSink {
  write(bytes: Buffer): void;
}

/** PID of the packet at `i`. */
function pid(b: Buffer, i: number): number {
  return ((b[i + 1]! & 0x1f) << 8) | b[i + 2]!;
}

/** True for a video packet that starts a PES with the random access indicator set (a keyframe). */
export function isKeyframePacket(b: Buffer, i: number): boolean {
  if (pid(b, i) !== VIDEO_PID || !(b[i + 1]! & 0x40)) return false;
  const adaptation = (b[i + 3]! >> 4) & 0x2;
  return adaptation !== 0 && b[i + 4]! > 0 && (b[i + 5]! & 0x40) !== 0;
}

export class TsFanout {
  #rest: Buffer | null = null;
  #pat: Buffer | null = null;
  #pmt: Buffer | null = null;
  readonly #sinks = new Map<TsSink, { started: boolean }>();

  /** Adds a sink; it gets bytes from the next keyframe on. */
  add(sink: TsSink): void {
    this.#sinks.set(sink, { started: false });
  }

  remove(sink: TsSink): void {
    this.#sinks.delete(sink);
  }

  get size(): number {
    return this.#sinks.size;
  }

  /** Forgets the partial packet and the tables (a new encoder starts a new stream). */
  reset(): void {
    this.#rest = null;
    this.#pat = null;
    this.#pmt = null;
    for (const s of this.#sinks.values()) s.started = false;
  }

  /** Takes the next chunk of the stream. */
  push(chunk: Buffer): void {
    let data = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = null;
    if (data.length > 0 && data[0] !== SYNC) {
      const at = data.indexOf(SYNC);
      if (at < 0) return;
      data = data.subarray(at);
    }
    const whole = data.length - (data.length % TS_PACKET_BYTES);
    if (whole < data.length) this.#rest = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    const packets = data.subarray(0, whole);

    const waiting: TsSink[] = [];
    for (const [sink, s] of this.#sinks) {
      if (s.started) sink.write(packets);
      else waiting.push(sink);
    }
    for (let i = 0; i < whole; i += TS_PACKET_BYTES) {
      const p = pid(packets, i);
      if (p === 0) this.#pat = Buffer.from(packets.subarray(i, i + TS_PACKET_BYTES));
      else if (p === PMT_PID) this.#pmt = Buffer.from(packets.subarray(i, i + TS_PACKET_BYTES));
      else if (waiting.length > 0 && this.#pat && this.#pmt && isKeyframePacket(packets, i)) {
        const start = Buffer.concat([this.#pat, this.#pmt, packets.subarray(i)]);
        for (const sink of waiting) {
          const s = this.#sinks.get(sink);
          if (!s) continue;
          s.started = true;
          sink.write(start);
        }
        waiting.length = 0;
      }
    }
  }
}
