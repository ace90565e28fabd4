import { InvalidArgumentError, type Command } from 'commander';
import { contextFor, type Ctx } from '../context.js';
import { UsageError } from '../errors.js';

/** Where a command's output goes, and the environment it reads (main.ts gives the real ones; tests may not need to). */
export interface Io {
  env: NodeJS.ProcessEnv;
  print(text: string): void;
}

/**
 * A commander action that builds the command's context (client, output mode) and runs `fn` with
 * the command's arguments and options (commander passes them first, then the options object,
 * then the command). A parser's InvalidArgumentError thrown by the action's own code (commander
 * reports only those of option parsers) becomes a UsageError, reported like the others.
 */
export function action<A extends unknown[]>(io: Io, fn: (ctx: Ctx, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    try {
      await fn(contextFor(cmd, io.env, io.print), ...(args.slice(0, -1) as A));
    } catch (err) {
      throw err instanceof InvalidArgumentError ? new UsageError(err.message) : err;
    }
  };
}
