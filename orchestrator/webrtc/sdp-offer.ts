import { AppError } from '../../shared/errors.js';

/** The largest SDP offer read, bytes (a browser's offer is 3-10 KB). */
export const MAX_OFFER_BYTES = 64 * 1024;

/** Media sections an offer may have: a WHEP player offers one video (and maybe one audio); each costs a transceiver. */
const MAX_MEDIA_SECTIONS = 4;

/** An SDP line: one letter, `=`, a value (RFC 8866 section 5). */
const SDP_LINE = /^[a-z]=[^\r\n]*$/;

/**
 * Checks a WHEP POST before any WebRTC state is made for it: the media type is `application/sdp`
 * (draft-ietf-wish-whep section 4.2), the body is an SDP session description (RFC 8866: `v=0`
 * first, `type=value` lines, an origin, a session name and media), with ICE credentials and a
 * DTLS fingerprint (RFC 8829: what a WebRTC offer always has), at most 4 media sections, and a video section that may
 * receive H.264 in packetization mode 1 (RFC 6184), the only stream this server sends.
 * @param contentType the request's `Content-Type` header, or undefined
 * @throws AppError SM_ERR_WHEP_NOT_SDP when it is not such an offer; SM_ERR_WHEP_CODEC when
 *   no video section receives H.264 packetization mode 1
 */
export function checkOffer(contentType: string | undefined, body: string): void {
  checkOfferType(contentType);
  const lines = body.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw new AppError('SM_ERR_WHEP_NOT_SDP', 'An SDP offer starts with the line "v=0"');
  const bad = lines.findIndex((l) => !SDP_LINE.test(l));
  if (bad >= 0) throw new AppError('SM_ERR_WHEP_NOT_SDP', `Line ${bad + 1} of the offer is not an SDP "x=value" line`);
  for (const [prefix, what] of [
    ['o=', 'an origin (o=)'],
    ['s=', 'a session name (s=)'],
    ['m=', 'a media section (m=)'],
    ['a=ice-ufrag:', 'ICE credentials (a=ice-ufrag)'],
    ['a=ice-pwd:', 'ICE credentials (a=ice-pwd)'],
    ['a=fingerprint:', 'a DTLS fingerprint (a=fingerprint)'],
  ] as const) {
    if (!lines.some((l) => l.startsWith(prefix))) throw new AppError('SM_ERR_WHEP_NOT_SDP', `The offer has no ${what}`);
  }
  const media = sections(lines);
  if (media.length > MAX_MEDIA_SECTIONS)
    throw new AppError(
      'SM_ERR_WHEP_NOT_SDP',
      `The offer has ${media.length} media sections; a WHEP offer has at most ${MAX_MEDIA_SECTIONS}`,
    );
  if (!media.some(receivesH264)) throw new AppError('SM_ERR_WHEP_CODEC');
}

/**
 * Checks the media type of a WHEP offer before its body is read.
 * @throws AppError SM_ERR_WHEP_NOT_SDP unless it is `application/sdp` (parameters ignored)
 */
export function checkOfferType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/sdp') {
    throw new AppError(
      'SM_ERR_WHEP_NOT_SDP',
      `Content-Type must be application/sdp (got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'})`,
    );
  }
}

/** The media sections of an SDP: each `m=` line and the lines up to the next. */
function sections(lines: string[]): string[][] {
  const out: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) out.push([l]);
    else out.at(-1)?.push(l);
  }
  return out;
}

/** A video section, not send-only or inactive, with an H.264/90000 payload type in packetization mode 1. */
function receivesH264(section: string[]): boolean {
  if (!/^m=video \d+ [A-Z/]+ [\d ]+$/.test(section[0]!)) return false;
  if (section.some((l) => l === 'a=sendonly' || l === 'a=inactive')) return false;
  const h264 = new Set(section.flatMap((l) => /^a=rtpmap:(\d+) H264\/90000$/i.exec(l)?.[1] ?? []));
  return section.some((l) => {
    const m = /^a=fmtp:(\d+) (.*)$/.exec(l);
    return m !== null && h264.has(m[1]!) && /(^|;)\s*packetization-mode=1\s*(;|$)/.test(m[2]!);
  });
}
