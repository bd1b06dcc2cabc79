/**
 * The token verifier: decides, for every request, whether an access token was issued by our tenant
 * for this API, and who it speaks for. It runs locally with jose; no call to Entra ID per request.
 *
 * Rules: https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 * MCP:   https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { WorkshopConfig } from '../../shared/config.ts';

/** How far the clocks of Entra ID and this server may drift apart, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;

/** What the tools learn about the caller, in `extra.authInfo.extra`. */
export interface CallerClaims {
  /** The caller's object ID: the user, or the calling app's service principal. Stable within the tenant. */
  oid: string;
  tid: string;
  /** App roles (`roles`): assigned to the user, or granted to the calling app. */
  roles: string[];
  /** True for app-only tokens (client credentials): no user, so no delegated scopes. */
  appOnly: boolean;
  /** Display name, for greetings only: never authorize on it. */
  name?: string;
}

/** The caller a verified request carries: the `extra` this verifier put into its AuthInfo. */
export function callerOf(auth: AuthInfo): CallerClaims {
  return auth.extra as unknown as CallerClaims;
}

/**
 * Builds the verifier `requireBearerAuth` calls. Make it once per process: the JWKS it holds caches
 * the tenant's signing keys, refetches them when a token names an unknown `kid`, and waits 30 s
 * (jose's cooldown) before it refetches again, so a flood of made-up `kid`s cannot hammer Entra ID.
 */
export function createEntraVerifier(config: WorkshopConfig): OAuthTokenVerifier {
  // TODO 4.2: Create the tenant's key set here, once per process: createRemoteJWKSet(new URL(config.entra.jwksUri)).

  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      // TODO 4.2: Verify `token` with jwtVerify(token, jwks, { … }): RS256 only, the tenant's issuer,
      // our API's client ID as audience, a small clock tolerance (CLOCK_SKEW_SECONDS). Turn every
      // failure into `rejection(error)` and throw that, then return toAuthInfo(token, payload, config).
      // See README, step 4.2.
      throw new Error('TODO 4.2: verify the access token with jose (README, step 4.2).');
    },
  };
}

/**
 * The checks jose does not know about, then what the tools may learn about the caller.
 * `payload` has a valid signature, issuer, audience and lifetime by now.
 */
function toAuthInfo(token: string, payload: JWTPayload, config: WorkshopConfig): AuthInfo {
  // TODO 4.3: Refuse (InvalidTokenError) a `tid` other than config.entra.tenantId and a `ver` other
  // than "2.0". Then return the AuthInfo: token, clientId (azp), scopes (each scp value prefixed with
  // `${config.entra.apiAppIdUri}/`), expiresAt (exp, in seconds), resource (config.mcpUrl) and
  // extra: a CallerClaims (oid, tid, roles, appOnly, name). See README, step 4.3.
  throw new Error('TODO 4.3: check tid and ver, and build the AuthInfo (README, step 4.3).');
}

/**
 * The tenant's signing keys could not be fetched: no answer, a timeout, or an error page instead of a
 * JWKS. Meanwhile no token can be proven valid *or* invalid, so app.ts answers 503 with Retry-After
 * instead of a 401 that would make the client throw away a token that may be good (README, step 4.2).
 */
export class SigningKeysUnavailableError extends Error {
  override name = 'SigningKeysUnavailableError';
}

/**
 * What to throw when jwtVerify fails: InvalidTokenError (a 401 from requireBearerAuth) when the token
 * is at fault, SigningKeysUnavailableError when the keys to judge it could not be fetched.
 */
function rejection(error: unknown): Error {
  if (keysUnreachable(error)) {
    const cause = error instanceof errors.JWKSTimeout ? 'timeout' : error instanceof Error ? error.message : String(error);
    return new SigningKeysUnavailableError(`The tenant's signing keys could not be fetched (${cause}), so no token can be checked. Try again shortly.`);
  }
  return new InvalidTokenError(describeFailure(error));
}

/** Not the token's fault: jose could not get the JWKS (network, timeout, not a 200 with a key set). */
function keysUnreachable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  // jose's own words when the JWKS endpoint answers with something other than a key set.
  if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(error.message);
  // Not a JOSE error at all: fetch itself failed (no connection, DNS).
  return true;
}

/** One short reason, for the 401's error_description. Never the token itself. */
function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) return `The token's "${error.claim}" claim is not valid here (${error.reason}).`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The token is not signed with RS256.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'The token was not signed by one of the tenant\'s keys.';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token\'s signature is not valid.';
  if (error instanceof errors.JOSEError) return `The token is not valid (${error.code}).`;
  return 'The token is not valid.';
}
