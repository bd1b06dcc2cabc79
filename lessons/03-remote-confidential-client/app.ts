/**
 * Lesson 3: the Express app of a remote MCP server that MCP clients must sign in to.
 *
 *   /mcp                                      stateless Streamable HTTP, only with a valid bearer token
 *   /.well-known/oauth-protected-resource/mcp Protected Resource Metadata (RFC 9728)
 *   /.well-known/oauth-authorization-server   our authorization server's metadata (RFC 8414)
 *   /authorize /token /register /revoke       OAuth for MCP clients (the SDK's mcpAuthRouter)
 *   /consent                                  the user's answer on the consent page
 *   /auth/callback                            where Entra ID sends the browser back
 */
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { EntraBackedProvider } from './provider.ts';
import { SCOPES, type Lifetimes } from './records.ts';
import { createMcpServer } from './tools.ts';

export interface AppOptions {
  config: WorkshopConfig;
  /** Browser origins besides our own that may call us (e.g. MCP Inspector's http://localhost:6274). */
  allowedOrigins?: string[];
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  lifetimes?: Partial<Lifetimes>;
}

export function createApp(options: AppOptions): Express {
  const { config } = options;
  const provider = new EntraBackedProvider({ config, now: options.now, lifetimes: options.lifetimes });

  // Host check against DNS rebinding, and JSON bodies.
  const app = createMcpExpressApp({ allowedHosts: [config.baseUrl.hostname] });
  app.use(checkOrigin([config.baseUrl.origin, ...(options.allowedOrigins ?? [])]));

  // TODO 3.2 (part 1): Make this server the authorization server for MCP clients: mount
  // mcpAuthRouter({ provider, issuerUrl: config.baseUrl, resourceServerUrl: config.mcpUrl,
  // scopesSupported: Object.keys(SCOPES) }) at the root. See README, step 3.2.
  app.post('/consent', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => provider.decideConsent(req, res));
  app.get('/auth/callback', (req, res) => provider.completeSignIn(req, res));

  // TODO 3.2 (part 2): Lock /mcp: app.use('/mcp', requireBearerAuth({ … })) with the provider as the
  // verifier, our scopes, the Protected Resource Metadata URL (getOAuthProtectedResourceMetadataUrl)
  // and config.mcpUrl as the expected resource. See README, step 3.2.
  app.post('/mcp', async (req: Request, res: Response) => {
    const server = createMcpServer({ graphBaseUrl: config.graphBaseUrl, graphTokenFor: (authInfo) => provider.graphTokenFor(authInfo) });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    // The transport hands req.auth (set by requireBearerAuth) to the tools as extra.authInfo.
    await transport.handleRequest(req, res, req.body);
  });
  app.get('/mcp', methodNotAllowed);
  app.delete('/mcp', methodNotAllowed);

  app.use(handleErrors);
  return app;
}

/**
 * Browsers send `Origin` with cross-site requests. The transport spec says to refuse an unknown one
 * with 403, so a web page cannot use a victim's browser to reach this server (DNS rebinding, CSRF).
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
export function checkOrigin(allowed: string[]): RequestHandler {
  const origins = new Set(allowed);
  // TODO 3.1: Answer 403 (with a JSON-RPC error body) when a request carries an Origin header that
  // is not in `origins`; let requests without Origin, or with an allowed one, through. See README, step 3.1.
  return (_req, _res, next) => next();
}

function methodNotAllowed(_req: Request, res: Response): void {
  res.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this stateless server only accepts POST /mcp.' }, id: null });
}

/** The last word on anything that went wrong: a short answer, never a stack trace. */
const handleErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) console.error('[server] request failed:', error);
  if (res.headersSent) return;
  res.status(status).json({ jsonrpc: '2.0', error: { code: status === 500 ? -32603 : -32700, message: status === 500 ? 'Internal server error' : 'Bad request' }, id: null });
};
