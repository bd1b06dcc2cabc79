/**
 * An MCP client's side of OAuth, kept in memory: the SDK's `OAuthClientProvider` as a desktop app
 * would implement it (registration, PKCE verifier, tokens). The demos and the tests drive the SDK's
 * own client with it; `redirectToAuthorization` only records the URL, for a browser to open.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface MemoryOAuthClientOptions {
  clientName: string;
  /** Where the client wants its authorization code (a loopback URI). */
  redirectUrl: string;
  /** A pre-registered client ID (Entra ID has no dynamic registration); without it the SDK registers. */
  clientId?: string;
}

export class MemoryOAuthClient implements OAuthClientProvider {
  /** The authorization URL the SDK wanted to open, if any. */
  authorizationUrl?: URL;
  /** The state the SDK put into the last authorization URL: the answer must carry it back. */
  lastState?: string;
  readonly redirectUrl: string;
  private info?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier?: string;

  constructor(private readonly options: MemoryOAuthClientOptions) {
    this.redirectUrl = options.redirectUrl;
    if (options.clientId) this.info = { client_id: options.clientId };
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  /** The registered client ID (pre-registered, or after dynamic registration). */
  get clientId(): string | undefined {
    return this.info?.client_id;
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
}
