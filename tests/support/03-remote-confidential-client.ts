/**
 * Lesson 3's test helpers: an MCP client's side of OAuth (the SDK's OAuthClientProvider, kept in
 * memory), and a person's side of the browser (consent page, then the emulator's sign-in page).
 */
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { findUser } from '../../shared/emulator/directory.ts';
import type { Browser, Form, Page, Stop } from './browser.ts';

/** Where test clients want their codes. Nobody listens there: the browser stops before following. */
export const CLIENT_REDIRECT_URI = 'http://localhost:8976/oauth/callback';

/**
 * An MCP client's OAuth state, as a desktop app would keep it: registration, PKCE verifier, tokens.
 * `redirectToAuthorization` only records the URL; the test then walks it with a Browser.
 */
export class TestOAuthClient implements OAuthClientProvider {
  /** The authorization URL the SDK wanted to open, if any. */
  authorizationUrl?: URL;
  /** The state the SDK put into the last authorization URL. */
  lastState?: string;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier?: string;

  constructor(
    readonly clientName = 'Workshop Test Client',
    readonly redirectUrl: string = CLIENT_REDIRECT_URI,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }

  clientInformation() {
    return this.info;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('The SDK asked for a PKCE verifier before it saved one.');
    return this.verifier;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  /** The registered client_id (after dynamic registration). */
  get clientId(): string | undefined {
    return this.info?.client_id;
  }
}

/** The consent page's form and its two buttons, or undefined when the page has none. */
export function consentForm(page: Page): { form: Form; approve: Form['buttons'][number]; deny: Form['buttons'][number] } | undefined {
  for (const form of page.forms) {
    const approve = form.buttons.find((b) => b.name === 'decision' && b.value === 'approve');
    const deny = form.buttons.find((b) => b.name === 'decision' && b.value === 'deny');
    if (approve && deny) return { form, approve, deny };
  }
  return undefined;
}

/** The emulator's sign-in form, or undefined when this is not the emulator's sign-in page. */
export function entraSignInForm(page: Page): Form | undefined {
  return page.forms.find((form) => form.buttons.some((b) => b.name === 'user'));
}

/** Picks a test user on the emulator's sign-in page. */
export function pickUser(browser: Browser, form: Form, user: string, stopAt: (url: URL) => boolean): Promise<Stop> {
  const account = findUser(user);
  if (!account) throw new Error(`No test user "${user}".`);
  return browser.submit(form, { name: 'user', value: account.oid }, {}, { stopAt });
}

/** Visible text of a page, for messages. */
export function pageText(page: Page): string {
  return page.html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** One line about where a browser stopped, for messages. */
export function describeStop(stop: Stop): string {
  return stop.kind === 'redirect'
    ? `a redirect (${stop.status}) to ${stop.location.href}`
    : `a page at ${stop.page.url.href} (HTTP ${stop.page.status}): "${pageText(stop.page).slice(0, 160)}"`;
}
