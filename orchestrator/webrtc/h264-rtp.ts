/**
 * H.264 access units as RTP payloads (RFC 6184, packetization-mode 1): each NAL unit that fits
 * goes in one packet (single NAL unit packet, 5.6); a bigger one is cut into FU-A fragments
 * (5.8). Access unit delimiters and filler data are left out: they carry no picture and RTP
 * marks access units by timestamp and marker bit instead.
 */

/** Payload bytes per RTP packet: 1200 keeps packets under common MTUs with SRTP and TURN headers (libwebrtc uses the same). */
export const RTP_PAYLOAD_BYTES = 1200;

/** NAL unit types (ITU-T H.264 table 7-1) and the FU-A payload type (RFC 6184 table 1). */
const NAL_AUD = 9;
const NAL_FILLER = 12;
const FU_A = 28;

/** The NAL units of an Annex-B access unit (start codes and trailing zero bytes removed), as views of it. */
export function nalUnits(au: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  const out: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : au.length;
    // A 4-byte start code and trailing_zero_8bits leave zeros before the next start code.
    while (end > starts[k]! && au[end - 1] === 0) end--;
    if (end > starts[k]!) out.push(au.subarray(starts[k]!, end));
  }
  return out;
}

/**
 * The RTP payloads of one access unit, in order; the last one takes the marker bit.
 * @param maxBytes payload size limit (>= 3)
 */
export function rtpPayloads(au: Buffer, maxBytes = RTP_PAYLOAD_BYTES): Buffer[] {
  const out: Buffer[] = [];
  for (const nal of nalUnits(au)) {
    const type = nal[0]! & 0x1f;
    if (type === NAL_AUD || type === NAL_FILLER) continue;
    if (nal.length <= maxBytes) {
      out.push(nal);
      continue;
    }
    // FU indicator: the NAL's F and NRI bits, type 28; FU header: S, E, the NAL's type.
    const indicator = (nal[0]! & 0xe0) | FU_A;
    const body = nal.subarray(1);
    const chunk = maxBytes - 2;
    for (let at = 0; at < body.length; at += chunk) {
      const part = body.subarray(at, Math.min(body.length, at + chunk));
      const header = (at === 0 ? 0x80 : 0) | (at + part.length >= body.length ? 0x40 : 0) | type;
      out.push(Buffer.concat([Buffer.from([indicator, header]), part]));
    }
  }
  return out;
}
