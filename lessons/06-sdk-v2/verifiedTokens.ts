/**
 * A small cache of tokens that already passed verification. A client sends the same access token
 * on every request for about an hour, so without it every request pays for an RSA signature check.
 *
 * An entry is the verifier's own answer for exactly that token string; failures are never cached.
 * It ends when the token expires, and at the latest 10 minutes after the check (jose's JWKS keeps
 * fetched keys that long before it reads them again). The one thing the cache trades away: when
 * Entra ID withdraws a signing key, a token already accepted with it can keep working for up to
 * 10 minutes after jose itself has refetched the keys and stopped trusting it. Lower
 * `maxAgeSeconds` if that matters more than speed.
 */
import type { AuthInfo, OAuthTokenVerifier } from '@modelcontextprotocol/server';

export interface VerifiedTokenCacheOptions {
  /** How many tokens to remember; the oldest is forgotten first. */
  maxEntries?: number;
  /** How long to trust an earlier verification, in seconds (default 600: as long as jose's JWKS keeps keys). */
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
