/**
 * The Entra ID emulator's core: one tenant's v2.0 endpoints as a function from a web `Request` to a
 * `Response`. Adapters serve it through msw (tests, in-process) and node:http (running lessons).
 *
 * Endpoints (paths as on login.microsoftonline.com, under the emulator's origin):
 *   GET  /{tenant}/v2.0/.well-known/openid-configuration   OpenID Connect discovery
 *   GET  /{tenant}/discovery/v2.0/keys                      JWKS
 *   GET  /{tenant}/oauth2/v2.0/authorize                    sign-in page (POST: the page's form)
 *   POST /{tenant}/oauth2/v2.0/token                        token endpoint
 *   POST /{tenant}/oauth2/v2.0/devicecode                   device authorization (RFC 8628)
 *   GET  /devicelogin                                       device code page
 *   GET  /{tenant}/oauth2/v2.0/logout                       end the browser session
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate, createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { APPS, TENANT_DOMAIN, TENANT_ID, USERS, findUser, type AppRegistration, type TestUser } from './directory.ts';
import { EntraError, Errors, errorResponse } from './errors.ts';
import { generateKeySet, generateSigningKey, type KeySet } from './keys.ts';
import { deviceLoginPage, errorPage, formPostPage, homePage, htmlResponse, messagePage, signInPage } from './pages.ts';
import { grantedPermissions, resolveScopes, responseScope, sameLoopbackUri } from './scopes.ts';
import { EmulatorStore } from './store.ts';
import { clientInfo, mintAccessToken, mintIdToken, type TokenContext } from './tokens.ts';

export interface EmulatorSettings {
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  codeLifetimeSeconds: number;
  deviceCodeLifetimeSeconds: number;
  /** How long a device-code client should wait between polls. */
  deviceCodeIntervalSeconds: number;
}

export interface EmulatorOptions {
  /** The emulator's origin, e.g. `http://localhost:3100`. */
  url?: string | URL;
  keys?: KeySet;
  store?: EmulatorStore;
  /** The clock, in epoch milliseconds. Tests can move it instead of sleeping. */
  now?: () => number;
  settings?: Partial<EmulatorSettings>;
  /**
   * A folder of certificates uploaded to app registrations, `<clientId>/<name>.pem`, read at every
   * client assertion. Another process (a lesson's set-up step) can add one while the emulator runs,
   * as uploading a certificate to the app registration in the Entra admin center does.
   */
  certificatesDir?: string;
}

/** What happened, for tests and for the learner's console. Tokens are never recorded. */
export interface EmulatorEvent {
  type: 'sign-in' | 'token' | 'device-code' | 'error';
  grant?: string;
  clientId?: string;
  user?: string;
  resource?: string;
  error?: string;
}

interface AuthRequest {
  clientId: string;
  redirectUri: string;
  responseMode: 'query' | 'fragment' | 'form_post';
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  scope: string;
  resource?: string;
  loginHint?: string;
}

interface CodeRecord {
  clientId: string;
  redirectUri: string;
  userOid: string;
  scope: string;
  resource?: string;
  codeChallenge?: string;
  nonce?: string;
  expiresAt: number;
  redeemed: boolean;
}

interface RefreshRecord {
  clientId: string;
  userOid: string;
  scope: string;
  resource?: string;
  issuedAt: number;
  expiresAt: number;
  used: boolean;
  /** Set by revokeUserSessions on the tokens that existed then. */
  revoked?: boolean;
}

interface DeviceRecord {
  clientId: string;
  scope: string;
  userCode: string;
  expiresAt: number;
  status: 'pending' | 'approved' | 'declined';
  userOid?: string;
}

interface RegisteredCertificate {
  thumbprintSha256: string;
  thumbprintSha1: string;
  publicKey: KeyObject;
}

type ClientAuth = { app: AppRegistration; method: 0 | 1 | 2 };

const SESSION_COOKIE = 'emulator_session';
const ALL_APPS: AppRegistration[] = Object.values(APPS);
const DEFAULT_SETTINGS: EmulatorSettings = {
  accessTokenLifetimeSeconds: 3600,
  refreshTokenLifetimeSeconds: 90 * 24 * 3600,
  codeLifetimeSeconds: 600,
  deviceCodeLifetimeSeconds: 900,
  deviceCodeIntervalSeconds: 5,
};

