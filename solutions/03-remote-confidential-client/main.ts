/**
 * Starts lesson 3's server on http://localhost:3001 (`PORT` overrides): MCP at /mcp, the OAuth
 * endpoints for MCP clients, the consent page, and Entra ID's callback at /auth/callback.
 * Logs go to stderr, and never contain a token.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig, loadDotEnv, type WorkshopConfig } from '../../shared/config.ts';
import { createApp } from './app.ts';

/** MCP Inspector's page: its browser side fetches our metadata and calls /register and /token. */
const INSPECTOR_ORIGIN = 'http://localhost:6274';

const config = readConfig();
const server = createServer(createApp({ config, allowedOrigins: [INSPECTOR_ORIGIN] }));

server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    fail(`Port ${config.port} is in use — stop the other lesson (or whatever holds it), or set PORT in .env.`);
  }
  fail(`Could not listen on port ${config.port}: ${error.message}`);
});

server.listen(config.port, 'localhost', () => {
  const entra = config.mode === 'offline' ? `the offline emulator at ${config.emulatorUrl.origin}` : `tenant ${config.entra.tenantId}`;
  console.error(`Lesson 3 MCP server listening on ${config.mcpUrl.href} — sign-in through Entra ID (${entra}).`);
  console.error(`Entra ID sends the browser back to ${config.callbackUrl.href}`);
  console.error(`Connect: npx @modelcontextprotocol/inspector  (transport "Streamable HTTP", URL ${config.mcpUrl.href}, Connect: it walks you through consent and sign-in)`);
  console.error('Stop with Ctrl+C. Then check your work: npm run check:3');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: shutting down.`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

function readConfig(): WorkshopConfig {
  try {
    loadDotEnv();
    const loaded = loadConfig();
    // Read the lesson's tenant settings now, so a missing one is one clear line at start-up.
    void loaded.entra.webClientId;
    void loaded.entra.webClientSecret;
    return loaded;
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function fail(message: string): never {
  console.error(`Error: ${message}`);
  process.exit(1);
}
