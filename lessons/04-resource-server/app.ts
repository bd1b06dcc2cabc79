/**
 * The HTTP app: an OAuth protected resource (RFC 9728) whose authorization server is Entra ID, with
 * stateless Streamable HTTP at `/mcp`. Every request to `/mcp` must carry an Entra access token for
 * this API, and every tool call must be allowed by that token's scopes or app roles.
 *
 * MCP authorization: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { OAuthMetadataSchema, type OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { createGraphService, type GraphService } from './graph.ts';
import { supportedScopes, toolPermissionGate } from './scopes.ts';
import { createMcpServer } from './tools.ts';
import { createEntraVerifier, SigningKeysUnavailableError } from './verifier.ts';
import { withVerifiedTokenCache } from './verifiedTokens.ts';

/** How long a client should wait before it tries again while the tenant's signing keys are out of reach. */
const KEYS_RETRY_AFTER_SECONDS = 30;

/** Browser origins allowed to call `/mcp`: our own, and MCP Inspector's default. */
const INSPECTOR_ORIGINS = ['http://localhost:6274', 'http://127.0.0.1:6274'];

/**
 * Builds the app. Async because it first reads the tenant's OpenID configuration: the Protected
 * Resource Metadata points clients at that authorization server.
 */
export async function createApp(config: WorkshopConfig): Promise<Express> {
  const oauthMetadata = await fetchAuthorizationServerMetadata(config);
  // Verify each distinct token once, not on every request (see verifiedTokens.ts).
  const verifier = withVerifiedTokenCache(createEntraVerifier(config));
  const graph = createGraphService(config);
  const appIdUri = config.entra.apiAppIdUri;
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(config.mcpUrl);

  // Host check (DNS rebinding) and JSON parsing. The Origin check below is ours: v1 has none.
  const app = createMcpExpressApp({ allowedHosts: allowedHostnames(config) });
  const originCheck = allowedOriginsOnly([config.baseUrl.origin, ...INSPECTOR_ORIGINS]);
  const keysCheck = signingKeysReachable(verifier);

  // TODO 4.1: Serve the Protected Resource Metadata with mcpAuthMetadataRouter({ oauthMetadata,
  // resourceServerUrl, scopesSupported, resourceName }), and create `bearer` with requireBearerAuth({
  // verifier, resourceMetadataUrl, expectedResource }). Put `bearer` right after keysCheck on every
  // /mcp route below (POST, GET and DELETE). See README, step 4.1.
  const gate = toolPermissionGate({ appIdUri, resourceMetadataUrl });

  app.options('/mcp', originCheck);
  app.post('/mcp', originCheck, keysCheck, gate, mcpHandler(graph));
  app.get('/mcp', originCheck, keysCheck, methodNotAllowed);
  app.delete('/mcp', originCheck, keysCheck, methodNotAllowed);
  return app;
}

/**
 * The tenant's OpenID configuration, as RFC 8414 metadata for the PRM router. Checked at start-up,
 * so a wrong tenant or an emulator that is not running is one clear line, not a broken sign-in later.
 */
export async function fetchAuthorizationServerMetadata(config: WorkshopConfig): Promise<OAuthMetadata> {
  const url = config.entra.openIdConfigurationUrl;
  let body: unknown;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    const hint = config.mode === 'offline' ? 'Is the emulator running? npm run lesson:4 starts it, or run npm run emulator.' : 'Check ENTRA_TENANT_ID.';
    throw new Error(`Could not read the OpenID configuration at ${url} (${(error as Error).message}). ${hint}`);
  }
  const metadata = OAuthMetadataSchema.safeParse(body);
  if (!metadata.success) throw new Error(`The OpenID configuration at ${url} is not valid authorization server metadata.`);
  if (metadata.data.issuer !== config.entra.issuer) {
    throw new Error(`The OpenID configuration at ${url} names the issuer ${metadata.data.issuer}, expected ${config.entra.issuer}.`);
  }
  return metadata.data;
}

/** Stateless Streamable HTTP: a fresh server and transport per request; `req.auth` reaches the tools. */
function mcpHandler(graph: GraphService): RequestHandler {
  return async (req: Request, res: Response) => {
    const server = createMcpServer({ graph });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      console.error('MCP request failed:', (error as Error).message);
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'Internal server error'));
    }
  };
}

/**
 * Checks the token once before requireBearerAuth, only to catch the one failure that is not the
 * token's fault: the tenant's signing keys could not be fetched. requireBearerAuth would answer a 401
 * (or a 500), and a client that gets a 401 throws its token away and signs in again, which cannot
 * help. 503 with Retry-After means "temporary: keep your token and try again later" (RFC 9110
 * §15.6.4), while RFC 6750 §3.1 keeps 401 invalid_token for tokens that are expired, revoked,
 * malformed or otherwise invalid. The request is still refused (fail closed). A good token's result
 * is cached (verifiedTokens.ts), so requireBearerAuth's own check right after is a lookup.
 */
function signingKeysReachable(verifier: OAuthTokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token) {
      try {
        await verifier.verifyAccessToken(token);
      } catch (error) {
        if (error instanceof SigningKeysUnavailableError) {
          res.status(503).set('Retry-After', String(KEYS_RETRY_AFTER_SECONDS)).json(jsonRpcError(-32000, error.message));
          return;
        }
      }
    }
    next();
  };
}

/** The Host names clients may use: the configured one, plus loopback for local runs. */
function allowedHostnames(config: WorkshopConfig): string[] {
  return [...new Set([config.baseUrl.hostname, 'localhost', '127.0.0.1', '[::1]'])];
}

/**
 * The transport spec requires servers to refuse an unknown `Origin` with 403 (DNS rebinding, hostile
 * pages). Requests without `Origin` come from non-browser clients and pass. Allowed browser origins
 * get CORS headers, so a browser-based client can read `WWW-Authenticate`.
 */
function allowedOriginsOnly(allowed: string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (!allowed.includes(origin)) {
      res.status(403).json(jsonRpcError(-32000, `Forbidden: the origin ${origin} may not call this server.`));
      return;
    }
    res.set({
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Headers': 'authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id',
      'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
      'Access-Control-Expose-Headers': 'www-authenticate, mcp-session-id, mcp-protocol-version',
      Vary: 'Origin',
    });
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** A stateless server has no stream to open (GET) and no session to end (DELETE). */
function methodNotAllowed(_req: Request, res: Response): void {
  res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed: this stateless server only accepts POST /mcp.'));
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
