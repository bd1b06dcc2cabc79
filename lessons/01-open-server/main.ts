/**
 * Starts lesson 1's server on http://localhost:3001/mcp (`PORT` overrides).
 * Logs go to stderr, so they never mix with anything a tool prints.
 */
import { createServer } from 'node:http';
import { ConfigError, loadConfig, loadDotEnv, type WorkshopConfig } from '../../shared/config.ts';
import { createOutbox } from '../../shared/world/outbox.ts';
import { createApp } from './server.ts';

const config = readConfig();

const outbox = createOutbox({
  onSend: (mail) => console.error(`[outbox] ${mail.id} to ${mail.to}: "${mail.subject}" (${mail.body.length} characters)`),
});

const server = createServer(createApp({ outbox }));

server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    fail(`Port ${config.port} is in use — stop the other lesson (or whatever holds it), or set PORT in .env.`);
  }
  fail(`Could not listen on port ${config.port}: ${error.message}`);
});

server.listen(config.port, 'localhost', () => {
  console.error(`Lesson 1 MCP server listening on ${config.mcpUrl.href} — with no authentication at all.`);
  console.error(`Connect: npx @modelcontextprotocol/inspector  (transport "Streamable HTTP", URL ${config.mcpUrl.href})`);
  console.error('Stop with Ctrl+C. Then check your work: npm run check:1');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: shutting down.`);
    server.close(() => process.exit(0));
    // Open keep-alive connections (an Inspector, say) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function readConfig(): WorkshopConfig {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (error) {
    // A settings mistake deserves one clear line, not a stack trace.
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function fail(message: string): never {
  console.error(`Error: ${message}`);
  process.exit(1);
}
