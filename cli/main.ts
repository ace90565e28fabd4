#!/usr/bin/env node
/** `stream-manager`: Stream Manager from the command line (docs/cli.md). The program is in run.ts. */
import { run } from './run.js';

const code = await run(process.argv.slice(2), {
  env: process.env,
  print: (text) => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
});
// Let stdout drain (it may be a pipe), then exit with the code.
process.stdout.write('', () => process.exit(code));
