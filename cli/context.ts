import { Command, Option } from 'commander';
import { milliseconds } from './args.js';
import { DEFAULT_URL, StreamManagerClient } from './client.js';
import { terminalSafe } from './format.js';

/** What every command runs with: the client, the output mode, and where output goes. */
export interface Ctx {
  client: StreamManagerClient;
  /** `--json`: print the API's answers as JSON (one document per line), nothing else on stdout. */
  json: boolean;
  /** Writes one line (or block) to stdout. */
  print(text: string): void;
}

/** The options every command takes, after its name or before it (`stream-manager --json status`). */
export interface CommonOptions {
  url?: string;
  token?: string;
  json?: boolean;
  output?: 'text' | 'json';
  timeout?: number;
}

/** Adds the common options to `cmd` (`json: false` leaves `--json` out, for a command that uses the name itself). */
export function withCommonOptions(cmd: Command, { json = true } = {}): Command {
  cmd
    .addOption(new Option('--url <url>', `server base URL (env STREAM_MANAGER_URL; default ${DEFAULT_URL})`))
    .addOption(new Option('--token <token>', 'API token (env STREAM_MANAGER_TOKEN)'))
    .addOption(new Option('--timeout <ms>', 'longest wait for an answer, ms (default 10000)').argParser(milliseconds));
  cmd.addOption(new Option('--output <format>', 'text (for people) or json (the same as --json)').choices(['text', 'json']));
  if (json) cmd.addOption(new Option('--json', "machine output: the API's answer as JSON"));
  return cmd;
}

/**
 * The context of a command: the options given after its name win over those given before it
 * (on the program), which win over the environment.
 */
export function contextFor(cmd: Command, env: NodeJS.ProcessEnv, print: (text: string) => void): Ctx {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const opts: CommonOptions = {};
  for (const c of chain) {
    const o = c.opts<CommonOptions & { json?: unknown }>();
    if (o.url !== undefined) opts.url = o.url;
    if (o.token !== undefined) opts.token = o.token;
    if (o.timeout !== undefined) opts.timeout = o.timeout;
    // `patch --json '{...}'` is the patch, not the output mode.
    if (typeof o.json === 'boolean') opts.json = o.json;
    if (o.output !== undefined) opts.json = o.output === 'json';
  }
  const client = new StreamManagerClient({
    url: opts.url ?? env['STREAM_MANAGER_URL'] ?? DEFAULT_URL,
    token: opts.token ?? env['STREAM_MANAGER_TOKEN'],
    timeoutMs: opts.timeout,
  });
  return { client, json: opts.json === true, print };
}

/**
 * Prints an answer: as JSON with `--json` (nothing for an answer without a body), else as `human`
 * makes it, control characters escaped ({@link terminalSafe}).
 */
export function output<T>(ctx: Ctx, value: T, human: (value: T) => string): void {
  if (ctx.json) {
    if (value !== undefined) ctx.print(JSON.stringify(value));
  } else {
    ctx.print(terminalSafe(human(value)));
  }
}
