/**
 * Speaking OAuth to the emulator by hand, as an app without MSAL would: authorize URLs with PKCE,
 * a user signing in through the emulator's pages, and raw token requests. The tests of
 * shared/emulator use it to check the wire format itself, whichever origin serves the emulator.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { tenantEndpoints, type TenantEndpoints } from '../../shared/emulator/endpoints.ts';
import { signIn, type Browser, type SignInResult } from './browser.ts';

// The tenant's endpoints under an emulator origin (msw's http://localhost:3100 or a real server).
export { tenantEndpoints, type TenantEndpoints };

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE pair, S256 (RFC 7636 §4.1–4.2). */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorize URL; parameters set to `undefined` are left out. */
export function authorizeUrl(endpoint: string, params: Record<string, string | undefined>): URL {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** The fields of a token endpoint answer, success or Entra error. */
export interface TokenResponseBody {
  token_type?: string;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
  scope?: string;
  expires_in?: number;
  ext_expires_in?: number;
  error?: string;
  error_description?: string;
  error_codes?: number[];
  timestamp?: string;
  trace_id?: string;
  correlation_id?: string;
}

export interface TokenReply {
  status: number;
  headers: Headers;
  body: TokenResponseBody;
}

/** POSTs a form to the token (or device code) endpoint. */
export async function postForm(endpoint: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenReply> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  const text = await response.text();
  let body: TokenResponseBody;
  try {
    body = JSON.parse(text) as TokenResponseBody;
  } catch {
    throw new Error(`Expected JSON from ${endpoint}, got HTTP ${response.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

export interface CodeFlowOptions {
  endpoints: TenantEndpoints;
  clientId: string;
  redirectUri: string;
  scope: string;
  /** Test user (name, UPN or oid). */
  user?: string;
  state?: string;
  /** More authorize parameters (nonce, resource, response_mode, login_hint…). */
  extra?: Record<string, string | undefined>;
  browser?: Browser;
}

export interface IssuedCode {
  code: string;
  verifier: string;
  /** What the app received (code, state, client_info… or an error). */
  result: SignInResult;
}

/** Signs a user in through the sign-in page and returns the authorization code the app received. */
export async function signInForCode(o: CodeFlowOptions): Promise<IssuedCode> {
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(o.endpoints.authorize, {
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    response_type: 'code',
    scope: o.scope,
    state: o.state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...o.extra,
  });
  const result = await signIn(url, o.user ?? 'ada', { redirectUri: o.redirectUri, browser: o.browser });
  const code = result.params.get('code');
  if (!code) throw new Error(`Expected an authorization code, the app received: ${result.params.toString()}`);
  return { code, verifier, result };
}

/** Redeems an authorization code (public client unless `clientSecret` is given). */
export function redeemCode(
  endpoints: TenantEndpoints,
  o: { clientId: string; code: string; redirectUri: string; verifier?: string; clientSecret?: string },
): Promise<TokenReply> {
  const params: Record<string, string> = {
    grant_type: 'authorization_code',
    client_id: o.clientId,
    code: o.code,
    redirect_uri: o.redirectUri,
  };
  if (o.verifier !== undefined) params.code_verifier = o.verifier;
  if (o.clientSecret !== undefined) params.client_secret = o.clientSecret;
  return postForm(endpoints.token, params);
}

/** Signs in and redeems the code in one go; fails the test when no tokens come back. */
export async function codeFlowTokens(o: CodeFlowOptions): Promise<TokenResponseBody & { access_token: string }> {
  const { code, verifier } = await signInForCode(o);
  const reply = await redeemCode(o.endpoints, { clientId: o.clientId, code, redirectUri: o.redirectUri, verifier });
  expect(reply.status, `Redeeming a fresh code should succeed; got ${JSON.stringify(reply.body)}`).toBe(200);
  if (!reply.body.access_token) throw new Error('The token response has no access_token.');
  return reply.body as TokenResponseBody & { access_token: string };
}

/** Asserts an Entra-shaped error: HTTP status, OAuth `error` and the AADSTS code. */
export function expectEntraError(reply: TokenReply, expected: { status?: number; error: string; code: number }, rule: string): void {
  const seen = `${reply.status} ${JSON.stringify({ error: reply.body.error, error_codes: reply.body.error_codes, error_description: reply.body.error_description })}`;
  expect(reply.body.error, `${rule}: expected error "${expected.error}", saw ${seen}`).toBe(expected.error);
  expect(reply.body.error_codes, `${rule}: expected AADSTS${expected.code}, saw ${seen}`).toEqual([expected.code]);
  expect(reply.body.error_description ?? '', `${rule}: error_description should start with AADSTS${expected.code}`).toMatch(
    new RegExp(`^AADSTS${expected.code}:`),
  );
  if (expected.status !== undefined) expect(reply.status, `${rule}: expected HTTP ${expected.status}, saw ${seen}`).toBe(expected.status);
}
