/**
 * The emulator's discovery, JWKS and authorize endpoint, through plain HTTP as an app and a browser
 * see them: the rules of Entra's v2.0 authorization code flow that lessons 2–4 rely on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS, TENANT_ID, findUser } from '../../shared/emulator/directory.ts';
import { Browser, signIn } from '../support/browser.ts';
import { clock, emulator, offlineConfig } from '../support/lab.ts';
import {
  authorizeUrl,
  codeFlowTokens,
  expectEntraError,
  pkce,
  redeemCode,
  signInForCode,
  tenantEndpoints,
} from '../support/oauth.ts';

const endpoints = tenantEndpoints(offlineConfig.emulatorUrl);
const ORIGIN = offlineConfig.emulatorUrl.origin;
const API_SCOPE = `${offlineConfig.entra.apiAppIdUri}/tools.read`;
/** The pre-registered MCP client's redirect URI `http://localhost/callback`, on some port. */
const CALLBACK = 'http://localhost:49152/callback';
/** The public client's bare loopback redirect URI `http://localhost`, on some port. */
const LOOPBACK = 'http://localhost:49153';

/** An authorize request of the MCP client with PKCE; `params` adds or overrides (undefined drops). */
function mcpClientAuthorize(params: Record<string, string | undefined> = {}): URL {
  return authorizeUrl(endpoints.authorize, {
    client_id: APPS.mcpClient.clientId,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: API_SCOPE,
    state: 'state-123',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...params,
  });
}

/** Fetches without following redirects, as a test of where the emulator sends the browser. */
function fetchManual(url: URL | string): Promise<Response> {
  return fetch(url, { redirect: 'manual' });
}

/** The parameters a 302 carries into the app's redirect URI. */
function redirectParams(response: Response): URLSearchParams {
  const location = response.headers.get('location');
  expect(location, `Expected a redirect to the app, got HTTP ${response.status} without Location`).toBeTruthy();
  return new URL(location!).searchParams;
}

describe('discovery and signing keys', () => {
  it('publishes an OpenID configuration whose issuer and endpoints are the tenant\'s, without PKCE methods or registration', async () => {
    const response = await fetch(endpoints.openIdConfiguration);
    expect(response.status, 'GET openid-configuration should answer 200').toBe(200);
    const doc = (await response.json()) as Record<string, unknown>;
    expect(doc.issuer, 'issuer must equal the config module\'s issuer (the iss of every token)').toBe(offlineConfig.entra.issuer);
    expect(doc.authorization_endpoint, 'authorization_endpoint').toBe(endpoints.authorize);
    expect(doc.token_endpoint, 'token_endpoint').toBe(endpoints.token);
    expect(doc.device_authorization_endpoint, 'device_authorization_endpoint').toBe(endpoints.deviceCode);
    expect(doc.jwks_uri, 'jwks_uri must equal the config module\'s jwksUri').toBe(offlineConfig.entra.jwksUri);
    // Real Entra omits both; MCP clients must cope (lesson 4), so the emulator must not be kinder.
    expect(doc, 'Entra does not advertise code_challenge_methods_supported').not.toHaveProperty('code_challenge_methods_supported');
    expect(doc, 'Entra has no dynamic client registration').not.toHaveProperty('registration_endpoint');
  });

  it('the MSAL authority metadata of the config names the same endpoints as discovery', async () => {
    const doc = (await (await fetch(endpoints.openIdConfiguration)).json()) as Record<string, string>;
    const metadata = JSON.parse(offlineConfig.entra.msal.authorityMetadata!) as Record<string, string>;
    for (const name of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'device_authorization_endpoint']) {
      expect(metadata[name], `config's authorityMetadata.${name} should match discovery`).toBe(doc[name]);
    }
  });

  it('publishes RSA signing keys with a kid, no alg (as Entra does) and no private parts', async () => {
    const response = await fetch(endpoints.jwks);
    expect(response.status, 'GET keys should answer 200').toBe(200);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.length, 'the JWKS should hold at least one key').toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.kty, 'every key is RSA').toBe('RSA');
      expect(key.use, 'every key is for signatures').toBe('sig');
      expect(key, 'like Entra, keys name no alg: verifiers must pin RS256 themselves').not.toHaveProperty('alg');
      expect(typeof key.kid === 'string' && key.kid.length > 0, 'every key has a kid').toBe(true);
      for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
        expect(key, `a published key must not contain the private part "${part}"`).not.toHaveProperty(part);
      }
    }
  });

  it('answers the RFC 8414 probes MCP clients send with 404 and an empty body, as Entra does', async () => {
    for (const url of [
      `${ORIGIN}/.well-known/oauth-authorization-server`,
      `${ORIGIN}/.well-known/oauth-authorization-server/${TENANT_ID}/v2.0`,
      `${ORIGIN}/${TENANT_ID}/v2.0/.well-known/oauth-authorization-server`,
    ]) {
      const response = await fetch(url);
      expect(response.status, `GET ${url} should be 404`).toBe(404);
      expect(await response.text(), `GET ${url} should have an empty body`).toBe('');
    }
  });
});

