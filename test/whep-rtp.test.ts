import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import t from 'tap';
import { dePacketizeRtpPackets, RtpHeader, RtpPacket } from 'werift/nonstandard';
import { nalUnits, rtpPayloads } from '../orchestrator/webrtc/h264-rtp.js';
import { TsVideoDemuxer, type AccessUnit } from '../orchestrator/webrtc/ts-video.js';

/**
 * The WebRTC output's path from the shared encode to RTP, checked against tools that are not
 * ours: ffmpeg makes an MPEG-TS as the shared encode does; our demuxer (fed in random chunks)
 * gives its access units; our packetizer cuts them into RTP payloads (small ones, so big NAL
 * units become FU-A fragments); werift's depacketizer puts them back; ffmpeg decodes the result
 * to the same pictures as the original stream.
 */

const FRAMES = 45;
const GOP = 15;

/** A 320x240 H.264 stream as the shared encode writes it (`low`: explicit PES lengths), or ffmpeg's default. */
function encodeTs(explicitLengths: boolean): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      ...['-frames:v', String(FRAMES), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
      ...['-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0', '-f', 'mpegts', '-mpegts_start_pid', '256'],
      ...(explicitLengths ? ['-omit_video_pes_length', '0'] : []),
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/** Decoded frames' MD5s (ffmpeg's framemd5) of an input on stdin in `format`. */
function frameMd5s(input: Buffer, format: string): string[] {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', format, '-i', 'pipe:0', '-f', 'framemd5', 'pipe:1'], {
    input,
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

/** Demuxes `ts` fed in random chunks of 1-700 bytes. */
function demux(ts: Buffer): AccessUnit[] {
  const aus: AccessUnit[] = [];
  const d = new TsVideoDemuxer(0x100, (au) => aus.push(au));
  for (let at = 0; at < ts.length;) {
    const n = 1 + Math.floor(Math.random() * 700);
    d.push(ts.subarray(at, at + n));
    at += n;
  }
  return aus;
}

t.test('MPEG-TS to access units: every frame, its PTS, keyframes where the GOP puts them', async (t) => {
  const aus = demux(encodeTs(true));
  t.equal(aus.length, FRAMES, 'explicit PES lengths: every frame, the last as soon as it is whole');
  t.same(
    aus.map((a) => a.key),
    Array.from({ length: FRAMES }, (_, i) => i % GOP === 0),
    'keyframes every 15 frames',
  );
  t.ok(
    aus.slice(1).every((a, i) => a.pts90k - aus[i]!.pts90k === 3000),
    'PTS step: 3000 ticks of 90 kHz (30 fps)',
  );
  t.equal(demux(encodeTs(false)).length, FRAMES - 1, 'unbounded PES (ffmpeg default): a frame is whole when the next starts');
  t.same(demux(Buffer.from('not a transport stream at all, not even close'.repeat(20))), [], 'garbage gives nothing');
});

t.test('access units to RTP and back (werift depacketizes), decoded by ffmpeg to the same pictures', async (t) => {
  const ts = encodeTs(true);
  const aus = demux(ts);
  const MAX = 300;
  let seq = 0;
  let fragments = 0;
  const rebuilt: Buffer[] = [];
  for (const au of aus) {
    const payloads = rtpPayloads(au.data, MAX);
    t.ok(
      payloads.every((p) => p.length <= MAX),
      'no payload over the limit',
    );
    fragments += payloads.filter((p) => (p[0]! & 0x1f) === 28).length;
    const packets = payloads.map(
      (p, i) =>
        new RtpPacket(
          new RtpHeader({ payloadType: 96, sequenceNumber: seq++, timestamp: au.pts90k, marker: i === payloads.length - 1 }),
          p,
        ),
    );
    const { data, isKeyframe } = dePacketizeRtpPackets('MPEG4/ISO/AVC', packets);
    t.equal(isKeyframe, au.key);
    rebuilt.push(data);
  }
  t.ok(fragments > 20, `${fragments} FU-A fragments`);
  const kept = aus.map((a) => nalUnits(a.data).filter((n) => (n[0]! & 0x1f) !== 9));
  t.same(
    rebuilt.map((b) => nalUnits(b).map((n) => createHash('md5').update(n).digest('hex'))),
    kept.map((ns) => ns.map((n) => createHash('md5').update(n).digest('hex'))),
    'the same NAL units, access unit delimiters left out',
  );
  const original = frameMd5s(ts, 'mpegts');
  t.equal(original.length, FRAMES);
  t.same(frameMd5s(Buffer.concat(rebuilt), 'h264'), original, 'decoded: the same pictures');
});
