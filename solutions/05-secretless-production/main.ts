/**
 * Starts lesson 5's server on http://localhost:3001/mcp (`PORT` overrides), with no client secret.
 * Offline it needs the Entra ID emulator (`npm run lesson:5` starts it, and makes the certificate).
 * Logs are JSON lines on stderr. SIGTERM or Ctrl+C shuts down gracefully.
 */
import { ConfigError } from '../../shared/config.ts';
import { exitWithError, readSettings } from '../../shared/startup.ts';
import { createApp } from './app.ts';
import { listen, shutDownGracefully } from './lifecycle.ts';

// With a real tenant, a missing setting, an App ID URI Entra ID would refuse or a missing credential
// setting is one clear line now, not a failure at the first sign-in or tool call.
const config = readSettings(({ entra }) => [entra.apiClientId, entra.mcpClientId, entra.apiAppIdUri, entra.apiCredential]);

// A missing setting, an unusable credential or an unreachable Redis is one clear line, not a stack trace.
const { app, logger, state, close } = await createApp(config).catch((error: Error) =>
  exitWithError(error instanceof ConfigError ? error.message : `The server could not start: ${error.message}`),
);

// Offline, listen on loopback only; in a container, on every interface (the platform's ingress is in front).
const host = config.mode === 'offline' ? 'localhost' : undefined;
const server = await listen(app, config.port, host).catch((error: NodeJS.ErrnoException) =>
  exitWithError(
    error.code === 'EADDRINUSE' ? `Port ${config.port} is in use — stop the other lesson (or whatever holds it), or set PORT in .env.` : `Could not listen on port ${config.port}: ${error.message}`,
  ),
);

const { entra } = config;
const credential = entra.apiCredential.kind === 'certificate' ? `certificate ${entra.apiCredential.certificatePath}` : `managed identity ${entra.apiCredential.managedIdentityClientId}`;
logger.info(
  { mcpUrl: config.mcpUrl.href, authorizationServer: entra.issuer, credential, tokenCache: config.redisUrl ? 'redis' : 'memory' },
  'Lesson 5 MCP server listening (no client secret)',
);
console.error(`Lesson 5 MCP server listening on ${config.mcpUrl.href} — ${credential}, OBO cache in ${config.redisUrl ? 'Redis' : 'memory'}.`);
console.error('Stop with Ctrl+C (a graceful shutdown). Then check your work: npm run check:5');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await shutDownGracefully(server, { state, log: logger });
    await close();
    process.exit(0);
  });
}
