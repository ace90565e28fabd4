/**
 * Start-up: whether the stream goes live at start, and failures as one clear log line: a port
 * that cannot be bound, checked before anything starts (no pool, no ffmpeg, no recording file
 * for a server that cannot run), and any other error that stops the start, without a stack trace
 * (the stack only at LOG_LEVEL=debug).
 */
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import type { ErrorCode } from '../shared/errors.js';
import type { ServerConfig } from './config/env.js';
import { redactOutput } from './output/encoder.js';
import type { StreamPipeline } from './pipeline.js';

/** A port named by the configuration cannot be bound (in use, or not allowed). */
export class PortUnavailableError extends Error {
  readonly code = 'SM_ERR_PORT_UNAVAILABLE' satisfies ErrorCode;
  /**
   * @param setting the variable that names the port (`PORT`, `WS_PORT`, `METRICS_PORT`)
   * @param reason  the system's code: `EADDRINUSE`, `EACCES` (a port below 1024 without the
   *   right), `EADDRNOTAVAIL` (HOST is not an address of this machine), ...
   */
  constructor(
    readonly setting: string,
    readonly port: number,
    readonly host: string,
    readonly reason: string,
  ) {
    const why: Record<string, string> = {
      EADDRINUSE: 'is already in use: stop the other process or choose another port',
      EACCES: 'may not be bound by this user: choose a port of 1024 or more',
      EADDRNOTAVAIL: `cannot be bound: ${host} is not an address of this machine (HOST)`,
    };
    super(`${setting} ${port} on ${host} ${why[reason] ?? `cannot be bound (${reason})`}`);
    this.name = 'PortUnavailableError';
  }
}

/** Binds `port` on `host` and lets it go at once. @throws PortUnavailableError when it cannot */
function probe(setting: string, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(new PortUnavailableError(setting, port, host, err.code ?? err.message)));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * Checks that every fixed port of `config` (`PORT`, `WS_PORT`, `METRICS_PORT`; 0 picks a free
 * one and is not checked) can be bound on `HOST`, one after the other. Another process may still
 * take one before the server binds it; that failure is reported the same way
 * ({@link describeStartupError}).
 * @throws PortUnavailableError for the first port that cannot be bound
 */
export async function checkPorts(config: Pick<ServerConfig, 'port' | 'wsPort' | 'metricsPort' | 'host'>): Promise<void> {
  const ports: Array<[string, number | null]> = [
    ['PORT', config.port],
    ['WS_PORT', config.wsPort],
    ['METRICS_PORT', config.metricsPort],
  ];
  for (const [setting, port] of ports) if (port) await probe(setting, port, config.host);
}

/**
 * Logs `err`, which stopped the start, as one `fatal` line: its message and code (a bind error
 * from Node names its port and address), the stack only when the level is debug or lower.
 */
export function logStartupFailure(log: Logger, err: unknown): void {
  const e: NodeJS.ErrnoException & { port?: number; address?: string } = err instanceof Error ? err : new Error(String(err));
  const fields: Record<string, unknown> = { code: e.code };
  const bind = !(e instanceof PortUnavailableError) && e.syscall === 'listen';
  if (e instanceof PortUnavailableError) Object.assign(fields, { setting: e.setting, port: e.port, host: e.host, reason: e.reason });
  else if (bind) Object.assign(fields, { port: e.port, host: e.address });
  if (log.isLevelEnabled('debug')) fields['stack'] = e.stack;
  log.fatal(fields, `could not start: ${bind ? `port ${e.port} on ${e.address} cannot be bound (${e.code})` : e.message}`);
}

/**
 * Goes live at start when the stored stream was live (RESUME_ON_START) or, on a first boot (no
 * stored state), with AUTOSTART. A failure is logged and the server starts anyway: the API is up,
 * and `POST /stream/start` retries.
 * @param restored whether a stored state was read
 * @param wasLive whether the stored stream was live when it was stored
 */
export async function goLiveAtStart(
  pipeline: Pick<StreamPipeline, 'start' | 'output'>,
  config: Pick<ServerConfig, 'state' | 'autostart'>,
  restored: boolean,
  wasLive: boolean,
  log: Logger,
): Promise<void> {
  if (!(restored ? config.state.resumeOnStart && wasLive : config.autostart)) return;
  try {
    await pipeline.start();
    log.info({ output: redactOutput(pipeline.output ?? ''), resumed: restored }, 'stream is live');
  } catch (err) {
    log.error({ err }, 'could not go live; the API is up, POST /stream/start to retry');
  }
}
