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
    const grant = await this.flow.codes.get(hash(code));
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('The authorization code is unknown or expired.');
    return grant.codeChallenge;
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
    const key = hash(code);
    const grant = await codes.take(key);
    if (!grant || grant.clientId !== client.client_id) throw new InvalidGrantError('The authorization code is unknown or expired.');
    if (grant.sessionId) {
      // A code used twice has leaked: revoke what its first use produced. https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
      await endSession(sessions, grant.sessionId);
      throw new InvalidGrantError('The authorization code was already used; the tokens issued for it are revoked. Sign in again.');
    }
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    if (redirectUri !== undefined && redirectUri !== grant.redirectUri) {
      throw new InvalidGrantError('redirect_uri does not match the one in the authorization request.');
    }
    if (resource && resource.href !== grant.resource) throw new InvalidTargetError(`This server only issues tokens for ${grant.resource}.`);
    if (!grant.signIn) throw new InvalidGrantError('The authorization code is unknown or expired.');

    const sessionId = randomToken();
    const session: Session = {
      clientId: grant.clientId,
      user: grant.signIn.user,
      homeAccountId: grant.signIn.homeAccountId,
      tokenCache: grant.signIn.tokenCache,
      expiresAt: clock.now() + lifetimes.sessionSeconds * 1000,
    };
    await sessions.set(sessionId, session, lifetimes.sessionSeconds);
    // Keep a marker (without the Entra tokens) until the code would have expired, to recognise a second use.
    await codes.set(key, { ...grant, signIn: undefined, sessionId }, clock.secondsUntil(grant.expiresAt));
    return this.issueTokens(sessionId, session, grant.scopes, grant.resource);
  }

  // ------------------------------------------------------------ 4. every request to /mcp

  /** Called by requireBearerAuth for every request. Must throw InvalidTokenError (401), never anything else. */
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const { accessTokens, sessions } = this.flow;
    const grant = await accessTokens.get(hash(token));
    if (!grant) throw new InvalidTokenError('The access token is unknown or expired.');
    const session = await sessions.get(grant.sessionId);
    if (!session) throw new InvalidTokenError('The session behind this access token has ended. Sign in again.');
    return {
      token,
      clientId: grant.clientId,
      scopes: grant.scopes,
      // Seconds, not milliseconds: requireBearerAuth compares it with Date.now() / 1000.
      expiresAt: Math.floor(grant.expiresAt / 1000),
      resource: new URL(grant.resource),
      // Tools find the caller's session here, and only here.
      extra: { sessionId: grant.sessionId },
    };
  }

  // ------------------------------------------------------------ 5. refresh and revoke

  /** POST /token with grant_type=refresh_token. */
  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    const { refreshTokens, sessions, clock } = this.flow;
    const key = hash(refreshToken);
    const grant = await refreshTokens.take(key);
    if (!grant) throw new InvalidGrantError('The refresh token is unknown or expired.');
    if (grant.used || grant.clientId !== client.client_id) {
      // A rotated token came back, or another client holds it: it leaked. End the session. OAuth 2.1 §4.3.1
      await endSession(sessions, grant.sessionId);
      throw new InvalidGrantError('The refresh token was already used or belongs to another client; the session is ended. Sign in again.');
    }
    await refreshTokens.set(key, { ...grant, used: true }, clock.secondsUntil(grant.expiresAt));
    const session = await sessions.get(grant.sessionId);
    if (!session) throw new InvalidGrantError('The session has ended. Sign in again.');
    if (resource && resource.href !== grant.resource) throw new InvalidTargetError(`This server only issues tokens for ${grant.resource}.`);
    const narrowed = scopes?.length ? scopes : grant.scopes;
    // A refresh may narrow the scopes, never widen them (RFC 6749 §6).
    if (narrowed.some((scope) => !grant.scopes.includes(scope))) throw new InvalidScopeError('A refresh cannot add scopes.');
    return this.issueTokens(grant.sessionId, session, narrowed, grant.resource);
  }

  /** POST /revoke (RFC 7009). Revoking either token signs the session out: our tokens and the Entra tokens go. */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const { accessTokens, refreshTokens, sessions } = this.flow;
    const key = hash(request.token);
    const grant = (await accessTokens.get(key)) ?? (await refreshTokens.get(key));
    // Unknown tokens are not an error (RFC 7009 §2.2); only the client a token was issued to may revoke it.
    if (!grant || grant.clientId !== client.client_id) return;
    await endSession(sessions, grant.sessionId);
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