export function findApp(clientId: string | null | undefined): AppRegistration | undefined {
  return clientId ? ALL_APPS.find((app) => app.clientId === clientId) : undefined;
}

export async function createEntraEmulator(options: EmulatorOptions = {}): Promise<EntraEmulator> {
  return new EntraEmulator(options, options.keys ?? (await generateKeySet()));
}

export class EntraEmulator {
  readonly origin: string;
  readonly tenantId = TENANT_ID;
  readonly issuer: string;
  readonly settings: EmulatorSettings;
  readonly events: EmulatorEvent[] = [];
  readonly now: () => number;
  private readonly store: EmulatorStore;
  private readonly certificates = new Map<string, RegisteredCertificate[]>();
  private readonly certificatesDir?: string;

  constructor(
    options: EmulatorOptions,
    readonly keys: KeySet,
  ) {
    this.origin = new URL(options.url ?? 'http://localhost:3100').origin;
    this.issuer = `${this.origin}/${TENANT_ID}/v2.0`;
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new EmulatorStore(this.now);
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.certificatesDir = options.certificatesDir;
  }

  get tenantBase(): string {
    return `${this.origin}/${TENANT_ID}`;
  }

  get tokenEndpoint(): string {
    return `${this.tenantBase}/oauth2/v2.0/token`;
  }

  get authorizeEndpoint(): string {
    return `${this.tenantBase}/oauth2/v2.0/authorize`;
  }

