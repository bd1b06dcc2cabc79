/**
 * The MCP server as an OAuth authorization server for MCP clients, backed by Microsoft Entra ID.
 *
 * MCP clients register here (Entra ID has no dynamic client registration), ask the user for consent
 * here, and get tokens from here. The user signs in at Entra ID; this server redeems Entra's code as
 * a confidential client and keeps the Entra tokens in a session. The MCP client only ever holds our
 * own opaque tokens, which name that session.
 *
 * The SDK's `mcpAuthRouter` serves the endpoints (/authorize, /token, /register, /revoke, metadata)
 * and checks what it can (client_id, exact redirect_uri, PKCE S256); this class decides the rest.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { AuthError } from '@azure/msal-node';
import type { WorkshopConfig } from '../../shared/config.ts';
import { describeEntraError, isUnreachable } from '../../shared/entraErrors.ts';
import { EntraClient, GRAPH_SCOPES, SignInRequiredError, type EntraSignIn } from './entra.ts';
import { consentPage, errorPage, sendPage } from './pages.ts';
import { MemorySessionStore, type SessionStore } from './sessions.ts';

/** The scopes this server grants to MCP clients, with the words the consent page shows. */
export const SCOPES: Record<string, string> = {
  'profile.read': 'Read your Microsoft 365 profile (name, e-mail address, job title, office)',
};

/** How long things live, in seconds. */
export interface Lifetimes {
  /** A consent page, and the Entra sign-in that follows it. */
  consentSeconds: number;
  /** Our authorization codes: one use, within this time. */
  codeSeconds: number;
  /** Our access tokens. Short: a stolen one is useful only briefly. */
  accessTokenSeconds: number;
  /** A session, from sign-in; refresh tokens live as long as their session. */
  sessionSeconds: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  consentSeconds: 600,
  codeSeconds: 60,
  accessTokenSeconds: 900,
  sessionSeconds: 8 * 3600,
};

export interface ProviderOptions {
  config: WorkshopConfig;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  lifetimes?: Partial<Lifetimes>;
  /** The most entries each store keeps. */
  maxEntries?: number;
}

/** One signed-in user, seen through one MCP client. */
export interface Session {
  clientId: string;
  user: EntraSignIn['user'];
  homeAccountId: string;
  /** This session's MSAL cache: the user's Entra tokens, and nobody else's. */
  tokenCache: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** An authorization request from an MCP client, waiting for the user to approve or deny it. */
interface PendingConsent {
  clientId: string;
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  /** Hash of the cookie that ties the request to the browser that was shown the consent page. */
  browser: string;
}

/** An approved request, waiting for Entra ID to send the browser back with this `state`. */
interface PendingSignIn extends PendingConsent {
  /** The PKCE verifier of our own request to Entra ID. */
  entraCodeVerifier: string;
}

/** One of our authorization codes. After its single use it stays as a marker, without the Entra tokens. */
interface CodeGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
  signIn?: EntraSignIn;
  /** Set when the code was redeemed: the session it started. */
  sessionId?: string;
}

/** What one of our access or refresh tokens stands for. */
interface TokenGrant {
  sessionId: string;
  clientId: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
  /** Refresh tokens: set once exchanged (they rotate). */
  used?: boolean;
}

/** Dynamically registered MCP clients (RFC 7591), kept in memory. */
class RegisteredClients implements OAuthRegisteredClientsStore {
  constructor(private readonly store: SessionStore<OAuthClientInformationFull>) {}

  getClient(clientId: string) {
    return this.store.get(clientId);
  }

  async registerClient(metadata: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>): Promise<OAuthClientInformationFull> {
    // The SDK has already generated client_id (and a secret for confidential clients).
    const client = metadata as OAuthClientInformationFull;
    for (const uri of client.redirect_uris) {
      const url = new URL(uri);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      // MCP authorization: redirect URIs are loopback or https; never script or data URLs.
      if (url.protocol === 'javascript:' || url.protocol === 'data:' || (url.protocol === 'http:' && !loopback)) {
        throw new InvalidClientMetadataError(`redirect_uri ${uri} is not allowed: use https, or http on localhost.`);
      }
    }
    await this.store.set(client.client_id, client, 30 * 24 * 3600);
    return client;
  }
}

export class EntraBackedProvider implements OAuthServerProvider {
  readonly clientsStore: RegisteredClients;
  readonly entra: EntraClient;
  private readonly config: WorkshopConfig;
  private readonly now: () => number;
  private readonly lifetimes: Lifetimes;
  private readonly consents: SessionStore<PendingConsent>;
  private readonly signIns: SessionStore<PendingSignIn>;
  private readonly codes: SessionStore<CodeGrant>;
  private readonly accessTokens: SessionStore<TokenGrant>;
  private readonly refreshTokens: SessionStore<TokenGrant>;
  private readonly sessions: SessionStore<Session>;
  /** Graph token requests in flight, per session: concurrent tool calls share one renewal. */
  private readonly renewing = new Map<string, Promise<string>>();

