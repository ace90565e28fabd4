import type { Router } from '@koa/router';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../../shared/errors.js';
import type { OutputHub } from '../output/output-hub.js';
import { MAX_OFFER_BYTES } from '../webrtc/sdp-offer.js';

/**
 * The request body as UTF-8 text, at most `limit` bytes.
 * @throws AppError SM_ERR_BODY_TOO_LARGE past the limit (the rest is read and dropped)
 */
function readText(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = (): AppError => new AppError('SM_ERR_BODY_TOO_LARGE', `An SDP offer is at most ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    // Read and dropped (within REQUEST_TIMEOUT_MS), so the client gets the 413, not a reset.
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // past the limit: the rest is dropped
      size += chunk.length;
      if (size > limit) reject(tooLarge());
      else parts.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * WHEP (draft-ietf-wish-whep) for the `webrtc` outputs, for any token of at least the viewer
 * role: `POST /whep/:id` with an SDP offer (`Content-Type: application/sdp`) answers 201 with
 * the SDP answer and `Location` of the session; `DELETE /whep/:id/:session` ends it (200).
 * The answer carries every ICE candidate: there is no trickle ICE, so `PATCH` on a session is
 * 405 (the draft allows it), as is any other method there.
 */
export function whepRoutes(router: Router, hub: OutputHub): void {
  router.post('/whep/:id', async (ctx) => {
    const id = ctx.params['id']!;
    // A JSON body was read already by the body parser (and is not SDP: refused before this is called).
    const read = (): Promise<string> => (ctx.request.body === undefined ? readText(ctx.req, MAX_OFFER_BYTES) : Promise.resolve(''));
    const { sessionId, answer } = await hub.openWhep(id, ctx.get('Content-Type') || undefined, read);
    ctx.status = 201;
    ctx.type = 'application/sdp';
    ctx.set('Location', `${ctx.path.replace(/\/$/, '')}/${sessionId}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });
  router.delete('/whep/:id/:session', (ctx) => {
    hub.whep.close(ctx.params['id']!, ctx.params['session']!);
    ctx.status = 200;
    ctx.body = '';
  });
}