  /** Answers one HTTP request. Never throws: every failure becomes an Entra-shaped response. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (request.method === 'OPTIONS') return this.cors(new Response(null, { status: 204 }));
      const response = await this.route(request, url);
      return this.cors(response);
    } catch (error) {
      const entraError =
        error instanceof EntraError ? error : new EntraError('server_error', 50000, `The emulator failed: ${(error as Error).message}`, 500);
      this.record({ type: 'error', error: entraError.message });
      return this.cors(errorResponse(entraError, this.now(), request.headers.get('client-request-id')));
    }
  }

  private async route(request: Request, url: URL): Promise<Response> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/') return homePage(USERS, ALL_APPS, this.issuer);
    if (path === '/devicelogin') return this.deviceLogin(request);
    // The MCP SDK probes RFC 8414 paths that Entra does not serve: answer 404 without a body.
    if (path.startsWith('/.well-known/')) return new Response(null, { status: 404 });

    const [, tenant, ...rest] = path.split('/');
    const route = rest.join('/');
    const knownRoutes = ['v2.0/.well-known/openid-configuration', 'discovery/v2.0/keys', 'oauth2/v2.0/authorize', 'oauth2/v2.0/token', 'oauth2/v2.0/devicecode', 'oauth2/v2.0/logout'];
    if (!knownRoutes.includes(route)) return new Response(null, { status: 404 });
    if (tenant !== TENANT_ID && tenant.toLowerCase() !== TENANT_DOMAIN) throw Errors.tenantNotFound(tenant);

    switch (route) {
      case 'v2.0/.well-known/openid-configuration':
        return Response.json(this.openIdConfiguration());
      case 'discovery/v2.0/keys':
        return Response.json(this.jwks(), { headers: { 'cache-control': 'max-age=86400' } });
      case 'oauth2/v2.0/authorize':
        return this.authorize(request, url);
      case 'oauth2/v2.0/token':
        return this.token(request);
      case 'oauth2/v2.0/devicecode':
        return this.deviceCode(request);
      default:
        return this.logout(request, url);
    }
  }

  // ---------------------------------------------------------------- discovery

  openIdConfiguration() {
    const base = this.tenantBase;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      // Like Entra, no `code_challenge_methods_supported` and no `registration_endpoint`.
      response_modes_supported: ['query', 'fragment', 'form_post'],
      response_types_supported: ['code'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'preferred_username', 'oid', 'tid', 'ver'],
      request_uri_parameter_supported: false,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  jwks() {
    return { keys: this.keys.tenant.map((key) => key.publicJwk) };
  }

  // ---------------------------------------------------------------- authorize + sign-in page

  private async authorize(request: Request, url: URL): Promise<Response> {
    if (request.method === 'POST') {
      const form = new URLSearchParams(await request.text());
      if (form.has('request')) return this.completeSignIn(form);
      return this.startAuthorize(request, form);
    }
    return this.startAuthorize(request, url.searchParams);
  }

  private async startAuthorize(request: Request, p: URLSearchParams): Promise<Response> {
    // Until the redirect URI is known to be registered, errors go on a page, never to the URI.
    const client = findApp(p.get('client_id'));
    if (!client) return errorPage('Sign-in failed', Errors.unknownClient(p.get('client_id') ?? '(none)').message);
    const redirectUri = p.get('redirect_uri');
    if (!redirectUri) return errorPage('Sign-in failed', Errors.missingParameter('redirect_uri').message);
    if (!redirectUriMatches(client, redirectUri)) {
      return errorPage('Sign-in failed', Errors.redirectMismatch(redirectUri, client.clientId).message);
    }
    const mode = p.get('response_mode') ?? 'query';
    const auth: AuthRequest = {
      clientId: client.clientId,
      redirectUri,
      responseMode: mode === 'form_post' || mode === 'fragment' ? mode : 'query',
      state: p.get('state') ?? undefined,
      nonce: p.get('nonce') ?? undefined,
      codeChallenge: p.get('code_challenge') ?? undefined,
      scope: p.get('scope') ?? '',
      resource: p.get('resource') ?? undefined,
      loginHint: p.get('login_hint') ?? undefined,
    };
    try {
      if (p.get('response_type') !== 'code') throw Errors.unsupportedResponseType(p.get('response_type') ?? '(none)');
      if (auth.codeChallenge && (p.get('code_challenge_method') ?? 'plain') !== 'S256') throw Errors.pkceMethod();
      const resolved = resolveScopes(auth.scope, auth.resource);
      const prompt = p.get('prompt');
      const sessionUser = this.sessionUser(request);
      if (prompt === 'none') {
        const hinted = auth.loginHint ? findUser(auth.loginHint) : undefined;
        if (!sessionUser || (hinted && hinted.oid !== sessionUser.oid)) throw Errors.loginRequired();
        return this.issueCode(auth, sessionUser);
      }
      const requestId = randomBytes(18).toString('base64url');
      this.store.put('authRequests', requestId, auth, 15 * 60);
      return htmlResponse(
        signInPage({
          action: `${this.tenantBase}/oauth2/v2.0/authorize`,
          requestId,
          client,
          resourceName: resolved.resource.displayName,
          scopes: [...grantedPermissions(resolved), ...describeOidcScopes(resolved.oidc)],
          users: USERS,
          hintedOid: (auth.loginHint ? findUser(auth.loginHint) : sessionUser)?.oid,
        }),
      );
    } catch (error) {
      if (!(error instanceof EntraError)) throw error;
      this.record({ type: 'error', clientId: client.clientId, error: error.message });
      return this.respondToClient(auth, {
        error: error.error,
        error_description: error.message,
        ...(auth.state ? { state: auth.state } : {}),
      });
    }
  }

  private async completeSignIn(form: URLSearchParams): Promise<Response> {
    const requestId = form.get('request') ?? '';
    const auth = this.store.get<AuthRequest>('authRequests', requestId);
    if (!auth) return errorPage('Sign-in failed', Errors.authRequestExpired().message);
    this.store.delete('authRequests', requestId); // one submission per page
    if (form.get('action') === 'cancel') {
      const declined = Errors.userDeclined();
      return this.respondToClient(auth, {
        error: declined.error,
        error_description: declined.message,
        ...(auth.state ? { state: auth.state } : {}),
      });
    }
    const user = findUser(form.get('user') ?? '');
    if (!user) return errorPage('Sign-in failed', 'Pick one of the listed accounts.');
    const sessionId = randomBytes(18).toString('base64url');
    this.store.put('sessions', sessionId, { userOid: user.oid }, 12 * 3600);
    const response = await this.issueCode(auth, user);
    response.headers.append('set-cookie', `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Lax`);
    return response;
  }

  private async issueCode(auth: AuthRequest, user: TestUser): Promise<Response> {
    const code = randomBytes(32).toString('base64url');
    const record: CodeRecord = {
      clientId: auth.clientId,
      redirectUri: auth.redirectUri,
      userOid: user.oid,
      scope: auth.scope,
      resource: auth.resource,
      codeChallenge: auth.codeChallenge,
      nonce: auth.nonce,
      expiresAt: this.now() + this.settings.codeLifetimeSeconds * 1000,
      redeemed: false,
    };
    // Kept past its lifetime so that a late or repeated redemption gets the precise error.
    this.store.put('codes', code, record, this.settings.codeLifetimeSeconds + 3600);
    this.record({ type: 'sign-in', clientId: auth.clientId, user: user.userPrincipalName });
    return this.respondToClient(auth, {
      code,
      ...(auth.state ? { state: auth.state } : {}),
      session_state: randomUUID(),
      client_info: clientInfo(user, TENANT_ID),
    });
  }

  /** Sends the authorization response back to the app in the requested response mode. */
  private respondToClient(auth: AuthRequest, params: Record<string, string>): Response {
    if (auth.responseMode === 'form_post') return htmlResponse(formPostPage(auth.redirectUri, params));
    const target = new URL(auth.redirectUri);
    const encoded = new URLSearchParams(params);
    if (auth.responseMode === 'fragment') target.hash = encoded.toString();
    else for (const [name, value] of encoded) target.searchParams.set(name, value);
    return new Response(null, { status: 302, headers: { location: target.href, 'cache-control': 'no-store' } });
  }

