/**
 * The Entra ID emulator's core: one tenant's v2.0 endpoints as a function from a web `Request` to a
 * `Response`, and what it does as a stream of events. Adapters serve it through msw (tests,
 * in-process: msw.ts) and node:http (running lessons: server.ts).
 *
 * The route table below is the map of the emulator; each endpoint family is a module of its own:
 *   discovery.ts    OpenID Connect discovery and the JWKS
 *   authorize.ts    the authorization endpoint, its sign-in page, and logout
 *   deviceCode.ts   the device authorization endpoint and the device code page (RFC 8628)
 *   grants.ts       the token endpoint and its grants; clientAuth.ts authenticates the client
 *                   (federatedCredentials.ts: a workload's token as the client's assertion)
 *   managedIdentity.ts  not Entra ID: the hosting platform's identity endpoint (lesson 5)
 * Paths are Entra's (endpoints.ts), under the emulator's origin.
 */
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { authorizeFromForm, authorizeFromQuery, logout } from './authorize.ts';
import { CertificateStore } from './clientAuth.ts';
import { DEFAULT_SETTINGS, type EmulatorContext, type EmulatorSettings, type RefreshRecord, type RouteHandler, type SessionRecord } from './context.ts';
import { DEVICE_LOGIN_PATH, issueDeviceCode, showDeviceLogin, submitDeviceLogin } from './deviceCode.ts';
import { ALL_APPS, API_APP_ID_URI, APPS, TENANT_DOMAIN, TENANT_ID, USERS, findApp, findUser, type AppRegistration } from './directory.ts';
import { serveJwks, serveOpenIdConfiguration } from './discovery.ts';
import { TENANT_PATHS, tenantEndpoints, type TenantEndpoints } from './endpoints.ts';
import { EntraError, Errors, errorResponse } from './errors.ts';
import { EventStream, refusedEvent, type EmulatorEvent } from './events.ts';
import { token, tokenMethodNotAllowed } from './grants.ts';
import { generateKeySet, generateSigningKey, type KeySet, type SigningKey } from './keys.ts';
import { IDENTITY_ENDPOINT_PATH, identityToken } from './managedIdentity.ts';
import { homePage } from './pages.ts';
import { matchRoute, type Route } from './router.ts';
import { grantedPermissions, resolveScopes } from './scopes.ts';
import { EmulatorStore } from './store.ts';
import { ClientAuthMethod, mintAccessToken, type TokenContext } from './tokens.ts';

/** Re-exported, so that one import of entra.ts gives an emulator's options, settings and events. */
export type { EmulatorSettings } from './context.ts';
/** @see EmulatorEvent in events.ts. */
export type { EmulatorEvent } from './events.ts';

/** How to make an emulator. Every option has a default fit for tests. */
export interface EmulatorOptions {
  /** The emulator's origin. Default `http://localhost:3100`. */
  url?: string | URL;
  /** Signing keys. Default: a fresh set. */
  keys?: KeySet;
  /** Where codes, refresh tokens and sessions are kept. Default: in memory. */
  store?: EmulatorStore;
  /** The clock, in epoch milliseconds. Default `Date.now`. Tests can move it instead of sleeping. */
  now?: () => number;
  /** Lifetimes and intervals; what is left out keeps its default (`DEFAULT_SETTINGS`). */
  settings?: Partial<EmulatorSettings>;
  /**
   * A folder of certificates uploaded to app registrations, `<clientId>/<name>.pem`, read at every
   * client assertion, so a lesson's set-up step in another process can add one while the emulator runs.
   * Default: none.
   */
  certificatesDir?: string;
  /**
   * The MCP API's Application ID URI for this run: the MCP URL the lesson serves (`config.mcpUrl`), as
   * you would register it on a tenant. Default `http://localhost:3001/mcp`. Like Entra ID, the emulator
   * matches identifier URIs exactly, so a `resource` or scope for any other URL (another port) is refused.
   */
  apiAppIdUri?: string | URL;
}

