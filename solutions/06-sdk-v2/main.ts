/**
 * Starts lesson 6's server on http://localhost:3001/mcp (`PORT` overrides).
 * Offline it needs the Entra ID emulator (`npm run lesson:6` starts it); logs go to stderr.
 */
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
const prm = new URL(`/.well-known/oauth-protected-resource${config.mcpUrl.pathname}`, config.mcpUrl);
serve(app, config, [
  `Lesson 6 MCP server (SDK v2, a protected resource) listening on ${config.mcpUrl.href}`,
  `  resource metadata     ${prm.href}`,
  `  authorization server  ${entra.issuer}`,
  `  accepts tokens with   aud = ${entra.apiClientId} (the API's client ID), scopes under ${entra.apiAppIdUri}/`,
  `Connect: npx @modelcontextprotocol/inspector@2.12.0  (streamable-http, URL ${config.mcpUrl.href}; Settings → OAuth Settings: client ID ${entra.mcpClientId}; steps in the README)`,
  'Stop with Ctrl+C. Then check your work: npm run check:6',
]);
