import type { ErrorBody } from '../shared/responses.js';

/** The server answered with an error: its HTTP status and the error envelope's code, message and details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** The answer's body as the server sent it (parsed JSON, or its text when it was not JSON). */
  readonly body: unknown;

  /** @param message overrides the envelope's message (a CLI explaining what the error means for its command) */
  constructor(status: number, body: unknown, message?: string) {
    const envelope = (body as Partial<ErrorBody> | null)?.error;
    super(message ?? envelope?.message ?? `HTTP ${status}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = envelope?.code ?? `HTTP_${status}`;
    this.details = envelope?.details;
    this.body = body;
  }
}

/** No answer: the connection was refused, reset, timed out, or the name did not resolve. */
export class ConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** The command line is wrong (an unknown option, a value that cannot be parsed, a missing argument). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Exit codes, one per class of error (docs/cli.md): 0 success; 1 an unexpected failure of the CLI
 * itself; 2 usage or validation (a bad command line, or 400/413/415/422); 3 auth (401, 403);
 * 4 not found (404, 405); 5 conflict or precondition (409, 412); 6 the server failed or is busy
 * (5xx, 429); 7 no connection (refused, reset, timed out, unknown host).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, notFound: 4, conflict: 5, server: 6, connection: 7 } as const;

/** The exit code for an error (see {@link EXIT}). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof ConnectionError) return EXIT.connection;
  if (!(err instanceof ApiError)) return EXIT.failure;
  const s = err.status;
  if (s === 401 || s === 403) return EXIT.auth;
  if (s === 404 || s === 405) return EXIT.notFound;
  if (s === 409 || s === 412) return EXIT.conflict;
  if (s === 429 || s >= 500) return EXIT.server;
  if (s >= 400) return EXIT.usage;
  return EXIT.failure;
}
