/**
 * Starts lesson 3's server on http://localhost:3001 (`PORT` overrides): MCP at /mcp, the OAuth
 * endpoints for MCP clients, the consent page, and Entra ID's callback at /auth/callback.
 * Logs go to stderr, and never contain a token.
 */
import { readSettings, serve } from '../../shared/startup.ts';
import { createApp } from './app.ts';

/** MCP Inspector's page, opened at localhost or 127.0.0.1: its browser side fetches our metadata and calls /register and /token. */
const INSPECTOR_ORIGINS = ['http://localhost:6274', 'http://127.0.0.1:6274'];

// With a real tenant, a missing web app setting is one clear line at start-up.
const config = readSettings(({ entra }) => [entra.webClientId, entra.webClientSecret]);

const entra = config.mode === 'offline' ? `the offline emulator at ${config.emulatorUrl.origin}` : `tenant ${config.entra.tenantId}`;
serve(createApp({ config, allowedOrigins: INSPECTOR_ORIGINS }), config, [
  `Lesson 3 MCP server listening on ${config.mcpUrl.href} — sign-in through Entra ID (${entra}).`,
  `Entra ID sends the browser back to ${config.callbackUrl.href}`,
  `Connect: npx @modelcontextprotocol/inspector@2.12.0  (Add Servers → + Add manually, streamable-http, URL ${config.mcpUrl.href}; flip its switch: consent, then sign-in; steps in the README)`,
  'Stop with Ctrl+C. Then check your work: npm run check:3',
]);
