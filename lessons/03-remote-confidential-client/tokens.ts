/**
 * Steps 3 to 5: the tokens this server issues to MCP clients. Redeeming our code at /token, checking
 * the bearer token of every request to /mcp, refresh and revocation.
 *
 * Our tokens are opaque random strings, stored only as hashes. Each names a session (records.ts),
 * which holds the user's Entra tokens; ending the session makes every token that names it worthless.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { InvalidGrantError, InvalidScopeError, InvalidTargetError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { endSession, hash, randomToken, type FlowContext, type Session } from './records.ts';

export class TokenService {
  constructor(private readonly flow: FlowContext) {}

  // ------------------------------------------------------------ 3. the MCP client redeems our code

  /** The SDK checks the client's PKCE verifier against this before it calls exchangeAuthorizationCode. */
  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    // TODO 3.6 (part 1): Find the code (by its hash, in this.flow.codes) for this client and return its codeChallenge; throw
    // InvalidGrantError when it is unknown. See README, step 3.6.
    throw new Error('TODO 3.6: look up the PKCE challenge (tokens.ts, challengeForAuthorizationCode)');
  }

  /** POST /token with grant_type=authorization_code, after the SDK checked the PKCE verifier. */
  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _codeVerifier?: string,
    redirectUri?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const { codes, sessions, clock, lifetimes } = this.flow;
    // TODO 3.6 (part 2): Take the code (single use) and check client and redirect_uri. A code seen before
    // (grant.sessionId set) ends that session and fails. Otherwise start a session in sessions, leave
    // a marker in codes, and return this.issueTokens(…). Errors: InvalidGrantError. See README, step 3.6.
    throw new Error('TODO 3.6: redeem our authorization code (tokens.ts, exchangeAuthorizationCode)');
  }

  // ------------------------------------------------------------ 4. every request to /mcp

  /** Called by requireBearerAuth for every request. Must throw InvalidTokenError (401), never anything else. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const { accessTokens, sessions } = this.flow;
    // TODO 3.7: Look the token up (by its hash) in accessTokens, then its session in sessions.
    // Either missing: throw InvalidTokenError. Return an AuthInfo with expiresAt in seconds, the resource,
    // and extra: { sessionId }. See README, step 3.7.
    throw new Error('TODO 3.7: verify our access tokens (tokens.ts, verifyAccessToken)');
  }

  // ------------------------------------------------------------ 5. refresh and revoke

  /** POST /token with grant_type=refresh_token. */
  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    const { refreshTokens, sessions, clock } = this.flow;
    // TODO 3.8 (part 1): Take the refresh token (single use, by hash). A used one, or another client's,
    // ends the session. Mark it used, check the session is alive, and return this.issueTokens(…) with
    // the same or fewer scopes. Errors: InvalidGrantError. See README, step 3.8.
    throw new Error('TODO 3.8: refresh (tokens.ts, exchangeRefreshToken)');
  }

  /** POST /revoke (RFC 7009). Revoking either token signs the session out: our tokens and the Entra tokens go. */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const { accessTokens, refreshTokens, sessions } = this.flow;
    // TODO 3.8 (part 2): Find the access or refresh token (by hash); if this client owns it, end its
    // session. Unknown tokens are not an error. See README, step 3.8.
    throw new Error('TODO 3.8: revoke (tokens.ts, revokeToken)');
  }

  /** New opaque tokens for a session: random, short-lived, stored only as hashes. */
  private async issueTokens(sessionId: string, session: Session, scopes: string[], resource: string): Promise<OAuthTokens> {
    const { accessTokens, refreshTokens, clock, lifetimes } = this.flow;
    const accessToken = randomToken();
    const refreshToken = randomToken();
    const accessExpiresAt = Math.min(clock.now() + lifetimes.accessTokenSeconds * 1000, session.expiresAt);
    const grant = { sessionId, clientId: session.clientId, scopes, resource };
    await accessTokens.set(hash(accessToken), { ...grant, expiresAt: accessExpiresAt }, clock.secondsUntil(accessExpiresAt));
    await refreshTokens.set(hash(refreshToken), { ...grant, expiresAt: session.expiresAt }, clock.secondsUntil(session.expiresAt));
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: clock.secondsUntil(accessExpiresAt),
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    };
  }
}
