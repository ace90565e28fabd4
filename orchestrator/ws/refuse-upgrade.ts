import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { BEARER_CHALLENGE } from '../auth/credentials.js';
import { ERRORS, type ErrorCode } from '../../shared/errors.js';

/**
 * Answers a WebSocket upgrade with an HTTP error before any 101: the status of `code`, the same
 * JSON error body as the REST API, `WWW-Authenticate` on a 401; then closes the socket.
 */
export function refuseUpgrade(socket: Duplex, code: ErrorCode, message: string = ERRORS[code].message): void {
  const { status } = ERRORS[code];
  const body = JSON.stringify({ error: { code, message } });
  const reason = STATUS_CODES[status] ?? 'Error';
  const extra = status === 401 ? `WWW-Authenticate: ${BEARER_CHALLENGE}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    () => socket.destroy(),
  );
}
