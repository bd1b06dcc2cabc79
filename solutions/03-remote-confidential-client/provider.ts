/**
 * The MCP server as an OAuth authorization server for MCP clients, backed by Microsoft Entra ID.
 *
 * MCP clients register here (Entra ID has no dynamic client registration), ask the user for consent
 * here, and get tokens from here. The user signs in at Entra ID; this server redeems Entra's code as
 * a confidential client and keeps the Entra tokens in a session. The MCP client only ever holds our
 * own opaque tokens, which name that session.
 *
 * The SDK's `mcpAuthRouter` serves the endpoints (/authorize, /token, /register, /revoke, metadata)
 * and checks what it can (client_id, exact redirect_uri, PKCE S256). This class builds what the steps
 * share and hands each call to the step that decides it:
 *
 *   clients.ts      /register: who may register which redirect URIs
 *   consent.ts      1. /authorize and /consent: the user is asked first       (TODO 3.3, 3.4)
 *   callback.ts     2. /auth/callback: Entra ID answers                       (TODO 3.5)
 *   tokens.ts       3.–5. our codes and tokens: redeem, verify, refresh, revoke (TODO 3.6–3.8)
 *   graphTokens.ts  6. the caller's Graph token, for the tools                 (TODO 3.9)
 */
import type { Request, Response } from 'express';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { FlowCookie } from './browser.ts';
import { CallbackStep } from './callback.ts';
import { RegisteredClients } from './clients.ts';
import { ConsentStep } from './consent.ts';
import { EntraClient } from './entra.ts';
import { GraphTokens } from './graphTokens.ts';
import { Clock, DEFAULT_LIFETIMES, type FlowContext, type Lifetimes } from './records.ts';
import { MemorySessionStore } from './sessions.ts';
import { TokenService } from './tokens.ts';

export interface ProviderOptions {
  config: WorkshopConfig;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  lifetimes?: Partial<Lifetimes>;
  /** The most entries each store keeps. */
  maxEntries?: number;
}

export class EntraBackedProvider implements OAuthServerProvider {
  readonly clientsStore: RegisteredClients;
  private readonly consent: ConsentStep;
  private readonly callback: CallbackStep;
  private readonly tokens: TokenService;
  private readonly graph: GraphTokens;

  constructor(options: ProviderOptions) {
    const clock = new Clock(options.now);
    const lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
    const store = <T>() => new MemorySessionStore<T>({ now: clock.now, maxEntries: options.maxEntries });
    const flow: FlowContext = {
      config: options.config,
      entra: new EntraClient(options.config),
      lifetimes,
      clock,
      cookie: new FlowCookie(options.config.baseUrl, lifetimes.consentSeconds),
      consents: store(),
      signIns: store(),
      codes: store(),
      accessTokens: store(),
      refreshTokens: store(),
      sessions: store(),
    };
    this.clientsStore = new RegisteredClients(store());
    this.consent = new ConsentStep(flow);
    this.callback = new CallbackStep(flow);
    this.tokens = new TokenService(flow);
    this.graph = new GraphTokens(flow);
  }

  // 1. the MCP client asks: consent first (consent.ts)

  authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    return this.consent.authorize(client, params, res);
  }

  decideConsent(req: Request, res: Response): Promise<void> {
    return this.consent.decideConsent(req, res);
  }

  // 2. Entra ID answers (callback.ts)

  completeSignIn(req: Request, res: Response): Promise<void> {
    return this.callback.completeSignIn(req, res);
  }

  // 3.–5. our codes and tokens (tokens.ts)

  challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    return this.tokens.challengeForAuthorizationCode(client, code);
  }

  exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string, codeVerifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    return this.tokens.exchangeAuthorizationCode(client, code, codeVerifier, redirectUri, resource);
  }

  verifyAccessToken(token: string): Promise<AuthInfo> {
    return this.tokens.verifyAccessToken(token);
  }

  exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    return this.tokens.exchangeRefreshToken(client, refreshToken, scopes, resource);
  }

  revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    return this.tokens.revokeToken(client, request);
  }

  // 6. tools: the caller's Entra token (graphTokens.ts)

  graphTokenFor(authInfo: AuthInfo): Promise<string> {
    return this.graph.graphTokenFor(authInfo);
  }
}
