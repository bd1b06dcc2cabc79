/**
 * The upstream side: this server as a confidential client of Microsoft Entra ID.
 *
 * MSAL's ConfidentialClientApplication does the protocol work (sign-in URL, code redemption, token
 * cache, silent renewal). What we add is where the cache lives: each session carries its own
 * serialized MSAL cache, so one user's Entra tokens can never answer for another user, and ending a
 * session throws its Entra tokens away with it.
 */
import { ConfidentialClientApplication, CryptoProvider, InteractionRequiredAuthError, LogLevel, ServerError, type AccountInfo } from '@azure/msal-node';
import type { WorkshopConfig } from '../../shared/config.ts';

/** What the server asks Entra ID for: read the user's profile in Microsoft Graph. MSAL adds openid, profile and offline_access. */
export const GRAPH_SCOPES = ['User.Read'];

/** A finished Entra sign-in: who signed in, and the MSAL cache that holds their tokens. */
export interface EntraSignIn {
  /** MSAL's key for the account in the cache (`<oid>.<tid>`). */
  homeAccountId: string;
  user: { oid: string; tenantId: string; name: string; username: string };
  /** The serialized MSAL token cache: this user's Entra access, refresh and ID tokens. */
  tokenCache: string;
}

/** Raised when Entra ID needs the user again (their refresh token was revoked or expired). */
export class SignInRequiredError extends Error {
  /** Stable, unlike the message (jose's style): what code that handles it can rely on. */
  readonly code = 'ERR_SIGN_IN_REQUIRED';
  override name = 'SignInRequiredError';
}

export class EntraClient {
  constructor(private readonly config: WorkshopConfig) {}

  /** A PKCE pair for our own request to Entra ID (RFC 7636). */
  generatePkce(): Promise<{ verifier: string; challenge: string }> {
    return new CryptoProvider().generatePkceCodes();
  }

  /**
   * The Entra ID sign-in URL for one browser, carrying our own `state` and PKCE challenge.
   * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
   */
  signInUrl(o: { state: string; codeChallenge: string }): Promise<string> {
    return this.msal().getAuthCodeUrl({
      scopes: GRAPH_SCOPES,
      redirectUri: this.config.callbackUrl.href,
      state: o.state,
      codeChallenge: o.codeChallenge,
      codeChallengeMethod: 'S256',
      // Let the person pick the account, instead of silently reusing whoever is signed in.
      prompt: 'select_account',
    });
  }

  /** Redeems Entra's authorization code, proving who we are with the client secret. */
  async redeemCode(o: { code: string; codeVerifier: string }): Promise<EntraSignIn> {
    const app = this.msal();
    const result = await app.acquireTokenByCode({
      code: o.code,
      codeVerifier: o.codeVerifier,
      scopes: GRAPH_SCOPES,
      redirectUri: this.config.callbackUrl.href,
    });
    const account = result.account;
    if (!account) throw new Error('Entra ID returned no account (no client_info in the token response).');
    return { homeAccountId: account.homeAccountId, user: userOf(account), tokenCache: app.getTokenCache().serialize() };
  }

  /**
   * A Graph access token for the session's user: from the cache while it is fresh, renewed with
   * the refresh token when it is not. Returns the cache too, which changes when MSAL renews.
   */
  async graphToken(session: { homeAccountId: string; tokenCache: string }): Promise<{ accessToken: string; tokenCache: string }> {
    const app = this.msal();
    const cache = app.getTokenCache();
    cache.deserialize(session.tokenCache);
    const account = await cache.getAccountByHomeId(session.homeAccountId);
    if (!account) throw new SignInRequiredError('The session holds no Entra ID account. Sign in again.');
    try {
      const result = await app.acquireTokenSilent({ account, scopes: GRAPH_SCOPES });
      return { accessToken: result.accessToken, tokenCache: cache.serialize() };
    } catch (error) {
      // A revoked or expired refresh token (invalid_grant) or a new condition to meet (interaction_required):
      // only the user can fix that, by signing in again.
      if (error instanceof InteractionRequiredAuthError || (error instanceof ServerError && error.errorCode === 'invalid_grant')) {
        throw new SignInRequiredError(`Entra ID wants you to sign in again (${error.errorCode}).`);
      }
      throw error;
    }
  }

  /** A fresh MSAL app per use: cheap, and it keeps each session's cache apart. */
  private msal(): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.config.entra.webClientId,
        // A secret proves this server is the registered web app. Lesson 5 replaces it with a credential that cannot leak.
        clientSecret: this.config.entra.webClientSecret,
        ...this.config.entra.msal,
      },
      // Warnings only, on stderr, and never personal data or tokens.
      system: { loggerOptions: { logLevel: LogLevel.Warning, piiLoggingEnabled: false, loggerCallback: (_level, message) => console.error(`[msal] ${message}`) } },
    });
  }
}

function userOf(account: AccountInfo): EntraSignIn['user'] {
  return {
    oid: account.localAccountId,
    tenantId: account.tenantId,
    name: account.name ?? account.username,
    username: account.username,
  };
}
