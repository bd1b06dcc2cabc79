/**
 * Start-up plumbing every lesson's main.ts shares: settings that fail in one clear line, and an
 * HTTP server that explains a busy port and shuts down cleanly. Logs go to stderr, never stdout.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { ConfigError, loadConfig, loadDotEnv, type WorkshopConfig } from './config.ts';

/** Prints one line (no stack trace) and exits: for mistakes a learner can fix from the message. */
export function exitWithError(message: string, log: (line: string) => void = console.error): never {
  log(`Error: ${message}`);
  process.exit(1);
}

/**
 * Reads `.env` (default: the one in the working folder) and the environment into typed settings: the one
 * config loader of the lessons and the lab. A missing or malformed setting throws a ConfigError.
 */
export function readConfig(dotEnvFile?: string): WorkshopConfig {
  loadDotEnv(dotEnvFile);
  return loadConfig();
}

/**
 * Reads `.env` and the environment (readConfig). `require` reads the tenant settings this lesson needs right
 * away, so that with a real tenant a missing one is reported at start-up, not at the first request.
 */
export function readSettings(require: (config: WorkshopConfig) => unknown = () => undefined, log?: (line: string) => void): WorkshopConfig {
  try {
    const config = readConfig();
    require(config);
    return config;
  } catch (error) {
    if (error instanceof ConfigError) exitWithError(error.message, log);
    throw error;
  }
}

/** Serves `app` on `config.port` (localhost only), prints `banner` once listening, stops on Ctrl+C. */
export function serve(app: RequestListener, config: WorkshopConfig, banner: string[]): Server {
  const server = createServer(app);
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      exitWithError(`Port ${config.port} is in use — stop the other lesson (or whatever holds it), or set PORT in .env.`);
    }
    exitWithError(`Could not listen on port ${config.port}: ${error.message}`);
  });
  server.listen(config.port, 'localhost', () => banner.forEach((line) => console.error(line)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: shutting down.`);
      server.close(() => process.exit(0));
      // Open keep-alive connections (an Inspector, say) would otherwise hold close() open.
      server.closeAllConnections();
    });
  }
  return server;
}
