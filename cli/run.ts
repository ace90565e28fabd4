/**
 * The `stream-manager` program (docs/cli.md): its commands, built on the typed client (client.ts,
 * calls.ts) and commander; `--json` prints the API's answers as they are; the exit code says which
 * class of error happened (errors.ts `EXIT`).
 */
import { Command, CommanderError } from 'commander';
import { ApiError, EXIT, exitCodeFor } from './errors.js';
import type { Io } from './commands/action.js';
import { layerCommands } from './commands/layers.js';
import { outputCommands } from './commands/outputs.js';
import { showCommands } from './commands/show.js';
import { streamCommands } from './commands/stream.js';
import { watchCommand } from './commands/watch.js';
import { withCommonOptions } from './context.js';
import { terminalSafe } from './format.js';

const EXIT_CODES = `
Exit codes:
  0  success
  1  an unexpected failure of the CLI itself
  2  usage or validation: a bad command line, or the server answered 400, 413, 415 or 422
  3  auth: 401 (no valid token) or 403 (the token's role may not)
  4  not found: 404 or 405
  5  conflict or precondition: 409 or 412
  6  the server failed or is busy: 5xx or 429
  7  no connection: refused, reset, timed out or an unknown host

Environment: STREAM_MANAGER_URL (default http://127.0.0.1:4200), STREAM_MANAGER_TOKEN.`;

/** Whether the command line asks for machine output (`--json`, `--output json`, `--output=json`). */
function jsonOutput(argv: string[]): boolean {
  // `patch --json '{...}'` names a patch, not the output mode.
  return argv.some(
    (a, i) =>
      (a === '--json' && !argv[i + 1]?.trim().startsWith('{')) || a === '--output=json' || (a === '--output' && argv[i + 1] === 'json'),
  );
}

/** The program with every command. */
export function program(io: Io): Command {
  const root = withCommonOptions(new Command('stream-manager'))
    .description('Drive a Stream Manager server: stream control, layers, data, scenes, outputs, chat, events')
    .enablePositionalOptions()
    .showHelpAfterError('(stream-manager --help lists the commands)')
    .addHelpText('after', EXIT_CODES)
    .exitOverride();
  for (const c of [...streamCommands(io), ...layerCommands(io), ...showCommands(io), outputCommands(io), watchCommand(io)])
    root.addCommand(c);
  for (const c of root.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return root;
}

/**
 * Runs the CLI on `argv` (user arguments only) and answers the exit code. Errors go to stderr as
 * one line; with `--json` an error answer's body also goes to stdout, as the API sent it.
 */
export async function run(argv: string[], io: Io & { error(text: string): void }): Promise<number> {
  const cmd = program(io);
  try {
    await cmd.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and exit 0; every other commander error is a usage error, which
      // commander has printed already (actions turn their own into UsageErrors: commands/action.ts).
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    const code = exitCodeFor(err);
    if (err instanceof ApiError) {
      if (jsonOutput(argv) && err.body !== null && typeof err.body === 'object') io.print(JSON.stringify(err.body));
      io.error(terminalSafe(`stream-manager: ${err.status} ${err.code}: ${err.message}`));
    } else if (code === EXIT.failure) {
      io.error(`stream-manager: unexpected error: ${(err as Error).stack ?? String(err)}`);
    } else {
      io.error(terminalSafe(`stream-manager: ${(err as Error).message}`));
    }
    return code;
  }
}
