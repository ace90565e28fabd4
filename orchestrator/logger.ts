import { pino, type Logger } from 'pino';

/**
 * The root pino logger: JSON lines on stdout, or human-readable through pino-pretty when `pretty`
 * (LOG_PRETTY=1). Components take `child({ component })`: http, pool, encoder, ws, state, render.
 */
export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    base: { service: 'stream-manager' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
