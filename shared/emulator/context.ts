/**
 * What the endpoint handlers share: the emulator's state, clock, settings and keys as one
 * {@link EmulatorContext}, the {@link Exchange} a handler answers, and the records the endpoints keep
 * in the store. The core (entra.ts) builds the context; the handler modules only read this contract.
 */
import type { JWK } from 'jose';
import type { CertificateStore } from './clientAuth.ts';
import type { TenantEndpoints } from './endpoints.ts';
import type { EmulatorEvent } from './events.ts';
import type { IdentifierUris } from './scopes.ts';
import type { SigningKey } from './keys.ts';
import type { EmulatorStore } from './store.ts';
import type { TokenContext } from './tokens.ts';

/** Lifetimes and intervals of the emulated tenant, all in seconds. */
export interface EmulatorSettings {
  /** Access tokens' lifetime (`exp - iat`). Default 3600. */
  accessTokenLifetimeSeconds: number;
  /** Refresh tokens' lifetime. Default 90 days. */
  refreshTokenLifetimeSeconds: number;
  /** How long an authorization code can be redeemed. Default 600. */
  codeLifetimeSeconds: number;
  /** How long a device code can be approved and redeemed. Default 900. */
  deviceCodeLifetimeSeconds: number;
  /** How long a device-code client should wait between polls (`interval`). Default 5. */
  deviceCodeIntervalSeconds: number;
  /** Lifetime of the tokens the platform's identity endpoint gives managed identities. Default 24 h, as on Azure. */
  managedIdentityTokenLifetimeSeconds: number;
}

/** The defaults of {@link EmulatorSettings}, those of a new Entra tenant. */
export const DEFAULT_SETTINGS: Readonly<EmulatorSettings> = {
  accessTokenLifetimeSeconds: 3600,
  refreshTokenLifetimeSeconds: 90 * 24 * 3600,
  codeLifetimeSeconds: 600,
  deviceCodeLifetimeSeconds: 900,
  deviceCodeIntervalSeconds: 5,
  managedIdentityTokenLifetimeSeconds: 24 * 3600,
};

/** The emulator as its endpoint handlers see it. */
export interface EmulatorContext {
  /** The emulator's origin, e.g. `http://localhost:3100`. */
  readonly origin: string;
  /** The emulated tenant's endpoint URLs under {@link origin}. */
  readonly endpoints: TenantEndpoints;
  /** Live settings: a test may change them between requests. */
  readonly settings: EmulatorSettings;
  /** Codes, refresh tokens, device codes and sessions. */
  readonly store: EmulatorStore;
  /** Certificates registered as client credentials. */
  readonly certificates: CertificateStore;
  /** Each app's Application ID URIs in this emulator (the directory's, with the URL the lesson serves). */
  readonly identifierUris: IdentifierUris;
  /** The clock, in epoch milliseconds. */
  now(): number;
  /** Tells the subscribers of `emulator.events` what happened. */
  emit(event: EmulatorEvent): void;
  /** The issuer, tenant, time (epoch seconds) and lifetime that new tokens get. */
  tokenContext(): TokenContext;
  /** The keys that sign new tokens: the newest tenant key, and Graph's own key. */
  signingKeys(): { tenant: SigningKey; graph: SigningKey };
  /** The tenant's published signing keys, as the JWKS endpoint serves them. */
  jwks(): { keys: JWK[] };
}

/** One request as a route handler receives it. */
export interface Exchange {
  request: Request;
  url: URL;
  /** The segments the route's `:name` parts captured, e.g. `tenant`. */
  params: Record<string, string>;
  emulator: EmulatorContext;
}

/**
 * Answers one request. It may throw an `EntraError`: the core turns it into Entra's JSON error
 * response and a `request-refused` event.
 */
export type RouteHandler = (exchange: Exchange) => Response | Promise<Response>;

/** An authorization code, stored under the code (collection `codes`). */
export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  userOid: string;
  scope: string;
  resource?: string;
  codeChallenge?: string;
  nonce?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  redeemed: boolean;
}

/** A refresh token, stored under the token (collection `refreshTokens`). */
export interface RefreshRecord {
  clientId: string;
  userOid: string;
  scope: string;
  resource?: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds. */
  expiresAt: number;
  used: boolean;
  /** Set by `revokeUserSessions` on the tokens that existed then. */
  revoked?: boolean;
}

/** A device code (RFC 8628), stored under the device code (collection `deviceCodes`). */
export interface DeviceRecord {
  clientId: string;
  scope: string;
  userCode: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  status: 'pending' | 'approved' | 'declined';
  /** The user who approved it. */
  userOid?: string;
}

/** A browser session at the emulator, stored under the session cookie's value (collection `sessions`). */
export interface SessionRecord {
  userOid: string;
}
