/**
 * Starts lesson 2's MCP server on stdin/stdout. You do not run it yourself: an MCP client (the
 * lesson's demo, MCP Inspector, VS Code, Claude Desktop) spawns it and talks JSON-RPC over its pipes.
 *
 * stdout carries protocol messages and nothing else; every log line goes to stderr.
 */
import path from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { exitWithError, readSettings } from '../../shared/startup.ts';
import { AuthenticationService } from './authService.ts';
import { createMcpServer } from './server.ts';
import { browserUnavailableReason } from './systemBrowser.ts';

// One stray console.log from any library would corrupt the JSON-RPC stream: send it to stderr too.
console.log = console.error;
console.info = console.error;

const log = (line: string) => process.stderr.write(`[lesson-02] ${line}\n`);

// With a tenant, a missing ENTRA_PUBLIC_CLIENT_ID is one clear line at start-up.
const config = readSettings(({ entra }) => entra.publicClientId, log);
const noBrowser = browserUnavailableReason();
// The emulator's accounts look like login.microsoftonline.com accounts. Kept in one file with a tenant's,
// getAllAccounts() returns both, and a restart could pick one that can never be renewed there.
const cacheFile = config.mode === 'offline' ? 'token-cache.json' : `token-cache.${config.entra.tenantId}.json`;
const cachePath = path.join(config.stateDir, 'lesson-02', cacheFile);

let auth: AuthenticationService;
try {
  auth = new AuthenticationService({
    clientId: config.entra.publicClientId,
    msal: config.entra.msal,
    cachePath,
    deviceCode: noBrowser !== undefined,
    log,
  });
} catch (error) {
  fail(`Could not create the AuthenticationService: ${(error as Error).message}`);
}

const server = createMcpServer({ auth, graphBaseUrl: config.graphBaseUrl });
const transport = new StdioServerTransport();

try {
  await server.connect(transport);
} catch (error) {
  fail(`Could not start the MCP server on stdio: ${(error as Error).message}`);
}

const mode = config.mode === 'offline' ? `offline, signing in at ${config.emulatorUrl.origin}` : `tenant ${config.entra.tenantId}`;
log(`MCP server ready on stdio (${mode}). Token cache: ${cachePath}`);
if (noBrowser) log(`No browser will open (${noBrowser}): sign-ins use a device code, printed here.`);

// The client closes our stdin when it is done with us: that is the signal to exit.
process.stdin.once('close', shutDown);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutDown);

function shutDown(): void {
  void server.close().finally(() => process.exit(0));
}

function fail(message: string): never {
  exitWithError(message, log);
}
