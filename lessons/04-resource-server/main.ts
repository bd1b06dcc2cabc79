/**
 * Starts lesson 4's server on http://localhost:3001/mcp (`PORT` overrides).
 * Offline it needs the Entra ID emulator (`npm run lesson:4` starts it); logs go to stderr.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig, loadDotEnv, type WorkshopConfig } from '../../shared/config.ts';
import { createApp } from './app.ts';

const config = readConfig();

// A missing setting (ConfigError) or an unreachable tenant is one clear line, not a stack trace.
const app = await createApp(config).catch((error: Error) =>
  fail(error instanceof ConfigError ? error.message : `The server could not start: ${error.message}`),
);

const server = createServer(app);

server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    fail(`Port ${config.port} is in use — stop the other lesson (or whatever holds it), or set PORT in .env.`);
  }
  fail(`Could not listen on port ${config.port}: ${error.message}`);
});

server.listen(config.port, 'localhost', () => {
  const { entra } = config;
  const prm = new URL(`/.well-known/oauth-protected-resource${config.mcpUrl.pathname}`, config.mcpUrl);
  console.error(`Lesson 4 MCP server (a protected resource) listening on ${config.mcpUrl.href}`);
  console.error(`  resource metadata     ${prm.href}`);
  console.error(`  authorization server  ${entra.issuer}`);
  console.error(`  accepts tokens with   aud = ${entra.apiClientId} (the API's client ID), scopes under ${entra.apiAppIdUri}/`);
  console.error(`Connect: npx @modelcontextprotocol/inspector  (Streamable HTTP, URL ${config.mcpUrl.href}, client ID ${entra.mcpClientId})`);
  console.error('Stop with Ctrl+C. Then check your work: npm run check:4');
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
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function fail(message: string): never {
  console.error(`Error: ${message}`);
  process.exit(1);
}