describe('authorize: who may sign in, and where the answer goes', () => {
  it('shows an error page (AADSTS700016) for an unknown client and never redirects', async () => {
    const response = await fetchManual(mcpClientAuthorize({ client_id: '00000000-1111-2222-3333-444444444444' }));
    expect(response.headers.get('location'), 'an unknown client must not be redirected anywhere').toBeNull();
    expect(response.headers.get('content-type'), 'the error is a page for the user').toMatch(/text\/html/);
    expect(await response.text(), 'the page should name the Entra error').toContain('AADSTS700016');
  });

  it('shows an error page (AADSTS50011) for an unregistered redirect URI and never redirects there, even for a silent request', async () => {
    for (const extra of [{}, { prompt: 'none' }, { scope: 'No.Such.Scope' }]) {
      const response = await fetchManual(mcpClientAuthorize({ redirect_uri: 'https://attacker.example/callback', ...extra }));
      expect(response.headers.get('location'), `no redirect to an unregistered URI (${JSON.stringify(extra)})`).toBeNull();
      expect(await response.text(), 'the page should name AADSTS50011').toContain('AADSTS50011');
    }
  });

  it('matches loopback redirect URIs on any port, but not on a different path', async () => {
    for (const [clientId, redirectUri] of [
      [APPS.publicClient.clientId, 'http://localhost:61234'],
      [APPS.mcpClient.clientId, 'http://localhost:61235/callback'],
      [APPS.webApp.clientId, 'http://localhost:5173/auth/callback'],
    ]) {
      const response = await fetchManual(mcpClientAuthorize({ client_id: clientId, redirect_uri: redirectUri, scope: 'User.Read' }));
      expect(response.status, `${redirectUri} should be accepted for ${clientId}: loopback URIs match on any port`).toBe(200);
      expect(await response.text(), 'the sign-in page should be shown').toContain('Pick an account');
    }
    const otherPath = await fetchManual(mcpClientAuthorize({ redirect_uri: 'http://localhost:61235/elsewhere' }));
    expect(otherPath.headers.get('location'), 'a different path must not be redirected to').toBeNull();
    expect(await otherPath.text(), 'a different path is an unregistered redirect URI').toContain('AADSTS50011');
  });

  it('shows "Need admin approval" (AADSTS90094) to a client the API neither pre-authorizes nor was consented for', async () => {
    // Lesson 2's public client asking for lesson 4's API: the mistake of giving Inspector the wrong client ID.
    const page = await fetchManual(mcpClientAuthorize({ client_id: APPS.publicClient.clientId, redirect_uri: LOOPBACK }));
    const text = await page.text();
    expect(page.headers.get('location'), 'no code, no redirect: the user sees the refusal').toBeNull();
    expect(text, 'the page names Entra\'s code for a consent only an administrator can give').toContain('AADSTS90094');
    expect(text, 'and the permission that lacks consent').toContain('tools.read');
    expect(text, 'no account picker: nobody can sign in past it').not.toContain('Pick an account');
  });

  it('answers a silent request (prompt=none) without consent with consent_required (AADSTS65001)', async () => {
    const params = redirectParams(await fetchManual(mcpClientAuthorize({ client_id: APPS.publicClient.clientId, redirect_uri: LOOPBACK, prompt: 'none' })));
    expect(params.get('error'), 'OpenID Connect\'s error for a missing consent').toBe('consent_required');
    expect(params.get('error_description'), 'Entra\'s code for it').toMatch(/^AADSTS65001:/);
  });

  it('lets a pre-authorized client sign in for the API, and any client sign in with OpenID scopes alone', async () => {
    const preAuthorized = await fetchManual(mcpClientAuthorize());
    expect(await preAuthorized.text(), 'the MCP client is pre-authorized on the API').toContain('Pick an account');
    const signInOnly = await fetchManual(mcpClientAuthorize({ client_id: APPS.publicClient.clientId, redirect_uri: LOOPBACK, scope: 'openid profile' }));
    expect(await signInOnly.text(), 'signing in alone needs no consent').toContain('Pick an account');
  });

  it('signs the MCP client in at both loopback hosts on any port (Inspector at 127.0.0.1 or localhost), but never swaps one host for the other', async () => {
    for (const redirectUri of ['http://127.0.0.1:6274/oauth/callback', 'http://localhost:6274/oauth/callback', 'http://127.0.0.1:50123/callback', 'http://localhost:50124/oauth/callback/debug']) {
      const { code, verifier, result } = await signInForCode({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri, scope: API_SCOPE, user: 'grace' });
      expect(result.url.origin + result.url.pathname, `the code for ${redirectUri} goes back to exactly that URI (AADSTS50011 here would break Inspector)`).toBe(redirectUri);
      const reply = await redeemCode(endpoints, { clientId: APPS.mcpClient.clientId, code, redirectUri, verifier });
      expect(reply.status, `the code issued to ${redirectUri} redeems with the same redirect_uri; got ${JSON.stringify(reply.body)}`).toBe(200);
    }
    // Entra ID matches a loopback URI's host exactly: the web app registered only localhost.
    const swapped = await fetchManual(mcpClientAuthorize({ client_id: APPS.webApp.clientId, redirect_uri: 'http://127.0.0.1:3001/auth/callback', scope: 'User.Read' }));
    expect(swapped.headers.get('location'), '127.0.0.1 is not localhost: no redirect to a host the app did not register').toBeNull();
    expect(await swapped.text(), '127.0.0.1 where only localhost is registered is AADSTS50011').toContain('AADSTS50011');
  });

  it('passes state back to the app with the code (response_mode=query)', async () => {
    const { code, result } = await signInForCode({
      endpoints,
      clientId: APPS.mcpClient.clientId,
      redirectUri: CALLBACK,
      scope: API_SCOPE,
      state: 'opaque-state-value',
    });
    expect(result.url.origin + result.url.pathname, 'the code goes to the registered redirect URI').toBe(CALLBACK);
    expect(result.params.get('state'), 'state must come back unchanged').toBe('opaque-state-value');
    expect(code.length, 'a code is issued').toBeGreaterThan(20);
    expect(result.params.get('client_info'), 'Entra adds client_info to the authorization response').toBeTruthy();
  });

  describe('response_mode=form_post', () => {
    let app: Server | undefined;
    afterEach(async () => {
      if (app) await new Promise((resolve) => app!.close(resolve));
      app = undefined;
    });

    it('answers with a form that posts code and state to the redirect URI', async () => {
      const received: URLSearchParams[] = [];
      app = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          if (req.method === 'POST') received.push(new URLSearchParams(body));
          res.end('Signed in.');
        });
      });
      await new Promise<void>((resolve) => app!.listen(0, 'localhost', resolve));
      const redirectUri = `http://localhost:${(app.address() as AddressInfo).port}/callback`;

      const { params, url, page } = await signIn(
        mcpClientAuthorize({ redirect_uri: redirectUri, response_mode: 'form_post', state: 'posted-state' }),
        'ada',
      );
      expect(url.href, 'the form must post to the redirect URI').toBe(redirectUri);
      expect(params.get('code'), 'the form carries the code').toBeTruthy();
      expect(params.get('state'), 'the form carries the state').toBe('posted-state');
      expect(page?.html, 'the app should have answered the posted form').toBe('Signed in.');
      expect(received, 'the app should have received exactly one POST').toHaveLength(1);
      expect(received[0].get('code'), 'the POST body holds the code').toBe(params.get('code'));
      expect(received[0].get('state'), 'the POST body holds the state').toBe('posted-state');
    });
  });

  it('lets the user cancel: the app gets error=access_denied with its state', async () => {
    const { params } = await signIn(mcpClientAuthorize({ state: 'cancel-state' }), 'ada', { redirectUri: CALLBACK, cancel: true });
    expect(params.get('error'), 'Cancel must send error=access_denied').toBe('access_denied');
    expect(params.get('state'), 'state must come back with the error').toBe('cancel-state');
    expect(params.get('code'), 'no code after Cancel').toBeNull();
  });

  it('puts the login_hint user first and marks them', async () => {
    const grace = findUser('grace')!;
    const stop = await new Browser().open(mcpClientAuthorize({ login_hint: grace.userPrincipalName }));
    expect(stop.kind, 'the sign-in page should be shown').toBe('page');
    if (stop.kind !== 'page') return;
    const users = stop.page.forms[0].buttons.filter((b) => b.name === 'user');
    expect(users[0]?.value, 'the hinted user (Grace) should be the first account').toBe(grace.oid);
    expect(users[0]?.text, 'the hinted user should be marked').toMatch(/suggested/i);
    expect(users.slice(1).some((b) => /suggested/i.test(b.text)), 'only the hinted user is marked').toBe(false);
  });
});

