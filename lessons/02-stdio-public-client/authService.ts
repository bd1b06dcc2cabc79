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

    // TODO 2.1: Create the PublicClientApplication and assign it to this.pca: auth (options.clientId,
    // plus the authority settings in options.msal), cache (a cachePlugin from createFileCachePlugin)
    // and system.loggerOptions that send MSAL's log lines to this.log. See README, step 2.1.
    throw new Error('TODO 2.1: create the PublicClientApplication in the AuthenticationService constructor (authService.ts).');
  }

  /**
   * An access token for Microsoft Graph. Callers that arrive while a sign-in is running wait for
   * that one instead of opening a second browser tab.
   */
  acquireToken(options: AcquireOptions = {}): Promise<string> {
    // TODO 2.3: Share one acquisition: if this.inFlight is set, return it; otherwise start
    // this.acquire(options), keep its promise in this.inFlight, and clear it when it settles.
    // See README, step 2.3.
    throw new Error('TODO 2.3: implement acquireToken() in authService.ts.');
  }

  /** Silent first; interactive only when the cache cannot help. */
  private async acquire(options: AcquireOptions): Promise<string> {
    // TODO 2.3: Silent first. Take this.cachedAccount(); if there is one, try
    // this.pca.acquireTokenSilent({ account, scopes: GRAPH_SCOPES, forceRefresh }). When there is no
    // account, or the silent call fails with an error for which needsSignIn(error) is true, call
    // this.signIn(). Remember the account in this.account; return the access token. See README, step 2.3.
    throw new Error('TODO 2.3: implement acquire() in authService.ts.');
  }

  /** The account to renew silently: the one we signed in last, else the first in the cache (after a restart). */
  private async cachedAccount(): Promise<AccountInfo | undefined> {
    const accounts = await this.pca.getAllAccounts();
    return accounts.find((a) => a.homeAccountId === this.account?.homeAccountId) ?? accounts[0];
  }

  /** One interactive sign-in: the system browser when possible, else the device code flow. */
  private async signIn(): Promise<AuthenticationResult> {
    // TODO 2.4: Unless this.useDeviceCode, sign in with this.pca.acquireTokenInteractive (scopes,
    // openBrowser, SUCCESS_PAGE, ERROR_PAGE). Only when the browser could not be opened, fall back to
    // this.pca.acquireTokenByDeviceCode, with a deviceCodeCallback that logs response.message.
    // See README, step 2.4.
    throw new Error('TODO 2.4: implement signIn() in authService.ts.');
  }
}

/** Whether an error from acquireTokenSilent means that the user has to sign in again. */
function needsSignIn(error: unknown): boolean {
  // TODO 2.3: Return true for errors that mean "the user must sign in again". See README, step 2.3.
  throw new Error('TODO 2.3: implement needsSignIn() in authService.ts.');
}
