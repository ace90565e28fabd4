import { Command, InvalidArgumentError, Option } from 'commander';
import { WsChannelOrAliasSchema } from '../../shared/ws-messages.js';
import { withCommonOptions, type Ctx } from '../context.js';
import { ApiError, ConnectionError } from '../errors.js';
import { action, type Io } from './action.js';

/** `--channels state,chat`: channel names (or the design documents' aliases). */
function channels(value: string): string[] {
  const list = value.split(',').map((c) => c.trim());
  for (const c of list) {
    if (!WsChannelOrAliasSchema.safeParse(c).success)
      throw new InvalidArgumentError(
        `Unknown channel ${JSON.stringify(c)}: state, layers, chat, preview (or frame, previewFrame, streamState).`,
      );
  }
  return list;
}

/**
 * Streams the WebSocket's messages to stdout, one JSON document per line, until ctrl-c (exit 0),
 * `count` messages, or the server closing (a ConnectionError: exit 7).
 * @throws ApiError when the upgrade is refused (401 without a valid token, 403, 429); ConnectionError without a connection
 */
export async function watch(ctx: Ctx, list: string[], count: number | undefined, signals: NodeJS.EventEmitter = process): Promise<void> {
  const url = ctx.client.url('/stream/ws', { target: list[0]! });
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  // Loaded here: the other commands start faster without it.
  const { WebSocket } = await import('ws');
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: ctx.client.authHeaders(),
      handshakeTimeout: ctx.client.timeoutMs,
      maxPayload: 64 * 1024 * 1024,
    });
    let closing = false;
    let seen = 0;
    const stop = (): void => {
      closing = true;
      signals.off('SIGINT', stop).off('SIGTERM', stop);
      ws.close(1000);
      resolve();
    };
    signals.once('SIGINT', stop).once('SIGTERM', stop);
    const fail = (err: Error): void => {
      signals.off('SIGINT', stop).off('SIGTERM', stop);
      closing = true;
      ws.terminate();
      reject(err);
    };
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d.slice(0, 64 * 1024)));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: the text.
        }
        fail(new ApiError(res.statusCode ?? 0, body));
      });
    });
    ws.on('error', (err) => {
      if (!closing)
        fail(
          new ConnectionError(`cannot reach ${url.origin.replace(/^ws/, 'http')}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, {
            cause: err,
          }),
        );
    });
    ws.on('open', () => {
      if (list.length > 1) ws.send(JSON.stringify({ type: 'subscribe', channels: list.slice(1) }));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary || closing) return;
      ctx.print(data.toString());
      if (count !== undefined && ++seen >= count) stop();
    });
    ws.on('close', (code) => {
      if (!closing) fail(new ConnectionError(`the server closed the connection (${code})`));
    });
  });
}

/** `watch`: the event stream. */
export function watchCommand(io: Io): Command {
  const cmd = withCommonOptions(
    new Command('watch').description('print the WebSocket event stream, one JSON message per line, until ctrl-c'),
  )
    .addOption(
      new Option('--channels <list>', 'channels to watch, comma-separated: state, layers, chat, preview')
        .argParser(channels)
        .default(['state'], 'state'),
    )
    .addOption(
      new Option('--count <n>', 'stop after this many messages').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number, 1 or more.');
        return n;
      }),
    );
  return cmd.action(
    action(io, async (ctx, o: { channels: string[]; count?: number }) => {
      await watch(ctx, o.channels, o.count);
    }),
  );
}