describe('authorize: silent sign-in (prompt=none)', () => {
  it('without a session redirects error=login_required (AADSTS50058) to the app with state', async () => {
    const response = await fetchManual(mcpClientAuthorize({ prompt: 'none', state: 'silent' }));
    expect(response.status, 'prompt=none must not show a page').toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname, 'the error goes to the app').toBe(CALLBACK);
    expect(location.searchParams.get('error'), 'no session means login_required').toBe('login_required');
    expect(location.searchParams.get('error_description'), 'Entra\'s code for it').toMatch(/^AADSTS50058/);
    expect(location.searchParams.get('state'), 'state comes back with the error').toBe('silent');
  });

  it('with a session cookie issues a code without showing the page', async () => {
    const browser = new Browser();
    await signInForCode({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: API_SCOPE, user: 'grace', browser });

    const { verifier, challenge } = pkce();
    const stop = await browser.open(mcpClientAuthorize({ prompt: 'none', code_challenge: challenge }), {
      stopAt: (url) => url.href.startsWith(CALLBACK),
    });
    expect(stop.kind, 'prompt=none with a session should go straight back to the app').toBe('redirect');
    if (stop.kind !== 'redirect') return;
    const code = stop.location.searchParams.get('code');
    expect(code, `a code should come back, got ${stop.location.search}`).toBeTruthy();
    const reply = await redeemCode(endpoints, { clientId: APPS.mcpClient.clientId, code: code!, redirectUri: CALLBACK, verifier });
    expect(reply.status, 'the silent code should redeem').toBe(200);
    const claims = JSON.parse(Buffer.from(reply.body.access_token!.split('.')[1], 'base64url').toString()) as { oid: string };
    expect(claims.oid, 'the silent code is for the user of the session (Grace)').toBe(findUser('grace')!.oid);
  });
});

