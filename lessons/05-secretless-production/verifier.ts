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
  const { entra } = config;
  // One JWKS for the life of the process: it fetches the keys on first use and caches them.
  const jwks = createRemoteJWKSet(new URL(entra.jwksUri));

  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          // Only what Entra ID signs with. This refuses `alg: none` and an HMAC token "signed" with
          // our public key (algorithm confusion) before any key is looked at.
          algorithms: ['RS256'],
          // Our tenant's v2.0 issuer, exactly. All tenants share Entra's signing keys, so a valid
          // signature alone proves nothing about *which* tenant issued the token.
          issuer: entra.issuer,
          // v2.0 tokens carry the API's client ID in `aud`, never the Application ID URI. This is
          // what refuses a Graph token or a token for another app (RFC 8707 §2, the confused deputy).
          audience: entra.apiClientId,
          // `exp` and `nbf` are always checked; allow a little drift between the two clocks.
          clockTolerance: CLOCK_SKEW_SECONDS,
          requiredClaims: ['exp', 'tid', 'ver', 'oid'],
        }));
      } catch (error) {
        // requireBearerAuth turns anything but an InvalidTokenError into a 500: map every failure.
        throw rejection(error);
      }
      return toAuthInfo(token, payload, config);
    },
  };
}

/**
 * The checks jose does not know about, then what the tools may learn about the caller.
 * `payload` has a valid signature, issuer, audience and lifetime by now.
 */
function toAuthInfo(token: string, payload: JWTPayload, config: WorkshopConfig): AuthInfo {
  const { entra } = config;
  // Defence in depth: the issuer already names the tenant, but `tid` is the claim Entra documents
  // for tenant checks, and it must agree.
  if (payload.tid !== entra.tenantId) {
    throw new InvalidTokenError('The token was issued by another tenant.');
  }
  // v1.0 tokens have another issuer and audience format; this API asks Entra for v2.0 tokens only
  // (requestedAccessTokenVersion: 2 in its app registration).
  if (payload.ver !== '2.0') {
    throw new InvalidTokenError(`Expected a v2.0 access token, got version "${String(payload.ver)}".`);
  }

  const scp = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  const caller: CallerClaims = {
    oid: String(payload.oid),
    tid: entra.tenantId,
    roles,
    // Delegated tokens always carry `scp`; app-only tokens (client credentials) never do.
    appOnly: scp.length === 0,
    name: typeof payload.name === 'string' ? payload.name : undefined,
  };
  return {
    token,
    clientId: String(payload.azp ?? ''),
    // Fully qualified (`http://localhost:3001/mcp/tools.read`): the same strings as in the Protected
    // Resource Metadata and in our 403 challenges, so a client can ask for them as they are.
    scopes: scp.map((name) => `${entra.apiAppIdUri}/${name}`),
    // Seconds since the epoch, as requireBearerAuth expects (it refuses a token without it).
    expiresAt: payload.exp,
    // `aud` matched our client ID, so the token is for this resource; requireBearerAuth compares
    // this with its `expectedResource`.
    resource: config.mcpUrl,
    extra: { ...caller },
  };
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
