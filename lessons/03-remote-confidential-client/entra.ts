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
    // TODO 3.4 (part 2): Build the sign-in URL with this.msal().getAuthCodeUrl({ … }): GRAPH_SCOPES, the
    // callback URL as redirectUri, our state and S256 code challenge. See README, step 3.4.
    throw new Error('TODO 3.4: the Entra ID sign-in URL (entra.ts, signInUrl)');
  }

  /** Redeems Entra's authorization code, proving who we are with the client secret. */
  async redeemCode(o: { code: string; codeVerifier: string }): Promise<EntraSignIn> {
    // TODO 3.5 (part 2): Redeem the code with acquireTokenByCode({ code, codeVerifier, scopes, redirectUri })
    // on one MSAL app, and return the account's homeAccountId, userOf(account), and that app's
    // serialized token cache. See README, step 3.5.
    throw new Error('TODO 3.5: redeem Entra\'s code (entra.ts, redeemCode)');
  }

  /**
   * A Graph access token for the session's user: from the cache while it is fresh, renewed with
   * the refresh token when it is not. Returns the cache too, which changes when MSAL renews.
   */
  async graphToken(session: { homeAccountId: string; tokenCache: string }): Promise<{ accessToken: string; tokenCache: string }> {
    // TODO 3.9 (part 2): Load session.tokenCache into a fresh MSAL app (getTokenCache().deserialize), find
    // the account by homeAccountId, acquireTokenSilent({ account, scopes: GRAPH_SCOPES }), and return the
    // token with the serialized cache. Turn "only the user can fix this" errors into SignInRequiredError.
    // See README, step 3.9.
    throw new Error('TODO 3.9: a Graph token, silently (entra.ts, graphToken)');
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