describe('authorize: scopes and resource', () => {
  it('refuses scopes of two resources in one request (AADSTS28000)', async () => {
    const params = redirectParams(await fetchManual(mcpClientAuthorize({ scope: `${API_SCOPE} User.Read` })));
    expect(params.get('error'), 'scopes of two resources are invalid_scope').toBe('invalid_scope');
    expect(params.get('error_description'), 'one resource per request').toMatch(/^AADSTS28000/);
  });

  it('refuses a scope the resource does not expose (AADSTS70011)', async () => {
    const params = redirectParams(await fetchManual(mcpClientAuthorize({ scope: `${offlineConfig.entra.apiAppIdUri}/tools.delete_everything` })));
    expect(params.get('error'), 'an unknown scope is invalid_scope').toBe('invalid_scope');
    expect(params.get('error_description'), 'Entra\'s code for an unknown scope').toMatch(/^AADSTS70011/);
  });

  it('refuses a resource parameter that does not match the scopes\' app (AADSTS9010010)', async () => {
    const params = redirectParams(
      await fetchManual(mcpClientAuthorize({ scope: 'https://graph.microsoft.com/User.Read', resource: offlineConfig.entra.apiAppIdUri })),
    );
    expect(params.get('error'), 'RFC 8707 resource must match the scopes').toBe('invalid_target');
    expect(params.get('error_description'), 'Entra\'s code for a resource mismatch').toMatch(/^AADSTS9010010/);
  });

  it('accepts a resource parameter that matches the scopes\' app', async () => {
    const tokens = await codeFlowTokens({
      endpoints,
      clientId: APPS.mcpClient.clientId,
      redirectUri: CALLBACK,
      scope: API_SCOPE,
      extra: { resource: offlineConfig.entra.apiAppIdUri },
    });
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { aud: string };
    expect(claims.aud, 'the token is for the API').toBe(APPS.mcpApi.clientId);
  });
});

