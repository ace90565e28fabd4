import { pino, type Logger } from 'pino';

/** The root pino logger (JSON lines on stdout); components take `child({ component })`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'stream-manager' } });
}