  constructor(options: ProviderOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
    const store = <T>() => new MemorySessionStore<T>({ now: this.now, maxEntries: options.maxEntries });
    this.clientsStore = new RegisteredClients(store());
    this.consents = store();
    this.signIns = store();
    this.codes = store();
    this.accessTokens = store();
    this.refreshTokens = store();
    this.sessions = store();
    this.entra = new EntraClient(options.config);
  }

  // ------------------------------------------------------------ 1. the MCP client asks: consent first

  /** GET /authorize, after the SDK checked client_id, the exact redirect_uri and PKCE S256. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    // TODO 3.3: Check the requested scopes (grantableScopes) and resource (checkResource), remember the
    // request in this.consents under a random ID for lifetimes.consentSeconds, tie it to this browser
    // (bindBrowser(res.req, res)), and answer with the consent page: sendPage(res, 200, consentPage({ … })).
    // See README, step 3.3.
    throw new Error('TODO 3.3: show the consent page (provider.ts, authorize)');
  }

  /** POST /consent: the user's answer. Approve leads to Entra ID; Deny goes back to the client. */
  async decideConsent(req: Request, res: Response): Promise<void> {
    // TODO 3.4: Take the pending consent named by req.body.request (single use). Unknown: error page 400.
    // From another browser (isSameBrowser): error page 403. Deny: redirectToClient with error=access_denied.
    // Approve: a new PKCE pair (this.entra.generatePkce) and a random state, remembered in this.signIns,
    // then a 303 redirect to this.entra.signInUrl(…). See README, step 3.4.
    throw new Error('TODO 3.4: answer the consent (provider.ts, decideConsent)');
  }

  // ------------------------------------------------------------ 2. Entra ID answers: /auth/callback

  /** GET /auth/callback: check state, redeem Entra's code, hand the MCP client a code of ours. */
  async completeSignIn(req: Request, res: Response): Promise<void> {
    // TODO 3.5: Take the pending sign-in named by req.query.state (single use); unknown: error page 400,
    // another browser: 403, and no redirect in either case. Entra sent ?error=…: redirect the error to the
    // client. Otherwise redeem ?code=… with this.entra.redeemCode, store one of our codes (hashed) in
    // this.codes for lifetimes.codeSeconds, and redirectToClient with { code }. See README, step 3.5.
    throw new Error('TODO 3.5: complete the sign-in (provider.ts, completeSignIn)');
  }

  // ------------------------------------------------------------ 3. the MCP client redeems our code