describe('authorization code and PKCE at the token endpoint', () => {
  const flow = { endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: API_SCOPE };

  it('redeems a code with the matching S256 verifier', async () => {
    const { code, verifier } = await signInForCode(flow);
    const reply = await redeemCode(endpoints, { clientId: flow.clientId, code, redirectUri: CALLBACK, verifier });
    expect(reply.status, `the right verifier should work; got ${JSON.stringify(reply.body)}`).toBe(200);
    expect(reply.body.access_token, 'an access token comes back').toBeTruthy();
  });

  it('refuses a wrong or missing code_verifier (AADSTS501481)', async () => {
    const wrong = await signInForCode(flow);
    expectEntraError(
      await redeemCode(endpoints, { clientId: flow.clientId, code: wrong.code, redirectUri: CALLBACK, verifier: pkce().verifier }),
      { status: 400, error: 'invalid_grant', code: 501481 },
      'a wrong PKCE verifier',
    );
    const missing = await signInForCode(flow);
    expectEntraError(
      await redeemCode(endpoints, { clientId: flow.clientId, code: missing.code, redirectUri: CALLBACK }),
      { status: 400, error: 'invalid_grant', code: 501481 },
      'a missing PKCE verifier',
    );
  });

  it('refuses code_challenge_method=plain (and a challenge without a method, which means plain)', async () => {
    for (const method of ['plain', undefined]) {
      const params = redirectParams(await fetchManual(mcpClientAuthorize({ code_challenge: 'a'.repeat(43), code_challenge_method: method })));
      expect(params.get('error'), `code_challenge_method=${method ?? '(none)'} must be refused`).toBe('invalid_request');
      expect(params.get('code'), 'no code for a plain challenge').toBeNull();
    }
  });

  it('lets a code be redeemed only once (AADSTS54005)', async () => {
    const { code, verifier } = await signInForCode(flow);
    const first = await redeemCode(endpoints, { clientId: flow.clientId, code, redirectUri: CALLBACK, verifier });
    expect(first.status, 'the first redemption works').toBe(200);
    expectEntraError(
      await redeemCode(endpoints, { clientId: flow.clientId, code, redirectUri: CALLBACK, verifier }),
      { status: 400, error: 'invalid_grant', code: 54005 },
      'a second redemption of the same code',
    );
  });

  it('expires a code after 10 minutes (AADSTS70008)', async () => {
    const early = await signInForCode(flow);
    const late = await signInForCode(flow);
    clock.advance(9 * 60 + 30);
    const inTime = await redeemCode(endpoints, { clientId: flow.clientId, code: early.code, redirectUri: CALLBACK, verifier: early.verifier });
    expect(inTime.status, 'a code is still good after 9.5 minutes').toBe(200);
    clock.advance(60);
    expectEntraError(
      await redeemCode(endpoints, { clientId: flow.clientId, code: late.code, redirectUri: CALLBACK, verifier: late.verifier }),
      { status: 400, error: 'invalid_grant', code: 70008 },
      'a code redeemed after 10.5 minutes',
    );
  });

  it('requires the same redirect_uri at the token endpoint as at authorize (AADSTS500112)', async () => {
    const { code, verifier } = await signInForCode(flow);
    expectEntraError(
      await redeemCode(endpoints, { clientId: flow.clientId, code, redirectUri: 'http://localhost:49999/callback', verifier }),
      { status: 400, error: 'invalid_grant', code: 500112 },
      'a redirect_uri different from the authorize request',
    );
  });

  it('refuses a code issued to another client', async () => {
    const { code, verifier } = await signInForCode({ ...flow, clientId: APPS.publicClient.clientId, redirectUri: LOOPBACK, scope: 'User.Read' });
    const reply = await redeemCode(endpoints, { clientId: flow.clientId, code, redirectUri: LOOPBACK, verifier });
    expect(reply.body.error, 'a code belongs to the client it was issued to').toBe('invalid_grant');
  });
});

