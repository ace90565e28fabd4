import type { IncomingMessage } from 'node:http';

/** Prefix of the WebSocket subprotocol that carries a token: `bearer.<token>`. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'bearer.';
/** The subprotocol the server selects when a client offers it (browsers need one selected). */
export const WS_PROTOCOL = 'stream-manager';

/** `WWW-Authenticate` of a 401 (RFC 6750 section 3). */
export const BEARER_CHALLENGE = 'Bearer realm="stream-manager"';

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1), or null. */
export function bearerToken(authorization: string | undefined): string | null {
  const m = /^Bearer +([^\s]+) *$/i.exec(authorization ?? '');
  return m ? m[1]! : null;
}

/** The offered WebSocket subprotocols (`Sec-WebSocket-Protocol`, comma-separated), trimmed. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header
    ? header
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
    : [];
}

/**
 * The token of a WebSocket upgrade request, looked for in this order: `Authorization: Bearer`
 * (non-browser clients), a `bearer.<token>` subprotocol (browsers cannot set headers; they can
 * offer subprotocols), then `?token=` (last, because URLs end up in logs and histories).
 */
export function upgradeToken(req: IncomingMessage, url: URL): string | null {
  const fromHeader = bearerToken(req.headers.authorization);
  if (fromHeader) return fromHeader;
  const proto = offeredProtocols(req).find((p) => p.startsWith(WS_TOKEN_PROTOCOL_PREFIX));
  if (proto) return proto.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  return url.searchParams.get('token');
}
