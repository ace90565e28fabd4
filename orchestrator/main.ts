/**
 * Entry point: `node dist/orchestrator/main.js`. Reads `.env` (ENV_FILE) for what the environment
 * does not set, then the config from the environment (exit 1 with the reasons when invalid; a
 * port that cannot be bound, a folder that cannot be written or another start-up failure: one
 * `could not start` line, exit 1), starts the server (which goes live on a first boot unless
 * AUTOSTART=false, or resumes a stream that was live), and shuts down cleanly on SIGINT/SIGTERM
 * (the recording gets its trailer, the state is flushed).
 */
import { ConfigError, loadConfig } from './config/env.js';
import { loadEnvFile, type EnvFileResult } from './config/dotenv.js';
import { checkWritableDirs } from './config/writable-dirs.js';
import { startApp } from './app.js';
import { createLogger } from './logger.js';
import { checkPorts, logStartupFailure } from './startup.js';

// .env first: it may set LOG_LEVEL. Variables already in the environment are never overridden.
let envFile: EnvFileResult | null = null;
let envFileError: unknown = null;
try {
  envFile = loadEnvFile();
} catch (err) {
  envFileError = err;
}
const bootLog = createLogger(process.env['LOG_LEVEL'] ?? 'info');
if (envFileError) {
  logStartupFailure(bootLog, envFileError);
  process.exit(1);
}
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    bootLog.fatal({ issues: err.issues }, err.message);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config.logLevel, config.logPretty);
if (envFile)
  log.info({ file: envFile.path, variables: envFile.names }, 'read the env file (variables already in the environment are kept)');
// A port in use, a folder that cannot be written (or any other start-up failure): one line, exit
// 1. Both are checked before anything starts, so a server that cannot run starts no encoder and
// writes no recording.
let app;
try {
  await checkPorts(config);
  checkWritableDirs(config);
  app = await startApp(config, log);
} catch (err) {
  logStartupFailure(log, err);
  process.exit(1);
}

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 15_000);
    app.close().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
