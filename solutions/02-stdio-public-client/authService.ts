/**
 * Lesson 2: signing the user in with an MSAL public client, and keeping them signed in.
 *
 * `acquireToken()` returns an access token for Microsoft Graph: silently from the token cache when
 * it can, through an interactive sign-in in the system browser (or the device code flow) when it must.
 */
import {
  InteractionRequiredAuthError,
  LogLevel,
  PublicClientApplication,
  ServerError,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import type { MsalAuthorityOptions } from '../../shared/config.ts';
import { firstLine } from '../../shared/errorText.ts';
import { openSystemBrowser } from './systemBrowser.ts';
import { createFileCachePlugin, type Log } from './tokenCache.ts';

/** Delegated permission to read the signed-in user's profile: all that Graph `/me` needs. */
export const GRAPH_SCOPES = ['User.Read'];

export interface AuthenticationOptions {
  /** The public client's Application (client) ID. */
  clientId: string;
  /** Authority settings for MSAL (`config.entra.msal`): offline they name the emulator's endpoints. */
  msal: MsalAuthorityOptions;
  /** Where the token cache is kept, e.g. `.lab/lesson-02/token-cache.json`. */
  cachePath: string;
  /** Opens the sign-in page. Default: the system browser. Tests pass a headless one. */
  openBrowser?: (url: string) => Promise<void>;
  /** Sign in with the device code flow instead of a browser. Default: only when no browser can open. */
  deviceCode?: boolean;
  /** Where log lines go. Default: stderr, because stdout belongs to the MCP protocol. */
  log?: Log;
}

export interface AcquireOptions {
  /** Ignore the cached access token and redeem the refresh token for a new one. */
  forceRefresh?: boolean;
}

/** Where the sign-in page tells the user to go next; the browser shows it after the redirect. */
const SUCCESS_PAGE = '<p>Signed in. You can close this tab and go back to your MCP client.</p>';
const ERROR_PAGE = '<p>Sign-in did not complete. You can close this tab; your MCP client shows what went wrong.</p>';

export class AuthenticationService {
  private readonly pca: PublicClientApplication;
  private readonly log: Log;
  private readonly openBrowser: (url: string) => Promise<void>;
  private readonly useDeviceCode: boolean;
  /** The sign-in in progress, shared by every caller that arrives meanwhile. */
  private inFlight: Promise<string> | undefined;
  /** The account we signed in last; the cache may hold others. */
  private account: AccountInfo | undefined;

  constructor(options: AuthenticationOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.openBrowser = options.openBrowser ?? openSystemBrowser;
    this.useDeviceCode = options.deviceCode ?? false;

    // A public client: no secret, because anything shipped to the user's machine can be read there.
    // It proves itself with its client ID, a loopback redirect URI and PKCE instead.
    this.pca = new PublicClientApplication({
      auth: { clientId: options.clientId, ...options.msal },
      cache: { cachePlugin: createFileCachePlugin(options.cachePath, this.log) },
      system: {
        loggerOptions: {
          // stdout is the JSON-RPC stream: MSAL's own log lines must go to our stderr logger.
          loggerCallback: (_level, message) => this.log(`[msal] ${message}`),
          logLevel: LogLevel.Warning,
          piiLoggingEnabled: false,
        },
      },
    });
  }

  /**
   * An access token for Microsoft Graph. Callers that arrive while a sign-in is running wait for
   * that one instead of opening a second browser tab.
   */
  acquireToken(options: AcquireOptions = {}): Promise<string> {
    this.inFlight ??= this.acquire(options).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Silent first; interactive only when the cache cannot help. */
  private async acquire(options: AcquireOptions): Promise<string> {
    const account = await this.cachedAccount();
    if (account) {
      try {
        // From the cache while the access token is valid (MSAL renews it 5 minutes before it
        // expires), else by redeeming the cached refresh token. No user interaction either way.
        const result = await this.pca.acquireTokenSilent({ account, scopes: GRAPH_SCOPES, forceRefresh: options.forceRefresh });
        this.account = result.account ?? account;
        return result.accessToken;
      } catch (error) {
        if (!needsSignIn(error)) throw error;
        this.log(`Your sign-in as ${account.username} has to be renewed (${firstLine(error)}).`);
      }
    }
    const result = await this.signIn();
    this.account = result.account ?? undefined;
    this.log(`Signed in as ${result.account?.username ?? 'an unknown account'}.`);
    return result.accessToken;
  }

  /** The account to renew silently: the one we signed in last, else the first in the cache (after a restart). */
  private async cachedAccount(): Promise<AccountInfo | undefined> {
    const accounts = await this.pca.getAllAccounts();
    return accounts.find((a) => a.homeAccountId === this.account?.homeAccountId) ?? accounts[0];
  }

  /** One interactive sign-in: the system browser when possible, else the device code flow. */
  private async signIn(): Promise<AuthenticationResult> {
    if (!this.useDeviceCode) {
      let browserFailed: Error | undefined;
      try {
        this.log('Opening your browser to sign in…');
        // MSAL starts a loopback server on http://localhost:<free port>, sends the browser to the
        // authorize endpoint with PKCE, and receives the code there (response_mode=form_post).
        return await this.pca.acquireTokenInteractive({
          scopes: GRAPH_SCOPES,
          openBrowser: async (url) => {
            try {
              await this.openBrowser(url);
            } catch (error) {
              browserFailed = error as Error;
              throw error;
            }
          },
          successTemplate: SUCCESS_PAGE,
          errorTemplate: ERROR_PAGE,
        });
      } catch (error) {
        // Only a browser that could not open leads to the device code; a cancelled or failed
        // sign-in is the user's answer and goes back to the caller.
        if (!browserFailed) throw error;
        this.log(`Could not open a browser (${browserFailed.message}); signing in with a device code instead.`);
      }
    }
    const result = await this.pca.acquireTokenByDeviceCode({
      scopes: GRAPH_SCOPES,
      // The prompt is for a person: stderr, which MCP clients show in their server log.
      deviceCodeCallback: (response) => this.log(response.message),
    });
    if (!result) throw new Error('The device code sign-in ended without a result. Call the tool again to retry.');
    return result;
  }
}

/** Whether an error from acquireTokenSilent means that the user has to sign in again. */
function needsSignIn(error: unknown): boolean {
  // MSAL raises InteractionRequiredAuthError for most of these, but a refresh token that Entra
  // refuses (revoked: AADSTS50173, expired: AADSTS700082) comes back as a ServerError invalid_grant.
  // https://learn.microsoft.com/entra/identity-platform/refresh-tokens#token-revocation
  return error instanceof InteractionRequiredAuthError || (error instanceof ServerError && error.errorCode === 'invalid_grant');
}
