import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { scrubSecrets } from '../../shared/outputs.js';

/**
 * The last lines an ffmpeg wrote to stderr, for error reports. Each line is scrubbed of the
 * destination's secrets first (ffmpeg quotes the output URL in its errors), then kept and logged
 * at debug level, so a stream key is never kept or logged.
 */
export class StderrTail {
  readonly #lines: string[] = [];

  /**
   * @param max lines kept
   * @param secrets parts of the output URL to replace with `***` (see `secretsOf`)
   * @param label the debug log message
   */
  constructor(
    stderr: Readable,
    log: Logger,
    private readonly max: number,
    secrets: readonly string[] = [],
    label = 'ffmpeg',
  ) {
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      for (const raw of chunk.split('\n')) {
        if (!raw.trim()) continue;
        const line = scrubSecrets(raw, secrets);
        this.push(line);
        log.debug({ line }, label);
      }
    });
  }

  /** Adds a line of our own (e.g. why we killed the process). */
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.max) this.#lines.shift();
  }

  /** The last `n` lines (all by default), oldest first. */
  last(n = this.max): string[] {
    return this.#lines.slice(-n);
  }
}
