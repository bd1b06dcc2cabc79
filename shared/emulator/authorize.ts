/**
 * The authorization endpoint and its sign-in page, and the end-session (logout) endpoint.
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 *
 *   GET  /{tenant}/oauth2/v2.0/authorize   checks the request, shows the sign-in page (or answers `prompt=none`)
 *   POST /{tenant}/oauth2/v2.0/authorize   the sign-in page's form; without `request`, an authorize request sent as a form
 *   GET  /{tenant}/oauth2/v2.0/logout      ends the browser session
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ALL_APPS, TENANT_ID, USERS, findApp, findUser, type AppRegistration, type TestUser } from './directory.ts';
import { unconsentedPermissions } from './consent.ts';
import type { CodeRecord, EmulatorContext, Exchange, SessionRecord } from './context.ts';
import { EntraError, Errors } from './errors.ts';
import { refusedEvent } from './events.ts';
import { errorPage, formPostPage, htmlResponse, messagePage, signInPage } from './pages.ts';
import { grantedPermissions, resolveScopes, sameLoopbackUri } from './scopes.ts';
import { clientInfo } from './tokens.ts';

/** How the authorization response travels back to the app (`response_mode`). */
type ResponseMode = 'query' | 'fragment' | 'form_post';

/** An authorize request waiting for the user on the sign-in page (collection `authRequests`). */
interface AuthRequest {
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  scope: string;
  resource?: string;
  loginHint?: string;
}

const SESSION_COOKIE = 'emulator_session';
const SIGN_IN_FAILED = 'Sign-in failed';
/** How long a sign-in page can be submitted, in seconds. */
const SIGN_IN_PAGE_LIFETIME = 15 * 60;
/** How long a browser session at the emulator lasts, in seconds. */
const SESSION_LIFETIME = 12 * 3600;

/** `GET /{tenant}/oauth2/v2.0/authorize` (any method but POST): the request is in the query. */
export function authorizeFromQuery({ request, url, emulator }: Exchange): Promise<Response> {
  return startAuthorize(emulator, request, url.searchParams);
}

/** `POST /{tenant}/oauth2/v2.0/authorize`: the sign-in page's answer, or an authorize request sent as a form. */
export async function authorizeFromForm({ request, emulator }: Exchange): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  if (form.has('request')) return completeSignIn(emulator, form);
  return startAuthorize(emulator, request, form);
}

/** `GET /{tenant}/oauth2/v2.0/logout`: ends the browser session, then goes to a registered `post_logout_redirect_uri`. */
export function logout({ request, url, emulator }: Exchange): Response {
  const id = sessionId(request);
  if (id) emulator.store.delete('sessions', id);
  const clear = `${SESSION_COOKIE}=; Path=/; Max-Age=0`;
  const next = url.searchParams.get('post_logout_redirect_uri');
  // Like a redirect URI, the address after sign-out must be registered: no open redirects.
  if (next && ALL_APPS.some((app) => redirectUriMatches(app, next))) {
    return new Response(null, { status: 302, headers: { location: next, 'set-cookie': clear } });
  }
  const response = messagePage('Signed out', 'You signed out of the workshop tenant. You can close this window.');
  response.headers.append('set-cookie', clear);
  return response;
}

/**
 * Whether a redirect URI is registered on an app: exact match, except that loopback redirect URIs
 * match on any port (Entra's localhost exception).
 */
export function redirectUriMatches(client: AppRegistration, redirectUri: string): boolean {
  return client.redirectUris.some((registered) => registered === redirectUri || sameLoopbackUri(registered, redirectUri));
}

async function startAuthorize(emulator: EmulatorContext, request: Request, params: URLSearchParams): Promise<Response> {
  // Until the redirect URI is known to be registered, errors go on a page, never to the URI.
  const client = findApp(params.get('client_id'));
  if (!client) return errorPage(SIGN_IN_FAILED, Errors.unknownClient(params.get('client_id') ?? '(none)').message);
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return errorPage(SIGN_IN_FAILED, Errors.missingParameter('redirect_uri').message);
  if (!redirectUriMatches(client, redirectUri)) return errorPage(SIGN_IN_FAILED, Errors.redirectMismatch(redirectUri, client.clientId).message);
  const mode = params.get('response_mode') ?? 'query';
  const auth: AuthRequest = {
    clientId: client.clientId,
    redirectUri,
    responseMode: mode === 'form_post' || mode === 'fragment' ? mode : 'query',
    state: params.get('state') ?? undefined,
    nonce: params.get('nonce') ?? undefined,
    codeChallenge: params.get('code_challenge') ?? undefined,
    scope: params.get('scope') ?? '',
    resource: params.get('resource') ?? undefined,
    loginHint: params.get('login_hint') ?? undefined,
  };
  try {
    if (params.get('response_type') !== 'code') throw Errors.unsupportedResponseType(params.get('response_type') ?? '(none)');
    if (auth.codeChallenge && (params.get('code_challenge_method') ?? 'plain') !== 'S256') throw Errors.pkceMethod();
    const resolved = resolveScopes(auth.scope, auth.resource, emulator.identifierUris);
    const unconsented = unconsentedPermissions(client, resolved, auth.scope);
    const sessionUser = sessionUserOf(emulator, request);
    const hinted = auth.loginHint ? findUser(auth.loginHint) : undefined;
    if (unconsented.length > 0) {
      const { displayName: resource } = resolved.resource;
      // A silent request cannot show "Need admin approval": it gets consent_required (AADSTS65001).
      if (params.get('prompt') === 'none') {
        const missing = Errors.consentMissing(client.clientId, client.displayName, resource, unconsented);
        throw new EntraError('consent_required', missing.code, missing.description);
      }
      const refused = Errors.adminConsentRequired(client.displayName, resource, unconsented);
      emulator.emit(refusedEvent(refused, client.clientId));
      return errorPage('Need admin approval', refused.message, refused.status);
    }
    if (params.get('prompt') === 'none') {
      if (!sessionUser || (hinted && hinted.oid !== sessionUser.oid)) throw Errors.loginRequired();
      return issueCode(emulator, auth, sessionUser);
    }
    const requestId = randomBytes(18).toString('base64url');
    emulator.store.put('authRequests', requestId, auth, SIGN_IN_PAGE_LIFETIME);
    return htmlResponse(
      signInPage({
        action: emulator.endpoints.authorize,
        requestId,
        client,
        resourceName: resolved.resource.displayName,
        scopes: [...grantedPermissions(resolved, client), ...describeOidcScopes(resolved.oidc)],
        users: USERS,
        hintedOid: (auth.loginHint ? hinted : sessionUser)?.oid,
      }),
    );
  } catch (error) {
    if (!(error instanceof EntraError)) throw error;
    emulator.emit(refusedEvent(error, client.clientId));
    return respondToClient(auth, { error: error.error, error_description: error.message, ...stateOf(auth) });
  }
}

