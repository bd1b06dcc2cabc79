/**
 * Lesson 4's protected resource, ready for production: no client secret (credentials.ts), an OBO
 * token cache replicas share (tokenCache.ts), redacted logs (logging.ts), audit lines and admin-only
 * tools (scopes.ts), and the HTTP hygiene below: security headers, size limits, rate limits on
 * anonymous and failing requests, and health endpoints that say nothing about the server.
 *
 * MCP authorization: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { OAuthMetadataSchema, type OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { createClientCredential, type ClientCredential } from './credentials.ts';
import { createGraphService, type GraphService } from './graph.ts';
import { createLogger, requestLogger } from './logging.ts';
import { supportedScopes, toolPermissionGate, type AuditEntry } from './scopes.ts';
import { createTokenStore, type TokenStore } from './tokenCache.ts';
import { createMcpServer } from './tools.ts';
import { createEntraVerifier, SigningKeysUnavailableError } from './verifier.ts';
import { withVerifiedTokenCache } from './verifiedTokens.ts';

/** How long a client should wait before it tries again while the tenant's signing keys are out of reach. */
const KEYS_RETRY_AFTER_SECONDS = 30;

/** Browser origins allowed to call `/mcp`: our own, and MCP Inspector's default. */
const INSPECTOR_ORIGINS = ['http://localhost:6274', 'http://127.0.0.1:6274'];

/** The largest JSON body `/mcp` reads. A tool call is a few kilobytes; more is a mistake or an attack. */
export const BODY_LIMIT = '64kb';

export interface RateLimitOptions {
  /** The window, in milliseconds. */
  windowMs: number;
  /** Failed or anonymous requests one client address may make per window. */
  limit: number;
}

/** 30 refused requests per minute per client address: plenty for a client that signs in again. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowMs: 60_000, limit: 30 };

export interface AppOptions {
  /** Where logs go; default: JSON lines on stderr. */
  logger?: Logger;
  /** The API's credential; default: the one ENTRA_API_CREDENTIAL names. */
  credential?: ClientCredential;
  /** The OBO token cache; default: Redis when REDIS_URL is set, else memory. */
  tokenStore?: TokenStore;
  rateLimit?: RateLimitOptions;
}

/** The app and what the process around it needs to run and stop it. */
export interface ProductionApp {
  app: Express;
  logger: Logger;
  /** Readiness: false once shutdown has begun, so the load balancer sends no new requests. */
  state: { ready: boolean };
  /** Releases what the app holds (the Redis connection). */
  close(): Promise<void>;
}

/**
 * Builds the app. Async because it reads the tenant's OpenID configuration and connects to Redis
 * first: a wrong tenant, an unusable credential or an unreachable Redis is one clear line at start-up.
 */
export async function createApp(config: WorkshopConfig, options: AppOptions = {}): Promise<ProductionApp> {
  const logger = options.logger ?? createLogger();
  const credential = options.credential ?? createClientCredential(config.entra.apiCredential);
  const oauthMetadata = await fetchAuthorizationServerMetadata(config);
  const tokenStore = options.tokenStore ?? (await createTokenStore(config.redisUrl, logger));
  const verifier = withVerifiedTokenCache(createEntraVerifier(config));
  const graph = createGraphService(config, { credential, tokenStore, log: logger });
  const appIdUri = config.entra.apiAppIdUri;
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(config.mcpUrl);
  const state = { ready: true };
  const auditLog = logger.child({ log: 'audit' });
  const audit = (entry: AuditEntry) => auditLog.info(entry, 'tool call');

  const app = express();
  // Host check first (DNS rebinding): a request for a foreign host is refused before anything else.
  app.use(hostHeaderValidation(allowedHostnames(config)));
  app.use(requestLogger(logger));
  // TODO 5.5: Security headers for every response (helmet()). See README, step 5.5.

  // TODO 5.7: GET /healthz answers {"status":"ok"}; GET /readyz answers {"status":"ready"} with 200, or
  // 503 once state.ready is false. Nothing else in the body, Cache-Control: no-store. See README, step 5.7.

  // RFC 9728: where clients learn which authorization server issues tokens for this resource.
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata,
      resourceServerUrl: config.mcpUrl,
      scopesSupported: supportedScopes(appIdUri),
      resourceName: 'Contoso CRM (workshop lesson 5)',
    }),
  );

  const originCheck = allowedOriginsOnly([config.baseUrl.origin, ...INSPECTOR_ORIGINS]);
  // TODO 5.5: A rate limit on refused requests (express-rate-limit): options.rateLimit ?? DEFAULT_RATE_LIMIT,
  // standard RateLimit headers (draft-8) without the legacy X-RateLimit-*, counting only failed responses
  // (skipSuccessfulRequests), keyed by ipKeyGenerator(req.ip). Put it right after originCheck on every /mcp route.
  // And a body limit: express.json({ limit: BODY_LIMIT }). See README, step 5.5.
  const jsonBody = express.json();
  // As in lesson 4: keys out of reach is a 503 with Retry-After, not a 401 (see verifier.ts).
  const keysCheck = signingKeysReachable(verifier);
  const bearer = requireBearerAuth({ verifier, resourceMetadataUrl, expectedResource: config.mcpUrl });
  const gate = toolPermissionGate({ appIdUri, resourceMetadataUrl, audit });

  app.options('/mcp', originCheck);
  app.post('/mcp', originCheck, jsonBody, keysCheck, bearer, gate, mcpHandler(graph, logger));
  app.get('/mcp', originCheck, keysCheck, bearer, methodNotAllowed);
  app.delete('/mcp', originCheck, keysCheck, bearer, methodNotAllowed);
  app.use(errorHandler(logger));

  return { app, logger, state, close: () => tokenStore.close() };
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
    const hint = config.mode === 'offline' ? 'Is the emulator running? npm run lesson:5 starts it, or run npm run emulator.' : 'Check ENTRA_TENANT_ID.';
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
function mcpHandler(graph: GraphService, logger: Logger): RequestHandler {
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
      logger.error({ err: { message: (error as Error).message } }, 'MCP request failed');
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'Internal server error'));
    }
  };
}

/**
 * Checks the token once before requireBearerAuth, only to catch the one failure that is not the
 * token's fault: the tenant's signing keys could not be fetched. requireBearerAuth would answer a 401
 * and send the client to sign in again; this answers 503 with Retry-After (RFC 9110 §15.6.4). A
 * good token's check is cached (verifiedTokens.ts), so the second check costs a lookup.
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

/**
 * The last word on errors: a status and one JSON-RPC error, never Express's HTML page with a stack
 * trace. A too large body (413) or malformed JSON (400) keeps its status.
 */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: { status?: number; type?: string; message?: string }, _req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) logger.error({ err: { message: error.message } }, 'request failed');
    const message =
      status === 413 ? `The request body is larger than ${BODY_LIMIT}.` : status === 400 ? 'The request body is not valid JSON.' : status === 500 ? 'Internal server error' : 'The request was refused.';
    if (!res.headersSent) res.status(status).json(jsonRpcError(status === 500 ? -32603 : -32700, message));
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
      'Access-Control-Expose-Headers': 'www-authenticate, mcp-session-id, mcp-protocol-version, ratelimit, ratelimit-policy, retry-after',
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