/** What a test asks {@link EntraEmulator.issueAccessToken} for. */
export interface DirectTokenRequest {
  /** The client's ID (`azp`). */
  client: string;
  /** Scopes as a client would ask for them, e.g. `api://…/tools.read` or `…/.default`. */
  scope: string;
  /** The user (name, UPN or oid); an app-only token when omitted. */
  user?: string;
  /** The `resource` parameter (RFC 8707). */
  resource?: string;
  /** Claims that override those of the real token; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
}

const notFound: RouteHandler = () => new Response(null, { status: 404 });

/** The route table, first match wins. Any path it does not list gets a 404 without a body. */
const ROUTES: readonly Route<RouteHandler>[] = [
  { method: 'ANY', path: '/', handler: ({ emulator }) => homePage(USERS, ALL_APPS, emulator.endpoints.issuer) },
  { method: 'POST', path: DEVICE_LOGIN_PATH, handler: submitDeviceLogin },
  { method: 'ANY', path: DEVICE_LOGIN_PATH, handler: showDeviceLogin },
  // Not Entra ID but the hosting platform's identity endpoint, for managed identities (lesson 5).
  { method: 'ANY', path: IDENTITY_ENDPOINT_PATH, handler: identityToken },
  // The MCP SDK probes RFC 8414 paths, which Entra does not serve.
  { method: 'ANY', path: '/.well-known/*', handler: notFound },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.openIdConfiguration}`, handler: serveOpenIdConfiguration },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.jwks}`, handler: serveJwks },
  { method: 'POST', path: `/:tenant${TENANT_PATHS.authorize}`, handler: authorizeFromForm },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.authorize}`, handler: authorizeFromQuery },
  { method: 'POST', path: `/:tenant${TENANT_PATHS.token}`, handler: token },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.token}`, handler: tokenMethodNotAllowed },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.deviceCode}`, handler: issueDeviceCode },
  { method: 'ANY', path: `/:tenant${TENANT_PATHS.logout}`, handler: logout },
];

/**
 * Makes an emulator, generating signing keys unless `options.keys` has them.
 *
 * @example
 * ```ts
 * const emulator = await createEntraEmulator({ url: 'http://localhost:3100' });
 * const response = await emulator.handle(new Request(emulator.endpoints.openIdConfiguration));
 * ```
 */
export async function createEntraEmulator(options: EmulatorOptions = {}): Promise<EntraEmulator> {
  return new EntraEmulator(options, options.keys ?? (await generateKeySet()));
}

/** One emulated tenant. Make it with {@link createEntraEmulator}. */
export class EntraEmulator {
  /** The emulator's origin, e.g. `http://localhost:3100`. */
  readonly origin: string;
  /** The emulated tenant's ID. */
  readonly tenantId = TENANT_ID;
  /** The tenant's endpoint URLs under {@link origin}. */
  readonly endpoints: TenantEndpoints;
  /** Live settings: tests may change them between requests. */
  readonly settings: EmulatorSettings;
  /**
   * Sign-ins, issued tokens and device codes, and refusals, as they happen. Subscribe with `on()`;
   * nothing is kept for a listener that subscribes later.
   */
  readonly events = new EventStream<EmulatorEvent>();
  /** The clock, in epoch milliseconds. */
  readonly now: () => number;
  readonly #store: EmulatorStore;
  readonly #certificates: CertificateStore;
  readonly #context: EmulatorContext;
  /** The MCP API's URL identifier URIs: the run's own, and those tests added. */
  readonly #apiAppIdUris: string[];

  /**
   * @param options See {@link EmulatorOptions}.
   * @param keys The signing keys; the last tenant key signs new tokens.
   */
  constructor(
    options: EmulatorOptions,
    readonly keys: KeySet,
  ) {
    this.origin = new URL(options.url ?? 'http://localhost:3100').origin;
    this.endpoints = tenantEndpoints(this.origin);
    this.now = options.now ?? Date.now;
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.#store = options.store ?? new EmulatorStore(this.now);
    this.#certificates = new CertificateStore(options.certificatesDir);
    this.#apiAppIdUris = [options.apiAppIdUri ? appIdUri(options.apiAppIdUri) : API_APP_ID_URI];
    this.#context = {
      origin: this.origin,
      endpoints: this.endpoints,
      settings: this.settings,
      store: this.#store,
      certificates: this.#certificates,
      identifierUris: (app) => this.identifierUris(app),
      now: () => this.now(),
      emit: (event) => this.events.emit(event),
      tokenContext: () => this.#tokenContext(),
      signingKeys: () => this.#signingKeys(),
      jwks: () => this.jwks(),
    };
  }

  /** Answers one HTTP request. Never throws: every failure becomes an Entra-shaped response. */
  async handle(request: Request): Promise<Response> {
    try {
      if (request.method === 'OPTIONS') return withCors(new Response(null, { status: 204 }));
      const url = new URL(request.url);
      const match = matchRoute(ROUTES, request.method, url.pathname);
      if (!match) return withCors(await notFound({ request, url, params: {}, emulator: this.#context }));
      const tenant = match.params.tenant;
      if (tenant !== undefined && tenant !== TENANT_ID && tenant.toLowerCase() !== TENANT_DOMAIN) throw Errors.tenantNotFound(tenant);
      return withCors(await match.handler({ request, url, params: match.params, emulator: this.#context }));
    } catch (error) {
      const entraError = error instanceof EntraError ? error : new EntraError('server_error', 50000, `The emulator failed: ${(error as Error).message}`, 500);
      this.events.emit(refusedEvent(entraError));
      return withCors(errorResponse(entraError, this.now(), request.headers.get('client-request-id')));
    }
  }

  /** The tenant's published signing keys (the JWKS document). */
  jwks() {
    return { keys: this.keys.tenant.map((key) => key.publicJwk) };
  }

  // ---------------------------------------------------------------- controls for tests and lessons

  /** An app's Application ID URIs in this emulator (`identifierUris`); the MCP API's include the run's MCP URL. */
  identifierUris(app: AppRegistration): readonly string[] {
    const registered = app.api?.identifierUris ?? [];
    if (app.clientId !== APPS.mcpApi.clientId) return registered;
    return [...this.#apiAppIdUris, ...registered.filter((uri) => uri !== API_APP_ID_URI)];
  }

  /**
   * Adds an Application ID URI to the MCP API (Expose an API), for a test that serves the lesson on a
   * port of its own: it registers the MCP URL it actually serves, as you would on a tenant.
   *
   * @returns Removes the URI again (call it when the server stops).
   * @example
   * ```ts
   * const unregister = emulator.addApiAppIdUri(config.mcpUrl); // http://localhost:49152/mcp
   * ```
   */
  addApiAppIdUri(uri: string | URL): () => void {
    const added = appIdUri(uri);
    this.#apiAppIdUris.push(added);
    return () => {
      const at = this.#apiAppIdUris.indexOf(added);
      if (at >= 0) this.#apiAppIdUris.splice(at, 1);
    };
  }

  /**
   * Revokes every refresh token and browser session of a user, as an admin's "revoke sessions" does.
   *
   * @param userIdOrName The user's oid, UPN or given name.
   * @throws Error when there is no such test user.
   */
  revokeUserSessions(userIdOrName: string): void {
    const user = findUser(userIdOrName);
    if (!user) throw new Error(`No test user "${userIdOrName}".`);
    // Mark the tokens that exist now instead of comparing timestamps: a token issued in the same
    // millisecond, or after a test moved the clock back, must not count as revoked.
    for (const [refreshToken, record] of this.#store.entries<RefreshRecord>('refreshTokens')) {
      if (record.userOid === user.oid && !record.revoked) this.#store.update('refreshTokens', refreshToken, { ...record, revoked: true });
    }
    for (const [id, session] of this.#store.entries<SessionRecord>('sessions')) {
      if (session.userOid === user.oid) this.#store.delete('sessions', id);
    }
  }

  /**
   * Adds a new signing key; new tokens use it.
   *
   * @param options.dropOld Remove the old keys from the JWKS too (default `false`: they stay published).
   * @returns The new key's `kid`.
   */
  async rotateSigningKey({ dropOld = false } = {}): Promise<string> {
    const key = await generateSigningKey();
    if (dropOld) this.keys.tenant.splice(0, this.keys.tenant.length);
    this.keys.tenant.push(key);
    return key.kid;
  }

  /**
   * Registers a certificate (PEM) as a credential of a confidential client (client assertions).
   *
   * @returns The certificate's SHA-256 thumbprint, lower-case hex.
   * @throws Error when there is no such app, or the PEM is not a certificate.
   */
  registerCertificate(clientId: string, certificatePem: string): { thumbprintSha256: string } {
    return { thumbprintSha256: this.#certificates.register(clientId, certificatePem).thumbprintSha256 };
  }

  /**
   * Issues an access token directly, as if a flow had run, for tests that need a particular token.
   *
   * @example
   * ```ts
   * const expired = await emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'ada', scope, claims: { exp: 1 } });
   * ```
   */
  async issueAccessToken(request: DirectTokenRequest): Promise<string> {
    const app = findApp(request.client);
    if (!app) throw new Error(`No app registration with client ID ${request.client}.`);
    const user = request.user ? findUser(request.user) : undefined;
    const resolved = resolveScopes(request.scope, request.resource, this.#context.identifierUris);
    const roles = user
      ? user.apiRoles.filter((role) => resolved.resource.api?.appRoles.includes(role))
      : [...(app.appRoleAssignments?.[resolved.resource.clientId] ?? [])];
    const clientAuthMethod = app.kind === 'public' ? ClientAuthMethod.none : ClientAuthMethod.secret;
    const scopes = user ? grantedPermissions(resolved, app) : [];
    const issued = await mintAccessToken({ resource: resolved.resource, client: app, user, scopes, roles, clientAuthMethod }, this.#tokenContext(), this.#signingKeys());
    if (!request.claims) return issued;
    const payload: Record<string, unknown> = { ...decodeJwt(issued), ...request.claims };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    const key = this.#signingKeys().tenant;
    return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  #tokenContext(): TokenContext {
    return { issuer: this.endpoints.issuer, tenantId: TENANT_ID, now: Math.floor(this.now() / 1000), lifetimeSeconds: this.settings.accessTokenLifetimeSeconds };
  }

  #signingKeys(): { tenant: SigningKey; graph: SigningKey } {
    return { tenant: this.keys.tenant[this.keys.tenant.length - 1]!, graph: this.keys.graph };
  }
}

/** An identifier URI as given: a URL's `href`, a string verbatim (Entra compares them character for character). */
function appIdUri(uri: string | URL): string {
  return uri instanceof URL ? uri.href : uri;
}

/**
 * Browser-based MCP clients (e.g. MCP Inspector) read discovery documents and call the token
 * endpoint from their page; the HTML pages are for navigation only and get no CORS headers.
 */
function withCors(response: Response): Response {
  if (!response.headers.get('content-type')?.includes('text/html')) {
    response.headers.set('access-control-allow-origin', '*');
    response.headers.set('access-control-allow-headers', 'authorization, content-type, client-request-id, mcp-protocol-version');
  }
  return response;
}