async function completeSignIn(emulator: EmulatorContext, form: URLSearchParams): Promise<Response> {
  const requestId = form.get('request') ?? '';
  const auth = emulator.store.get<AuthRequest>('authRequests', requestId);
  if (!auth) return errorPage(SIGN_IN_FAILED, Errors.authRequestExpired().message);
  emulator.store.delete('authRequests', requestId); // one submission per page
  if (form.get('action') === 'cancel') {
    const declined = Errors.userDeclined();
    return respondToClient(auth, { error: declined.error, error_description: declined.message, ...stateOf(auth) });
  }
  const user = findUser(form.get('user') ?? '');
  if (!user) return errorPage(SIGN_IN_FAILED, 'Pick one of the listed accounts.');
  const newSessionId = randomBytes(18).toString('base64url');
  emulator.store.put<SessionRecord>('sessions', newSessionId, { userOid: user.oid }, SESSION_LIFETIME);
  const response = await issueCode(emulator, auth, user);
  response.headers.append('set-cookie', `${SESSION_COOKIE}=${newSessionId}; Path=/; HttpOnly; SameSite=Lax`);
  return response;
}

async function issueCode(emulator: EmulatorContext, auth: AuthRequest, user: TestUser): Promise<Response> {
  const code = randomBytes(32).toString('base64url');
  const lifetime = emulator.settings.codeLifetimeSeconds;
  const record: CodeRecord = {
    clientId: auth.clientId,
    redirectUri: auth.redirectUri,
    userOid: user.oid,
    scope: auth.scope,
    resource: auth.resource,
    codeChallenge: auth.codeChallenge,
    nonce: auth.nonce,
    expiresAt: emulator.now() + lifetime * 1000,
    redeemed: false,
  };
  // Kept past its lifetime so that a late or repeated redemption gets the precise error.
  emulator.store.put('codes', code, record, lifetime + 3600);
  emulator.emit({ code: 'signed-in', clientId: auth.clientId, user: user.userPrincipalName });
  return respondToClient(auth, { code, ...stateOf(auth), session_state: randomUUID(), client_info: clientInfo(user, TENANT_ID) });
}

function stateOf(auth: AuthRequest): { state?: string } {
  return auth.state ? { state: auth.state } : {};
}

/** Sends the authorization response back to the app in the requested response mode. */
function respondToClient(auth: AuthRequest, params: Record<string, string>): Response {
  if (auth.responseMode === 'form_post') return htmlResponse(formPostPage(auth.redirectUri, params));
  const target = new URL(auth.redirectUri);
  const encoded = new URLSearchParams(params);
  if (auth.responseMode === 'fragment') target.hash = encoded.toString();
  else for (const [name, value] of encoded) target.searchParams.set(name, value);
  return new Response(null, { status: 302, headers: { location: target.href, 'cache-control': 'no-store' } });
}

function sessionId(request: Request): string | undefined {
  const cookie = request.headers.get('cookie') ?? '';
  return cookie.match(new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`))?.[1];
}

function sessionUserOf(emulator: EmulatorContext, request: Request): TestUser | undefined {
  const id = sessionId(request);
  const session = id ? emulator.store.get<SessionRecord>('sessions', id) : undefined;
  return session ? findUser(session.userOid) : undefined;
}

/** Plain words for the OpenID Connect scopes on the sign-in page. */
function describeOidcScopes(oidc: string[]): string[] {
  const profileScopes = oidc.filter((scope) => scope !== 'offline_access');
  const lines: string[] = [];
  if (profileScopes.length > 0) lines.push(`Sign you in and read your basic profile (${profileScopes.join(', ')})`);
  if (oidc.includes('offline_access')) lines.push('Keep access while you are away (offline_access)');
  return lines;
}
