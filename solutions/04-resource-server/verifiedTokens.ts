/**
 * A small cache of tokens that already passed verification. A client sends the same access token
 * on every request for about an hour, so without it every request pays for an RSA signature check.
 *
 * It accepts nothing the verifier would refuse: an entry is the verifier's own answer for exactly
 * that token string, it is dropped when the token expires, and it lives no longer than jose keeps
 * the signing keys it was checked with (10 minutes), so a withdrawn key is dropped as soon as it
 * would be without the cache. Failures are never cached.
 */
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

export interface VerifiedTokenCacheOptions {
  /** How many tokens to remember; the oldest is forgotten first. */
  maxEntries?: number;
  /** How long to trust an earlier verification, in seconds (jose's JWKS cache keeps keys 10 minutes). */
  maxAgeSeconds?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

export function withVerifiedTokenCache(verifier: OAuthTokenVerifier, options: VerifiedTokenCacheOptions = {}): OAuthTokenVerifier {
  const { maxEntries = 1000, maxAgeSeconds = 600, now = Date.now } = options;
  const verified = new Map<string, { authInfo: AuthInfo; until: number }>();

  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const hit = verified.get(token);
      if (hit && hit.until > now()) return hit.authInfo;
      verified.delete(token);

      const authInfo = await verifier.verifyAccessToken(token);
      const expiresAtMs = (authInfo.expiresAt ?? 0) * 1000;
      verified.set(token, { authInfo, until: Math.min(expiresAtMs, now() + maxAgeSeconds * 1000) });
      // A Map keeps insertion order: the first key is the oldest entry.
      if (verified.size > maxEntries) verified.delete(verified.keys().next().value!);
      return authInfo;
    },
  };
}