  private sessionUser(request: Request): TestUser | undefined {
    const cookie = request.headers.get('cookie') ?? '';
    const id = cookie.match(new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`))?.[1];
    const session = id ? this.store.get<{ userOid: string }>('sessions', id) : undefined;
    return session ? findUser(session.userOid) : undefined;
  }

  private logout(request: Request, url: URL): Response {
    const cookie = request.headers.get('cookie') ?? '';
    const id = cookie.match(new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`))?.[1];
    if (id) this.store.delete('sessions', id);
    const clear = `${SESSION_COOKIE}=; Path=/; Max-Age=0`;
    const next = url.searchParams.get('post_logout_redirect_uri');
    // Like a redirect URI, the address after sign-out must be registered: no open redirects.
    if (next && ALL_APPS.some((app) => redirectUriMatches(app, next))) {
      return new Response(null, { status: 302, headers: { location: next, 'set-cookie': clear } });
    }
    const response = messagePage('Signed out', 'You signed out of the workshop tenant. You can close this window.');
    response.headers.append('set-cookie', clear);
    return response;
  }

  // ---------------------------------------------------------------- device code (RFC 8628)

  private async deviceCode(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    const client = findApp(form.get('client_id'));
    if (!client) throw Errors.unknownClient(form.get('client_id') ?? '(none)');
    if (client.kind !== 'public' || !client.allowPublicClientFlows) throw Errors.publicFlowsNotAllowed(client.clientId);
    const scope = form.get('scope') ?? '';
    resolveScopes(scope, form.get('resource'));
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = randomUserCode();
    const lifetime = this.settings.deviceCodeLifetimeSeconds;
    const record: DeviceRecord = { clientId: client.clientId, scope, userCode, expiresAt: this.now() + lifetime * 1000, status: 'pending' };
    this.store.put('deviceCodes', deviceCode, record, lifetime + 3600);
    this.store.put('userCodes', userCode, deviceCode, lifetime);
    this.record({ type: 'device-code', clientId: client.clientId });
    const verificationUri = `${this.origin}/devicelogin`;
    return Response.json({
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: lifetime,
      interval: this.settings.deviceCodeIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  private async deviceLogin(request: Request): Promise<Response> {
    const action = `${this.origin}/devicelogin`;
    if (request.method !== 'POST') return htmlResponse(deviceLoginPage(action, USERS));
    const form = new URLSearchParams(await request.text());
    const userCode = (form.get('user_code') ?? '').trim().toUpperCase();
    const deviceCode = this.store.get<string>('userCodes', userCode);
    const record = deviceCode ? this.store.get<DeviceRecord>('deviceCodes', deviceCode) : undefined;
    if (!deviceCode || !record || record.status !== 'pending') {
      return htmlResponse(deviceLoginPage(action, USERS, 'That code is not valid or has expired. Check it and try again.', userCode), 400);
    }
    this.store.delete('userCodes', userCode);
    if (form.get('action') === 'decline') {
      this.store.update('deviceCodes', deviceCode, { ...record, status: 'declined' });
      return messagePage('Sign-in declined', 'You declined the sign-in. You can close this window.');
    }
    const user = findUser(form.get('user') ?? '');
    if (!user) return htmlResponse(deviceLoginPage(action, USERS, 'Pick one of the listed accounts.', userCode), 400);
    this.store.update('deviceCodes', deviceCode, { ...record, status: 'approved', userOid: user.oid });
    this.record({ type: 'sign-in', clientId: record.clientId, user: user.userPrincipalName });
    const app = findApp(record.clientId);
    return messagePage('You are signed in', `${user.displayName} is signed in to ${app?.displayName ?? 'the app'}. You can close this window.`);
  }

  // ---------------------------------------------------------------- token endpoint

  private async token(request: Request): Promise<Response> {
    if (request.method !== 'POST') throw new EntraError('invalid_request', 900561, 'The endpoint only accepts POST requests.', 405);
    const form = new URLSearchParams(await request.text());
    const grant = form.get('grant_type');
    if (!grant) throw Errors.missingParameter('grant_type');
    const client = await this.authenticateClient(request, form);
    const body = await this.grant(grant, client, form);
    this.record({ type: 'token', grant, clientId: client.app.clientId, user: body.user, resource: body.resource });
    return Response.json(body.response, { headers: { 'cache-control': 'no-store', pragma: 'no-cache' } });
  }

  private grant(grant: string, client: ClientAuth, form: URLSearchParams) {
    switch (grant) {
      case 'authorization_code':
        return this.authorizationCodeGrant(client, form);
      case 'refresh_token':
        return this.refreshTokenGrant(client, form);
      case 'client_credentials':
        return this.clientCredentialsGrant(client, form);
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        return this.onBehalfOfGrant(client, form);
      case 'urn:ietf:params:oauth:grant-type:device_code':
      case 'device_code': // what MSAL sends; Entra accepts both
        return this.deviceCodeGrant(client, form);
      default:
        throw Errors.unsupportedGrantType(grant);
    }
  }

  /** Client authentication: none (public), a secret, or a signed client assertion (RFC 7523). */
  private async authenticateClient(request: Request, form: URLSearchParams): Promise<ClientAuth> {
    let basicId: string | undefined;
    let basicSecret: string | undefined;
    const authorization = request.headers.get('authorization');
    if (authorization?.toLowerCase().startsWith('basic ')) {
      // RFC 6749 §2.3.1: base64 of "client_id:client_secret", each form-URL-encoded first.
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString();
      const colon = decoded.indexOf(':');
      try {
        if (colon < 1) throw new URIError('no client_id:client_secret pair');
        basicId = decodeURIComponent(decoded.slice(0, colon));
        basicSecret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        throw Errors.malformedBasicAuth();
      }
    }
    const clientId = basicId ?? form.get('client_id');
    if (!clientId) throw Errors.missingParameter('client_id');
    const app = findApp(clientId);
    if (!app) throw Errors.unknownClient(clientId);
    const secret = basicSecret ?? form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (app.kind === 'public') {
      if (secret || assertion) throw Errors.publicClientWithCredentials();
      return { app, method: 0 };
    }
    if (secret) {
      if (!app.secrets?.includes(secret)) throw Errors.invalidSecret(clientId);
      return { app, method: 1 };
    }
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        throw Errors.invalidClientAssertion("client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.");
      }
      await this.verifyClientAssertion(app, assertion);
      return { app, method: 2 };
    }
    throw Errors.credentialsRequired();
  }

  private async verifyClientAssertion(app: AppRegistration, assertion: string): Promise<void> {
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw Errors.invalidClientAssertion('the client assertion is not a JWT.');
    }
    const thumbprint = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64url').toString('hex') : undefined);
    const sha256 = thumbprint(header['x5t#S256']);
    const sha1 = thumbprint(header.x5t);
    const certificate = this.certificatesOf(app.clientId).find(
      (c) => c.thumbprintSha256 === sha256 || c.thumbprintSha1 === sha1 || c.thumbprintSha256 === header.kid?.toLowerCase(),
    );
    if (!certificate) {
      throw Errors.invalidClientAssertion(`the certificate used to sign the client assertion is not registered on application '${app.clientId}'.`);
    }
    try {
      await jwtVerify(assertion, certificate.publicKey, {
        algorithms: ['RS256', 'PS256'],
        issuer: app.clientId,
        subject: app.clientId,
        audience: [this.tokenEndpoint, this.issuer],
        currentDate: new Date(this.now()),
        clockTolerance: 300,
        requiredClaims: ['exp'],
      });
    } catch (error) {
      throw Errors.invalidClientAssertion((error as Error).message);
    }
  }

  /** Certificates registered with registerCertificate, then those uploaded to `certificatesDir`. */
  private certificatesOf(clientId: string): RegisteredCertificate[] {
    const registered = this.certificates.get(clientId) ?? [];
    const folder = this.certificatesDir && path.join(this.certificatesDir, clientId);
    if (!folder || !existsSync(folder)) return registered;
    const uploaded = readdirSync(folder)
      .filter((name) => name.endsWith('.pem'))
      .flatMap((name) => {
        try {
          return [certificateCredential(readFileSync(path.join(folder, name), 'utf8'))];
        } catch {
          return []; // Not a certificate (a private key, say): Entra would not accept it as a credential either.
        }
      });
    return [...registered, ...uploaded];
  }

  private async authorizationCodeGrant({ app, method }: ClientAuth, form: URLSearchParams) {
    const code = form.get('code');
    if (!code) throw Errors.missingParameter('code');
    const record = this.store.get<CodeRecord>('codes', code);
    if (!record) throw Errors.codeInvalid();
    if (record.clientId !== app.clientId) throw Errors.codeForOtherClient();
    if (record.redeemed) throw Errors.codeRedeemed();
    if (this.now() > record.expiresAt) throw Errors.codeExpired();
    // Any redemption attempt uses the code up, so a wrong verifier cannot be retried.
    this.store.update('codes', code, { ...record, redeemed: true });
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) throw Errors.missingParameter('redirect_uri');
    if (redirectUri !== record.redirectUri) throw Errors.replyAddressMismatch(redirectUri, record.redirectUri);
    if (record.codeChallenge) {
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (challenge !== record.codeChallenge) throw Errors.pkceMismatch();
    }
    const user = findUser(record.userOid)!;
    return this.userTokens({ app, method, user, scope: record.scope, resource: record.resource, nonce: record.nonce });
  }

  private async refreshTokenGrant({ app, method }: ClientAuth, form: URLSearchParams) {
    const token = form.get('refresh_token');
    if (!token) throw Errors.missingParameter('refresh_token');
    const record = this.store.get<RefreshRecord>('refreshTokens', token);
    if (!record) throw Errors.refreshTokenInvalid();
    if (record.clientId !== app.clientId) throw Errors.refreshTokenOtherClient();
    if (record.used) throw Errors.refreshTokenUsed();
    if (this.now() > record.expiresAt) throw Errors.codeExpired();
    if (record.revoked) throw Errors.refreshTokenRevoked();
    this.store.update('refreshTokens', token, { ...record, used: true });
    const user = findUser(record.userOid)!;
    // A refresh may ask for another resource (Entra refresh tokens are multi-resource); without `scope`, the original one.
    const scope = form.get('scope') ?? record.scope;
    const resource = form.get('scope') ? (form.get('resource') ?? undefined) : record.resource;
    return this.userTokens({ app, method, user, scope, resource, forceRefreshToken: true });
  }

  private async clientCredentialsGrant({ app, method }: ClientAuth, form: URLSearchParams) {
    if (method === 0) throw Errors.credentialsRequired();
    const scope = form.get('scope');
    if (!scope) throw Errors.missingParameter('scope');
    const resolved = resolveScopes(scope, form.get('resource'));
    if (!resolved.isDefault) throw Errors.clientCredentialsNeedDefault();
    const roles = app.appRoleAssignments?.[resolved.resource.clientId as keyof typeof app.appRoleAssignments] ?? [];
    const accessToken = await mintAccessToken(
      { resource: resolved.resource, client: app, scopes: [], roles: [...roles], clientAuthMethod: method },
      this.tokenContext(),
      this.signingKeys(),
    );
    return {
      resource: resolved.resource.clientId,
      user: undefined,
      response: {
        token_type: 'Bearer',
        expires_in: this.settings.accessTokenLifetimeSeconds,
        ext_expires_in: this.settings.accessTokenLifetimeSeconds,
        access_token: accessToken,
      },
    };
  }

  /** On-Behalf-Of: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow */
  private async onBehalfOfGrant({ app, method }: ClientAuth, form: URLSearchParams) {
    if (method === 0) throw Errors.credentialsRequired();
    if (form.get('requested_token_use') !== 'on_behalf_of') throw Errors.missingParameter('requested_token_use');
    const assertion = form.get('assertion');
    if (!assertion) throw Errors.missingParameter('assertion');
    const scope = form.get('scope');
    if (!scope) throw Errors.missingParameter('scope');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, createLocalJWKSet(this.jwks()), {
        issuer: this.issuer,
        algorithms: ['RS256'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw Errors.assertionExpired();
      throw Errors.assertionInvalid((error as Error).message);
    }
    if (payload.aud !== app.clientId) throw Errors.assertionAudience();
    const user = typeof payload.oid === 'string' && payload.scp ? findUser(payload.oid) : undefined;
    if (!user) throw Errors.assertionNotUser();
    return this.userTokens({ app, method, user, scope, resource: form.get('resource') ?? undefined });
  }

  private async deviceCodeGrant({ app, method }: ClientAuth, form: URLSearchParams) {
    if (app.kind !== 'public' || !app.allowPublicClientFlows) throw Errors.publicFlowsNotAllowed(app.clientId);
    const deviceCode = form.get('device_code');
    if (!deviceCode) throw Errors.missingParameter('device_code');
    const record = this.store.get<DeviceRecord>('deviceCodes', deviceCode);
    if (!record || record.clientId !== app.clientId || this.now() > record.expiresAt) throw Errors.deviceCodeExpired();
    if (record.status === 'pending') throw Errors.authorizationPending();
    this.store.delete('deviceCodes', deviceCode);
    if (record.status === 'declined') throw Errors.deviceCodeDeclined();
    const user = findUser(record.userOid!)!;
    return this.userTokens({ app, method, user, scope: record.scope });
  }

  /** The token response for a user: access token, and ID token, refresh token and client_info as asked. */
  private async userTokens(o: {
    app: AppRegistration;
    method: 0 | 1 | 2;
    user: TestUser;
    scope: string;
    resource?: string;
    nonce?: string;
    forceRefreshToken?: boolean;
  }) {
    const resolved = resolveScopes(o.scope, o.resource);
    const granted = grantedPermissions(resolved);
    const roles = o.user.apiRoles.filter((role) => resolved.resource.api?.appRoles.includes(role));
    const ctx = this.tokenContext();
    const accessToken = await mintAccessToken(
      { resource: resolved.resource, client: o.app, user: o.user, scopes: granted, roles, clientAuthMethod: o.method },
      ctx,
      this.signingKeys(),
    );
    const response: Record<string, string | number> = {
      token_type: 'Bearer',
      scope: responseScope(resolved, granted),
      expires_in: this.settings.accessTokenLifetimeSeconds,
      ext_expires_in: this.settings.accessTokenLifetimeSeconds,
      access_token: accessToken,
    };
    if (resolved.oidc.includes('offline_access') || o.forceRefreshToken) {
      const refreshToken = randomBytes(48).toString('base64url');
      const lifetime = this.settings.refreshTokenLifetimeSeconds;
      const record: RefreshRecord = {
        clientId: o.app.clientId,
        userOid: o.user.oid,
        scope: o.scope,
        resource: o.resource,
        issuedAt: this.now(),
        expiresAt: this.now() + lifetime * 1000,
        used: false,
      };
      this.store.put('refreshTokens', refreshToken, record, lifetime + 3600);
      response.refresh_token = refreshToken;
    }
    if (resolved.oidc.includes('openid')) {
      response.id_token = await mintIdToken(o.user, o.app, ctx, this.signingKeys().tenant, o.nonce);
    }
    response.client_info = clientInfo(o.user, TENANT_ID);
    return { resource: resolved.resource.clientId, user: o.user.userPrincipalName, response };
  }

  private tokenContext(): TokenContext {
    return {
      issuer: this.issuer,
      tenantId: TENANT_ID,
      now: Math.floor(this.now() / 1000),
      lifetimeSeconds: this.settings.accessTokenLifetimeSeconds,
    };
  }

  private signingKeys() {
    return { tenant: this.keys.tenant[this.keys.tenant.length - 1], graph: this.keys.graph };
  }

  private cors(response: Response): Response {
    // Browser-based MCP clients (e.g. MCP Inspector) read discovery documents and call the token
    // endpoint from their page; our HTML pages are for navigation only and get no CORS headers.
    if (!response.headers.get('content-type')?.includes('text/html')) {
      response.headers.set('access-control-allow-origin', '*');
      response.headers.set('access-control-allow-headers', 'authorization, content-type, client-request-id, mcp-protocol-version');
    }
    return response;
  }

  private record(event: EmulatorEvent): void {
    this.events.push(event);
    if (this.events.length > 1000) this.events.shift();
  }

  // ---------------------------------------------------------------- controls for tests and lessons

  /** Revokes every refresh token and browser session of a user, as an admin's "revoke sessions" does. */
  revokeUserSessions(userIdOrName: string): void {
    const user = findUser(userIdOrName);
    if (!user) throw new Error(`No test user "${userIdOrName}".`);
    // Mark the tokens that exist now instead of comparing timestamps: a token issued in the same
    // millisecond, or after a test moved the clock back, must not count as revoked.
    for (const [token, record] of this.store.entries<RefreshRecord>('refreshTokens')) {
      if (record.userOid === user.oid && !record.revoked) this.store.update('refreshTokens', token, { ...record, revoked: true });
    }
    for (const [id, session] of this.store.entries<{ userOid: string }>('sessions')) {
      if (session.userOid === user.oid) this.store.delete('sessions', id);
    }
  }

  /** Adds a new signing key; new tokens use it. With `dropOld`, the old keys leave the JWKS. */
  async rotateSigningKey({ dropOld = false } = {}): Promise<string> {
    const key = await generateSigningKey();
    if (dropOld) this.keys.tenant.splice(0, this.keys.tenant.length);
    this.keys.tenant.push(key);
    return key.kid;
  }

  /** Registers a certificate (PEM) as a credential of a confidential client (client assertions). */
  registerCertificate(clientId: string, certificatePem: string): { thumbprintSha256: string } {
    if (!findApp(clientId)) throw new Error(`No app registration with client ID ${clientId}.`);
    const entry = certificateCredential(certificatePem);
    this.certificates.set(clientId, [...(this.certificates.get(clientId) ?? []), entry]);
    return { thumbprintSha256: entry.thumbprintSha256 };
  }

  /**
   * Issues an access token directly, as if a flow had run, for tests that need a particular token.
   * `claims` overrides or removes (`undefined`) claims of the real token before it is signed.
   */
  async issueAccessToken(o: {
    client: string;
    scope: string;
    user?: string;
    resource?: string;
    claims?: Record<string, unknown>;
  }): Promise<string> {
    const app = findApp(o.client);
    if (!app) throw new Error(`No app registration with client ID ${o.client}.`);
    const user = o.user ? findUser(o.user) : undefined;
    const resolved = resolveScopes(o.scope, o.resource);
    const roles = user
      ? user.apiRoles.filter((role) => resolved.resource.api?.appRoles.includes(role))
      : [...(app.appRoleAssignments?.[resolved.resource.clientId as keyof typeof app.appRoleAssignments] ?? [])];
    const token = await mintAccessToken(
      { resource: resolved.resource, client: app, user, scopes: user ? grantedPermissions(resolved) : [], roles, clientAuthMethod: app.kind === 'public' ? 0 : 1 },
      this.tokenContext(),
      this.signingKeys(),
    );
    if (!o.claims) return token;
    const payload: Record<string, unknown> = { ...decodeJwt(token), ...o.claims };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    const key = this.signingKeys().tenant;
    return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }
}

