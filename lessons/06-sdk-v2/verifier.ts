/**
 * The token verifier, as in lesson 4: it decides, for every request, whether an access token was
 * issued by our tenant for this API, and who it speaks for, locally with jose. What v2 changes is
 * how it says no: one `OAuthError` with a code, instead of v1's error class per code.
 *
 * Rules: https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 * MCP:   https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { OAuthError, OAuthErrorCode, type AuthInfo, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import type { WorkshopConfig } from '../../shared/config.ts';

/** How far the clocks of Entra ID and this server may drift apart, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;

/** What the tools learn about the caller, in `ctx.http.authInfo.extra`. */
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
 * the tenant's signing keys and refetches them at most once per 30 s cooldown.
 */
export function createEntraVerifier(config: WorkshopConfig): OAuthTokenVerifier {
  const { entra } = config;
  const jwks = createRemoteJWKSet(new URL(entra.jwksUri));

  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          // RS256 only: refuses `alg: none` and algorithm confusion before any key is looked at.
          algorithms: ['RS256'],
          // Our tenant's v2.0 issuer: all tenants share Entra's signing keys.
          issuer: entra.issuer,
          // v2.0 tokens carry the API's client ID in `aud`: this refuses a Graph token (RFC 8707 §2).
          audience: entra.apiClientId,
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp', 'tid', 'ver', 'oid'],
        }));
      } catch (error) {
        throw rejection(error);
      }
      return toAuthInfo(token, payload, config);
    },
  };
}

/**
 * The tenant's signing keys could not be fetched: no answer, a timeout, or an error page instead of a
 * JWKS. Meanwhile no token can be proven valid *or* invalid, so app.ts answers 503 with Retry-After
 * (as in lesson 4) instead of a 401 that would make the client throw away a token that may be good.
 */
export class SigningKeysUnavailableError extends Error {
  override name = 'SigningKeysUnavailableError';
}

/** What to throw when jwtVerify fails: the token's fault (a 401), or the keys' (a 503, see app.ts). */
function rejection(error: unknown): Error {
  if (keysUnreachable(error)) {
    const cause = error instanceof errors.JWKSTimeout ? 'timeout' : error instanceof Error ? error.message : String(error);
    return new SigningKeysUnavailableError(`The tenant's signing keys could not be fetched (${cause}), so no token can be checked. Try again shortly.`);
  }
  return invalidToken(describeFailure(error));
}

/** Not the token's fault: jose could not get the JWKS (network, timeout, not a 200 with a key set). */
function keysUnreachable(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  // jose's own words when the JWKS endpoint answers with something other than a key set.
  if (error instanceof errors.JOSEError) return error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(error.message);
  // Not a JOSE error at all: fetch itself failed (no connection, DNS).
  return true;
}

/**
 * The refusal `requireBearerAuth` turns into 401 with `WWW-Authenticate: Bearer error="invalid_token"`
 * (RFC 6750 §3.1). v2 classifies errors by their code: any other error, v1's `InvalidTokenError`
 * included, becomes a 500, and the client is never told to get a new token.
 */
function invalidToken(reason: string): Error {
  // TODO 6.2: v2 has no InvalidTokenError class: return an OAuthError (from @modelcontextprotocol/server)
  // with the code OAuthErrorCode.InvalidToken and `reason` as its message. See README, step 6.2.
  return new Error(reason);
}

/** The claims jose does not know about, then what the tools may learn about the caller. */
function toAuthInfo(token: string, payload: JWTPayload, config: WorkshopConfig): AuthInfo {
  const { entra } = config;
  if (payload.tid !== entra.tenantId) throw invalidToken('The token was issued by another tenant.');
  if (payload.ver !== '2.0') throw invalidToken(`Expected a v2.0 access token, got version "${String(payload.ver)}".`);

  const scp = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  const caller: CallerClaims = {
    oid: String(payload.oid),
    tid: entra.tenantId,
    roles,
    appOnly: scp.length === 0,
    name: typeof payload.name === 'string' ? payload.name : undefined,
  };
  return {
    token,
    clientId: String(payload.azp ?? ''),
    // Fully qualified, like the PRM's scopes_supported and the scope challenges.
    scopes: scp.map((name) => `${entra.apiAppIdUri}/${name}`),
    // Seconds since the epoch; v2's bearer check, like v1's, refuses an AuthInfo without it.
    expiresAt: payload.exp,
    // `aud` matched our client ID, so the token is for this resource (compared with expectedResource).
    resource: config.mcpUrl,
    extra: { ...caller },
  };
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