  /** The SDK checks the client's PKCE verifier against this before it calls exchangeAuthorizationCode. */
  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    // TODO 3.6 (part 1): Find the code (by its hash) for this client and return its codeChallenge; throw
    // InvalidGrantError when it is unknown. See README, step 3.6.
    throw new Error('TODO 3.6: look up the PKCE challenge (provider.ts, challengeForAuthorizationCode)');
  }

  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    // TODO 3.6 (part 2): Take the code (single use) and check client and redirect_uri. A code seen before
    // (grant.sessionId set) ends that session and fails. Otherwise start a session in this.sessions, leave
    // a marker in this.codes, and return this.issueTokens(…). Errors: InvalidGrantError. See README, step 3.6.
    throw new Error('TODO 3.6: redeem our authorization code (provider.ts, exchangeAuthorizationCode)');
  }

  // ------------------------------------------------------------ 4. every request to /mcp

  /** Called by requireBearerAuth for every request. Must throw InvalidTokenError (401), never anything else. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    // TODO 3.7: Look the token up (by its hash) in this.accessTokens, then its session in this.sessions.
    // Either missing: throw InvalidTokenError. Return an AuthInfo with expiresAt in seconds, the resource,
    // and extra: { sessionId }. See README, step 3.7.
    throw new Error('TODO 3.7: verify our access tokens (provider.ts, verifyAccessToken)');
  }

  // ------------------------------------------------------------ 5. refresh and revoke

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    // TODO 3.8 (part 1): Take the refresh token (single use, by hash). A used one, or another client's,
    // ends the session. Mark it used, check the session is alive, and return this.issueTokens(…) with
    // the same or fewer scopes. Errors: InvalidGrantError. See README, step 3.8.
    throw new Error('TODO 3.8: refresh (provider.ts, exchangeRefreshToken)');
  }

  /** POST /revoke (RFC 7009). Revoking either token signs the session out: our tokens and the Entra tokens go. */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    // TODO 3.8 (part 2): Find the access or refresh token (by hash); if this client owns it, end its
    // session. Unknown tokens are not an error. See README, step 3.8.
    throw new Error('TODO 3.8: revoke (provider.ts, revokeToken)');
  }

  // ------------------------------------------------------------ 6. tools: the caller's Entra token

  /**
   * A Microsoft Graph token for the user behind an MCP request, from that request's session.
   * Renewed silently by MSAL when it has expired; throws SignInRequiredError when only the user can help.
   */
  async graphTokenFor(authInfo: AuthInfo): Promise<string> {
    const sessionId = authInfo.extra?.sessionId;
    if (typeof sessionId !== 'string') throw new SignInRequiredError('This request carries no session. Sign in again.');
    const inFlight = this.renewing.get(sessionId);
    if (inFlight) return inFlight;
    const pending = this.renewGraphToken(sessionId)
      .catch((error: unknown) => {
        // MSAL says "network_error: Network request failed: fetch failed"; the person needs the cause in words.
        if (error instanceof AuthError || isUnreachable(error)) throw new Error(describeEntraError(error, this.config), { cause: error });
        throw error;
      })
      .finally(() => this.renewing.delete(sessionId));
    this.renewing.set(sessionId, pending);
    return pending;
  }

  private async renewGraphToken(sessionId: string): Promise<string> {
    // TODO 3.9 (part 1): Read the session (gone: throw SignInRequiredError), get a Graph token with
    // this.entra.graphToken(session), and save the session again when the returned cache changed.
    // On SignInRequiredError, end the session before you rethrow. See README, step 3.9.
    throw new Error('TODO 3.9: a Graph token for the session (provider.ts, renewGraphToken)');
  }

  // ------------------------------------------------------------ helpers

  /** New opaque tokens for a session: random, short-lived, stored only as hashes. */
  private async issueTokens(sessionId: string, session: Session, scopes: string[], resource: string): Promise<OAuthTokens> {
    const accessToken = randomToken();
    const refreshToken = randomToken();
    const accessExpiresAt = Math.min(this.now() + this.lifetimes.accessTokenSeconds * 1000, session.expiresAt);
    const grant = { sessionId, clientId: session.clientId, scopes, resource };
    await this.accessTokens.set(hash(accessToken), { ...grant, expiresAt: accessExpiresAt }, this.secondsUntil(accessExpiresAt));
    await this.refreshTokens.set(hash(refreshToken), { ...grant, expiresAt: session.expiresAt }, this.secondsUntil(session.expiresAt));
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.secondsUntil(accessExpiresAt),
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    };
  }

  /** Ends a session: every token that names it stops working, and its Entra tokens are gone. */
  private async endSession(sessionId: string): Promise<void> {
    await this.sessions.delete(sessionId);
  }

  /** The scopes to grant: those asked for (all of ours when none), refusing any we do not offer. */
  private grantableScopes(requested: string[] = []): string[] {
    // offline_access is implied: we always issue refresh tokens.
    const asked = requested.filter((scope) => scope && scope !== 'offline_access');
    if (asked.length === 0) return Object.keys(SCOPES);
    const unknown = asked.filter((scope) => !(scope in SCOPES));
    if (unknown.length > 0) throw new InvalidScopeError(`Unknown scope ${unknown.join(' ')}; this server offers ${Object.keys(SCOPES).join(' ')}.`);
    return [...new Set(asked)];
  }

  /** RFC 8707: tokens from here are for this MCP endpoint only. */
  private checkResource(resource: URL | undefined): string {
    const ours = this.config.mcpUrl.href;
    if (resource && resource.href !== ours) throw new InvalidTargetError(`This server only issues tokens for ${ours}, not ${resource.href}.`);
    return ours;
  }

  /** Sends the browser to the client's redirect URI, which always comes from our own records, never from the request. */
  private redirectToClient(res: Response, to: { redirectUri: string; state?: string }, params: Record<string, string>): void {
    const url = new URL(to.redirectUri);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    if (to.state !== undefined) url.searchParams.set('state', to.state);
    res.set('Cache-Control', 'no-store').redirect(302, url.href);
  }

  /**
   * The cookie that ties a flow to one browser. `__Host-` cookies must be Secure, which needs https;
   * on http://localhost the cookie is plain (still HttpOnly and SameSite=Lax).
   */
  private get cookie() {
    const secure = this.config.baseUrl.protocol === 'https:';
    return { name: secure ? '__Host-mcp_auth' : 'mcp_auth', attributes: `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}` };
  }

  /** Gives the browser its flow cookie (keeping the one it has) and returns the value's hash. */
  private bindBrowser(req: Request, res: Response): string {
    const { name, attributes } = this.cookie;
    const current = readCookie(req, name);
    const value = current && /^[\w-]{43}$/.test(current) ? current : randomToken();
    res.append('Set-Cookie', `${name}=${value}; ${attributes}; Max-Age=${this.lifetimes.consentSeconds}`);
    return hash(value);
  }

  private isSameBrowser(req: Request, expected: string): boolean {
    const value = readCookie(req, this.cookie.name);
    return value !== undefined && hash(value) === expected;
  }

  private secondsUntil(epochMs: number): number {
    return Math.ceil((epochMs - this.now()) / 1000);
  }
}

/** 256 random bits, URL-safe: unguessable codes, tokens, states and request IDs. */
function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Codes and tokens are stored by hash, so a dump of the store holds nothing usable. */
function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
