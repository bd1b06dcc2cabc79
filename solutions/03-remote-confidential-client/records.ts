/**
 * What this authorization server remembers between requests, and for how long.
 *
 * A sign-in leaves a trail of short-lived records: a pending consent, a sign-in waiting for Entra ID,
 * one of our authorization codes, then a session with access and refresh tokens that name it. Each
 * kind has its own expiring store (sessions.ts). Every step of the flow (consent.ts, callback.ts,
 * tokens.ts, graphTokens.ts) reads and writes them through the `FlowContext` the provider builds.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { WorkshopConfig } from '../../shared/config.ts';
import type { FlowCookie } from './browser.ts';
import type { EntraClient, EntraSignIn } from './entra.ts';
import type { SessionStore } from './sessions.ts';

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
export interface PendingConsent {
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
export interface PendingSignIn extends PendingConsent {
  /** The PKCE verifier of our own request to Entra ID. */
  entraCodeVerifier: string;
}

/** One of our authorization codes. After its single use it stays as a marker, without the Entra tokens. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  signIn?: EntraSignIn;
  /** Set when the code was redeemed: the session it started. */
  sessionId?: string;
}

/** What one of our access or refresh tokens stands for. */
export interface TokenGrant {
  sessionId: string;
  clientId: string;
  scopes: string[];
  resource: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Refresh tokens: set once exchanged (they rotate). */
  used?: boolean;
}

/** What the steps of the flow share: settings, Entra ID, the clock, the flow cookie and the stores. */
export interface FlowContext {
  config: WorkshopConfig;
  entra: EntraClient;
  lifetimes: Lifetimes;
  clock: Clock;
  cookie: FlowCookie;
  /** Keyed by the random request ID the consent form sends back. */
  consents: SessionStore<PendingConsent>;
  /** Keyed by the `state` of our own request to Entra ID. */
  signIns: SessionStore<PendingSignIn>;
  /** Keyed by the hash of our authorization code. */
  codes: SessionStore<CodeGrant>;
  /** Keyed by the hash of the access token. */
  accessTokens: SessionStore<TokenGrant>;
  /** Keyed by the hash of the refresh token. */
  refreshTokens: SessionStore<TokenGrant>;
  /** Keyed by a random session ID, which our tokens name. */
  sessions: SessionStore<Session>;
}

/** The server's clock. Tests move it instead of sleeping. */
export class Clock {
  /** @param now the time in epoch milliseconds */
  constructor(readonly now: () => number = Date.now) {}

  /** Whole seconds from now until `epochMs`: a store's TTL, or a token's `expires_in`. */
  secondsUntil(epochMs: number): number {
    return Math.ceil((epochMs - this.now()) / 1000);
  }
}

/** Ends a session: every token that names it stops working, and its Entra tokens are gone. */
export function endSession(sessions: SessionStore<Session>, sessionId: string): Promise<void> {
  return sessions.delete(sessionId);
}

/** 256 random bits, URL-safe: unguessable codes, tokens, states and request IDs. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Codes and tokens are stored by hash, so a dump of the store holds nothing usable. */
export function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
