import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import { scrubUrl } from './redact-url.js';

/** True when pino-pretty can be loaded (a runtime dependency; an install may still lack it). */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * The root pino logger: JSON lines on stdout, or human-readable through pino-pretty when `pretty`
 * (LOG_PRETTY=1). Without pino-pretty installed, `pretty` falls back to JSON lines with one
 * warning (never a crash). Components take `child({ component })`: http, pool, encoder, ws,
 * state, render.
 * Any `url` field (requests, WebSocket upgrades) has its `?token=` values scrubbed ({@link scrubUrl}),
 * in this logger and all its children.
 */
export function createLogger(level: string, pretty = false): Logger {
  const usePretty = pretty && prettyInstalled();
  const log = pino({
    level,
    base: { service: 'stream-manager' },
    serializers: { url: scrubUrl },
    ...(usePretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
  if (pretty && !usePretty) log.warn('LOG_PRETTY=1 but pino-pretty is not installed here; logging JSON lines (npm ci installs it)');
  return log;
}