/** Exact match, except that loopback redirect URIs match on any port (Entra's localhost exception). */
export function redirectUriMatches(client: AppRegistration, redirectUri: string): boolean {
  return client.redirectUris.some((registered) => registered === redirectUri || sameLoopbackUri(registered, redirectUri));
}

/** A certificate (PEM) as a client credential: its thumbprints, which assertions name, and its public key. */
function certificateCredential(certificatePem: string): RegisteredCertificate {
  const certificate = new X509Certificate(certificatePem);
  const hex = (fingerprint: string) => fingerprint.replace(/:/g, '').toLowerCase();
  return {
    thumbprintSha256: hex(certificate.fingerprint256),
    thumbprintSha1: hex(certificate.fingerprint),
    publicKey: certificate.publicKey,
  };
}

/** Plain words for the OpenID Connect scopes on the sign-in page. */
function describeOidcScopes(oidc: string[]): string[] {
  const lines: string[] = [];
  if (oidc.some((s) => s !== 'offline_access')) lines.push(`Sign you in and read your basic profile (${oidc.filter((s) => s !== 'offline_access').join(', ')})`);
  if (oidc.includes('offline_access')) lines.push('Keep access while you are away (offline_access)');
  return lines;
}

function randomUserCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(9), (b) => alphabet[b % alphabet.length]).join('');
}