describe('the sign-in page', () => {
  it('works without JavaScript: a plain form that posts back to the authorize endpoint', async () => {
    const browser = new Browser();
    const stop = await browser.open(mcpClientAuthorize());
    expect(stop.kind, 'the sign-in page should be shown').toBe('page');
    if (stop.kind !== 'page') return;
    expect(stop.page.html, 'the sign-in page must not need scripts').not.toMatch(/<script/i);
    const [form] = stop.page.forms;
    expect(form?.method, 'the page holds a form posting back').toBe('post');
    expect(form.action.href, 'the form posts to the authorize endpoint').toBe(endpoints.authorize);
    const accounts = form.buttons.filter((b) => b.name === 'user').map((b) => b.value);
    expect(accounts, 'every test user is a submit button').toEqual(expect.arrayContaining([findUser('ada')!.oid, findUser('grace')!.oid]));
    const submitted = await browser.submit(form, { name: 'user', value: findUser('ada')!.oid }, {}, { stopAt: (url) => url.href.startsWith(CALLBACK) });
    expect(submitted.kind, 'submitting the form redirects to the app').toBe('redirect');
    if (submitted.kind === 'redirect') expect(submitted.location.searchParams.get('code'), 'with a code').toBeTruthy();
  });

  it('cannot be framed (X-Frame-Options and CSP frame-ancestors)', async () => {
    const response = await fetchManual(mcpClientAuthorize());
    expect(response.headers.get('x-frame-options'), 'X-Frame-Options: DENY protects against clickjacking').toBe('DENY');
    expect(response.headers.get('content-security-policy'), "CSP frame-ancestors 'none'").toMatch(/frame-ancestors 'none'/);
  });

  it('refuses a second submission of the same page', async () => {
    const browser = new Browser();
    const stop = await browser.open(mcpClientAuthorize());
    if (stop.kind !== 'page') throw new Error('Expected the sign-in page.');
    const form = stop.page.forms[0];
    const button = { name: 'user', value: findUser('ada')!.oid };
    const stopAt = (url: URL) => url.href.startsWith(CALLBACK);
    expect((await browser.submit(form, button, {}, { stopAt })).kind, 'the first submission signs in').toBe('redirect');
    const again = await browser.submit(form, button, {}, { stopAt });
    expect(again.kind, 'a replayed form must not issue another code').toBe('page');
    if (again.kind === 'page') expect(again.page.status, 'a replayed form is an error').toBe(400);
  });
});

describe('sign-out', () => {
  const logout = endpoints.logout;

  it('ends the browser session and returns to a registered address', async () => {
    const response = await fetch(`${logout}?post_logout_redirect_uri=${encodeURIComponent('http://localhost:3001/auth/callback')}`, {
      redirect: 'manual',
    });
    expect(response.status, 'a registered post_logout_redirect_uri should be followed').toBe(302);
    expect(response.headers.get('set-cookie'), 'sign-out should clear the session cookie').toMatch(/Max-Age=0/);
  });

  it('never redirects to an unregistered address after sign-out (no open redirect)', async () => {
    const response = await fetch(`${logout}?post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual' });
    expect(response.status, 'an unregistered post_logout_redirect_uri must not be followed').toBe(200);
    expect(response.headers.get('location')).toBeNull();
  });
});
