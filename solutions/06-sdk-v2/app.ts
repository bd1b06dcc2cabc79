/**
 * The HTTP app of lesson 4, on the v2 packages: an OAuth protected resource (RFC 9728) whose
 * authorization server is Entra ID. `@modelcontextprotocol/express` brings the Express pieces (the
 * app with its Host and Origin checks, the metadata router, the bearer middleware);
 * `@modelcontextprotocol/server` the MCP server and `createMcpHandler`, which answers both the
 * 2025 protocol and the 2026-07-28 one; `@modelcontextprotocol/node` adapts it to Node's `req`/`res`.
 *
 * MCP authorization: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
import cors from 'cors';
import type { Express, RequestHandler } from 'express';
import { createMcpExpressApp, getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter, requireBearerAuth } from '@modelcontextprotocol/express';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type OAuthMetadata, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { OAuthMetadataSchema } from '@modelcontextprotocol/core';
import type { WorkshopConfig } from '../../shared/config.ts';
import { createGraphService } from './graph.ts';
import { supportedScopes } from './scopes.ts';
import { createMcpServer } from './tools.ts';
import { createEntraVerifier, SigningKeysUnavailableError } from './verifier.ts';
import { withVerifiedTokenCache } from './verifiedTokens.ts';

/** How long a client should wait before it tries again while the tenant's signing keys are out of reach. */
const KEYS_RETRY_AFTER_SECONDS = 30;

/** Browser-based clients that may read our answers (CORS): MCP Inspector's default address. */
const INSPECTOR_ORIGINS = ['http://localhost:6274', 'http://127.0.0.1:6274'];

/**
 * Builds the app. Async because it first reads the tenant's OpenID configuration: the Protected
 * Resource Metadata points clients at that authorization server.
 */
export async function createApp(config: WorkshopConfig): Promise<Express> {
  const oauthMetadata = await fetchAuthorizationServerMetadata(config);
  const verifier = withVerifiedTokenCache(createEntraVerifier(config));
  const graph = createGraphService(config);
  const appIdUri = config.entra.apiAppIdUri;
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(config.mcpUrl);

  // v2 checks Host (DNS rebinding) and, new in v2, Origin: a browser request from a page whose host
  // is not in the list gets 403 (the transport spec's rule). Both lists hold host names, any port.
  const hostnames = allowedHostnames(config);
  const app = createMcpExpressApp({ host: config.baseUrl.hostname, allowedHosts: hostnames, allowedOrigins: hostnames });
  // CORS is still ours: only these exact origins may read answers, WWW-Authenticate included.
  const browserClients = cors({
    origin: [config.baseUrl.origin, ...INSPECTOR_ORIGINS],
    methods: ['GET', 'POST', 'DELETE'],
    exposedHeaders: ['WWW-Authenticate', 'Mcp-Session-Id', 'Mcp-Protocol-Version', 'Retry-After'],
  });
  const keysCheck = signingKeysReachable(verifier);

  // RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp; `resource` is the App ID URI.
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata,
      resourceServerUrl: config.mcpUrl,
      scopesSupported: supportedScopes(appIdUri),
      resourceName: 'Contoso CRM (workshop lesson 6)',
    }),
  );
  // Every /mcp request needs a valid token; a 401 points at the metadata (RFC 9728 §5.1). The URL is
  // also stamped on the AuthInfo, so the tools' scope challenges carry it too.
  const bearer = requireBearerAuth({ verifier, resourceMetadataUrl, expectedResource: config.mcpUrl });

  // One factory serves both protocol eras, one fresh server per request (stateless, as in lesson 4).
  // GET and DELETE, which only a session would need, get 405 from the handler.
  const mcp = toNodeHandler(
    createMcpHandler(() => createMcpServer({ graph, appIdUri }), {
      onerror: (error) => console.error('MCP request failed:', error.message),
    }),
  );

  app.options('/mcp', browserClients);
  // express.json() already read the body: hand it over, or the handler would wait for it again.
  app.all('/mcp', browserClients, keysCheck, bearer, (req, res) => mcp(req, res, req.body));
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
    const hint = config.mode === 'offline' ? 'Is the emulator running? npm run lesson:6 starts it, or run npm run emulator.' : 'Check ENTRA_TENANT_ID.';
    throw new Error(`Could not read the OpenID configuration at ${url} (${(error as Error).message}). ${hint}`);
  }
  const metadata = OAuthMetadataSchema.safeParse(body);
  if (!metadata.success) throw new Error(`The OpenID configuration at ${url} is not valid authorization server metadata.`);
  if (metadata.data.issuer !== config.entra.issuer) {
    throw new Error(`The OpenID configuration at ${url} names the issuer ${metadata.data.issuer}, expected ${config.entra.issuer}.`);
  }
  return metadata.data;
}

/**
 * Lesson 4's keysCheck, unchanged: checks the token once before requireBearerAuth, only to catch the
 * one failure that is not the token's fault. requireBearerAuth would answer 401 (v2 has no code that
 * gives 503), and a client that gets a 401 throws its token away and signs in again, which cannot
 * help. 503 with Retry-After means "keep your token and try again later" (RFC 9110 §15.6.4). A good
 * token's result is cached (verifiedTokens.ts), so requireBearerAuth's own check right after is a lookup.
 */
function signingKeysReachable(verifier: OAuthTokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token) {
      try {
        await verifier.verifyAccessToken(token);
      } catch (error) {
        if (error instanceof SigningKeysUnavailableError) {
          res.status(503).set('Retry-After', String(KEYS_RETRY_AFTER_SECONDS)).json({ jsonrpc: '2.0', error: { code: -32000, message: error.message }, id: null });
          return;
        }
      }
    }
    next();
  };
}

/** The Host (and Origin) names clients may use: the configured one, plus loopback for local runs. */
function allowedHostnames(config: WorkshopConfig): string[] {
  return [...new Set([config.baseUrl.hostname, 'localhost', '127.0.0.1', '[::1]'])];
}
