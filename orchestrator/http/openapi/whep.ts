import { z } from 'zod';
import type { RouteGroup } from './route-doc.js';

/** An output id in a path. */
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** The routes of http/whep-routes.ts: WHEP sessions of `webrtc` outputs (docs/latency.md#whep). */
export const whepGroup: RouteGroup = {
  tag: 'webrtc',
  description:
    'WHEP (draft-ietf-wish-whep): browsers watch a `webrtc` output over WebRTC. Any role from viewer; no trickle ICE (`PATCH` on a session is 405)',
  routes: [
    {
      method: 'post',
      path: '/stream/whep/{id}',
      operationId: 'openWhepSession',
      summary: "Watch a `webrtc` output: an SDP offer in, the SDP answer out, the session's URL in `Location`",
      description:
        'The offer (at most 64 KB) must receive H.264 in packetization mode 1. The answer carries every ICE candidate; `Location: /stream/whep/{id}/{session}` is the session to `DELETE`. Viewers of all `webrtc` outputs together are capped by `WEBRTC_MAX_VIEWERS`.',
      params: z.object({ id: Id }),
      body: { media: { 'application/sdp': 'text' }, description: 'An SDP offer (RFC 8866) with ICE credentials and a DTLS fingerprint' },
      ok: { media: { 'application/sdp': 'text' } },
      status: 201,
      okDescription: 'The SDP answer; `Location` names the session',
      errors: [
        'SM_ERR_WHEP_NOT_SDP',
        'SM_ERR_WHEP_CODEC',
        'SM_ERR_OUTPUT_NOT_FOUND',
        'SM_ERR_WHEP_OUTPUT_STOPPED',
        'SM_ERR_BODY_TOO_LARGE',
        'SM_ERR_WHEP_FULL',
      ],
    },
    {
      method: 'delete',
      path: '/stream/whep/{id}/{session}',
      operationId: 'closeWhepSession',
      summary: 'End a WHEP session (the `Location` of its POST)',
      params: z.object({ id: Id, session: z.string() }),
      ok: null,
      status: 200,
      okDescription: 'The session is closed',
      errors: ['SM_ERR_WHEP_NO_SESSION'],
    },
  ],
};
