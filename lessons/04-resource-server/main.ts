/**
 * Starts lesson 4's server on http://localhost:3001/mcp (`PORT` overrides).
 * Offline it needs the Entra ID emulator (`npm run lesson:4` starts it); logs go to stderr.
 */
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { ConfigError } from '../../shared/config.ts';
import { exitWithError, readSettings, serve } from '../../shared/startup.ts';
import { createApp } from './app.ts';

// With a real tenant, a missing setting, or an App ID URI Entra ID would refuse, is one clear line at start-up.
const config = readSettings(({ entra }) => [entra.apiClientId, entra.apiClientSecret, entra.mcpClientId, entra.apiAppIdUri]);

// A missing setting (ConfigError) or an unreachable tenant is one clear line, not a stack trace.
const app = await createApp(config).catch((error: Error) =>
  exitWithError(error instanceof ConfigError ? error.message : `The server could not start: ${error.message}`),
);

const { entra } = config;
serve(app, config, [
  `Lesson 4 MCP server (a protected resource) listening on ${config.mcpUrl.href}`,
  `  resource metadata     ${getOAuthProtectedResourceMetadataUrl(config.mcpUrl)}`,
  `  authorization server  ${entra.issuer}`,
  `  accepts tokens with   aud = ${entra.apiClientId} (the API's client ID), scopes under ${entra.apiAppIdUri}/`,
  `Connect: npx @modelcontextprotocol/inspector@2.12.0  (streamable-http, URL ${config.mcpUrl.href}; Settings → OAuth Settings: client ID ${entra.mcpClientId}; steps in the README)`,
  'Stop with Ctrl+C. Then check your work: npm run check:4',
]);
