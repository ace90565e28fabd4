import { pino, type Logger } from 'pino';
import { scrubUrl } from './redact-url.js';

/**
 * The root pino logger: JSON lines on stdout, or human-readable through pino-pretty when `pretty`
 * (LOG_PRETTY=1). Components take `child({ component })`: http, pool, encoder, ws, state, render.
 * Any `url` field (requests, WebSocket upgrades) has its `?token=` values scrubbed ({@link scrubUrl}),
 * in this logger and all its children.
 */
export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    base: { service: 'stream-manager' },
    serializers: { url: scrubUrl },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
