/**
 * The emulator's HTTP adapter (what `npm run emulator` serves to browsers and lesson processes):
 * the same core over real HTTP, with cookies intact, the Graph fake under /graph, and state and
 * keys that outlive the process.
 */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPS, TENANT_ID, findUser } from '../../shared/emulator/directory.ts';
import { startEmulatorServer, type RunningEmulator } from '../../shared/emulator/server.ts';
import { loadConfig } from '../../shared/config.ts';
import { Browser, signIn } from '../support/browser.ts';
import { freePort } from '../support/harness.ts';
import { authorizeUrl, codeFlowTokens, pkce, postForm, redeemCode, signInForCode, tenantEndpoints } from '../support/oauth.ts';

const CALLBACK = 'http://localhost:49152/callback';
const API_SCOPE = 'http://localhost:3001/mcp/tools.read';

let stateDir = '';
const running: RunningEmulator[] = [];

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'emulator-state-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  rmSync(stateDir, { recursive: true, force: true });
});

async function start(port = 0): Promise<RunningEmulator> {
  const server = await startEmulatorServer({ port, stateDir });
  running.push(server);
  return server;
}

async function stop(server: RunningEmulator): Promise<void> {
  running.splice(running.indexOf(server), 1);
  await server.close();
}


describe('the emulator over real HTTP', () => {
  it('serves discovery with an issuer at its own origin', async () => {
    const server = await start();
    const endpoints = tenantEndpoints(server.url);
    const response = await fetch(endpoints.openIdConfiguration);
    expect(response.status, `GET ${endpoints.openIdConfiguration} should be 200`).toBe(200);
    const doc = (await response.json()) as Record<string, string>;
    expect(doc.issuer, 'the issuer is on the server\'s own origin').toBe(`${server.url.origin}/${TENANT_ID}/v2.0`);
    expect(doc.token_endpoint, 'the token endpoint too').toBe(endpoints.token);
  });

  it('serves the sign-in page as text/html', async () => {
    const server = await start();
    const url = authorizeUrl(tenantEndpoints(server.url).authorize, {
      client_id: APPS.mcpClient.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: API_SCOPE,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const response = await fetch(url);
    expect(response.status, 'the sign-in page should be 200').toBe(200);
    expect(response.headers.get('content-type'), 'browsers need text/html').toMatch(/^text\/html/);
    expect(response.headers.get('x-frame-options'), 'headers survive the adapter').toBe('DENY');
    expect(await response.text(), 'the page lists the accounts').toContain('Ada Lovelace');
  });

  it('issues tokens that verify with jose against its JWKS over HTTP', async () => {
    const server = await start();
    const endpoints = tenantEndpoints(server.url);
    const tokens = await codeFlowTokens({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: API_SCOPE, user: 'grace' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(endpoints.jwks)), {
      issuer: endpoints.issuer,
      audience: APPS.mcpApi.clientId,
    });
    expect(payload.oid, 'the token is Grace\'s').toBe(findUser('grace')!.oid);
  });

  it('keeps the session cookie through the adapter, so a silent sign-in works', async () => {
    const server = await start();
    const endpoints = tenantEndpoints(server.url);
    const browser = new Browser();
    const first = await browser.open(
      authorizeUrl(endpoints.authorize, { client_id: APPS.mcpClient.clientId, redirect_uri: CALLBACK, response_type: 'code', scope: API_SCOPE }),
    );
    if (first.kind !== 'page') throw new Error('Expected the sign-in page.');
    // Submit by hand to see the raw answer of the adapter.
    const form = first.page.forms[0];
    const response = await fetch(form.action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, user: findUser('ada')!.oid }),
    });
    expect(response.status, 'signing in redirects to the app').toBe(302);
    const cookies = response.headers.getSetCookie();
    expect(cookies.length, 'the sign-in sets a session cookie').toBe(1);
    expect(cookies[0], 'the session cookie is HttpOnly').toMatch(/^emulator_session=[^;]+;.*HttpOnly/i);

    const silent = await fetch(
      authorizeUrl(endpoints.authorize, { client_id: APPS.mcpClient.clientId, redirect_uri: CALLBACK, response_type: 'code', scope: API_SCOPE, prompt: 'none' }),
      { redirect: 'manual', headers: { cookie: cookies[0].split(';')[0] } },
    );
    const location = new URL(silent.headers.get('location') ?? 'http://invalid/');
    expect(location.searchParams.get('code'), `prompt=none with the cookie should give a code; got ${location.search}`).toBeTruthy();
  });

  it('serves the Graph fake under /graph/v1.0/me', async () => {
    const server = await start();
    const token = await server.emulator.issueAccessToken({ client: APPS.publicClient.clientId, user: 'ada', scope: 'User.Read' });
    const response = await fetch(new URL('/graph/v1.0/me', server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, 'GET /graph/v1.0/me with a Graph token should be 200').toBe(200);
    expect(((await response.json()) as { displayName: string }).displayName, '/me is Ada').toBe('Ada Lovelace');
    expect(server.graph.calls.at(-1)?.path, 'the fake sees the Graph path without /graph').toBe('/v1.0/me');
  });
});

describe('state that outlives the process', () => {
  it('redeems at server B a refresh token and a code issued by server A on the same state folder and port', async () => {
    const port = await freePort();
    const a = await start(port);
    const endpoints = tenantEndpoints(a.url);
    const tokens = await codeFlowTokens({
      endpoints,
      clientId: APPS.mcpClient.clientId,
      redirectUri: CALLBACK,
      scope: `${API_SCOPE} openid offline_access`,
      user: 'ada',
    });
    expect(tokens.refresh_token, 'server A should issue a refresh token').toBeTruthy();
    // A code from A's sign-in page, redeemed only after the restart (another process, as MCP clients spawn them).
    const pending = await signInForCode({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: API_SCOPE, user: 'grace' });
    await stop(a);

    const b = await start(port);
    expect(b.url.origin, 'server B has the same origin, hence the same issuer').toBe(a.url.origin);
    const reply = await postForm(endpoints.token, {
      grant_type: 'refresh_token',
      client_id: APPS.mcpClient.clientId,
      refresh_token: tokens.refresh_token!,
    });
    expect(reply.status, `server B should honour server A's refresh token; got ${JSON.stringify(reply.body)}`).toBe(200);
    expect(decodeJwt(reply.body.access_token!).oid, 'for the same user').toBe(findUser('ada')!.oid);
    const redeemed = await redeemCode(endpoints, { clientId: APPS.mcpClient.clientId, code: pending.code, redirectUri: CALLBACK, verifier: pending.verifier });
    expect(redeemed.status, `server B should redeem a code issued by server A; got ${JSON.stringify(redeemed.body)}`).toBe(200);
    // The keys persisted too: A's access token still verifies against B's JWKS.
    await expect(
      jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(endpoints.jwks)), { issuer: endpoints.issuer }),
      'server A\'s access token should verify against server B\'s JWKS (keys are kept in the state folder)',
    ).resolves.toBeTruthy();
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('certificates uploaded by another process', () => {
  it.skipIf(!hasOpenssl)('accept a client assertion signed with a certificate put in <state>/emulator/certificates/<clientId>/ while the server runs', async () => {
    const server = await start();
    const config = loadConfig({ EMULATOR_URL: server.url.origin });
    const folder = path.join(stateDir, 'emulator', 'certificates', APPS.daemon.clientId);
    mkdirSync(folder, { recursive: true });
    const keyFile = path.join(stateDir, 'daemon.key.pem');
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', path.join(folder, 'daemon.pem'), '-days', '2', '-subj', '/CN=daemon'],
      { encoding: 'utf8' },
    );
    expect(made.status, `openssl could not make a certificate: ${made.stderr}`).toBe(0);
    const thumbprintSha256 = new X509Certificate(readFileSync(path.join(folder, 'daemon.pem'))).fingerprint256.replace(/:/g, '').toLowerCase();
    const daemon = new ConfidentialClientApplication({
      auth: {
        clientId: APPS.daemon.clientId,
        clientCertificate: { thumbprintSha256, privateKey: readFileSync(keyFile, 'utf8') },
        ...config.entra.msal,
      },
    });
    const result = await daemon.acquireTokenByClientCredential({ scopes: [`${config.entra.apiAppIdUri}/.default`] });
    expect(decodeJwt(result!.accessToken).azpacr, 'the uploaded certificate should authenticate the daemon (azpacr 2)').toBe('2');

    rmSync(folder, { recursive: true });
    await expect(
      daemon.acquireTokenByClientCredential({ scopes: [`${config.entra.apiAppIdUri}/.default`], skipCache: true }),
      'once the certificate is removed from the folder, the emulator should refuse it (AADSTS700027)',
    ).rejects.toThrow(/AADSTS700027/);
  });
});

describe('MSAL against the emulator over real HTTP, with only configuration changed', () => {
  it('PublicClientApplication signs in and refreshes; ConfidentialClientApplication gets app-only and OBO tokens', async () => {
    const server = await start();
    // The same settings a lesson process gets when EMULATOR_URL names this server.
    const config = loadConfig({ EMULATOR_URL: server.url.origin });

    const pca = new PublicClientApplication({ auth: { clientId: config.entra.publicClientId, ...config.entra.msal } });
    const signedIn = await pca.acquireTokenInteractive({
      scopes: ['User.Read'],
      openBrowser: async (url) => {
        await signIn(url, 'grace');
      },
    });
    expect(signedIn.account?.username, 'the interactive sign-in should end with Grace signed in').toBe('grace@contoso.test');
    const refreshed = await pca.acquireTokenSilent({ account: signedIn.account!, scopes: ['User.Read'], forceRefresh: true });
    expect(refreshed.fromCache, 'a forced silent call should redeem the refresh token at the HTTP token endpoint').toBe(false);

    const daemon = new ConfidentialClientApplication({
      auth: { clientId: APPS.daemon.clientId, clientSecret: APPS.daemon.secrets[0], ...config.entra.msal },
    });
    const appOnly = await daemon.acquireTokenByClientCredential({ scopes: [`${config.entra.apiAppIdUri}/.default`] });
    const { payload } = await jwtVerify(appOnly!.accessToken, createRemoteJWKSet(new URL(config.entra.jwksUri)), {
      issuer: config.entra.issuer,
      audience: config.entra.apiClientId,
    });
    expect(payload.roles, 'the daemon holds Tools.Read.All on the MCP API').toEqual(['Tools.Read.All']);

    const userToken = await server.emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'ada', scope: `${config.entra.apiAppIdUri}/tools.read` });
    const api = new ConfidentialClientApplication({
      auth: { clientId: config.entra.apiClientId, clientSecret: config.entra.apiClientSecret, ...config.entra.msal },
    });
    const obo = await api.acquireTokenOnBehalfOf({ oboAssertion: userToken, scopes: ['https://graph.microsoft.com/User.Read'] });
    expect(decodeJwt(obo!.accessToken).oid, 'the OBO token should be for the same user').toBe(findUser('ada')!.oid);
  });
});

describe('the learner\'s console (npm run emulator)', () => {
  it('keeps printing after 10,000 requests, one line per event, and stops when the server closes', async () => {
    const lines: string[] = [];
    const server = await startEmulatorServer({ port: 0, onEvent: (line) => lines.push(line) });
    running.push(server);
    const endpoints = tenantEndpoints(server.url);
    // In-process through the core the server serves, to stay quick: a GET of the token endpoint is
    // the cheapest request that is news worth a line (a refusal, AADSTS900561).
    const refused = () => server.emulator.handle(new Request(endpoints.token));
    for (let request = 0; request < 10_000; request++) await refused();
    expect(lines, 'each of the 10,000 refusals should have printed one line').toHaveLength(10_000);
    expect(lines[9_999], 'a refusal line names the AADSTS error').toMatch(/^refused: AADSTS900561:/);

    const reply = await postForm(endpoints.deviceCode, { client_id: APPS.publicClient.clientId, scope: 'User.Read' });
    expect(reply.status, 'the device code request over HTTP should succeed').toBe(200);
    expect(lines.slice(10_000), 'request 10,001, over HTTP, should still print its line').toEqual([`device code issued (client ${APPS.publicClient.clientId})`]);

    await stop(server);
    await refused();
    expect(lines, 'a closed server no longer prints').toHaveLength(10_001);
  });
});

describe('the control endpoint (demos and the e2e suite)', () => {
  /** A control request as a program on this machine sends it. */
  function control(server: RunningEmulator, action: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL(`/_emulator/${action}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('makes Graph answer 429 with Retry-After, then 503, for the next calls only; reset ends it', async () => {
    const server = await start();
    const token = await server.emulator.issueAccessToken({ client: APPS.publicClient.clientId, user: 'ada', scope: 'User.Read' });
    const me = () => fetch(new URL('/graph/v1.0/me', server.url), { headers: { authorization: `Bearer ${token}` } });

    expect((await control(server, 'graph/fail-next', { status: 429, retryAfterSeconds: 7 })).status, 'fail-next is accepted').toBe(200);
    const throttled = await me();
    expect(throttled.status, 'the next Graph call is throttled').toBe(429);
    expect(throttled.headers.get('retry-after'), 'with the Retry-After asked for').toBe('7');
    expect((await me()).status, 'only the next call: then Graph answers again').toBe(200);

    await control(server, 'graph/fail-next', { status: 503, times: 3 });
    expect((await me()).status, 'a 503 next').toBe(503);
    expect((await control(server, 'reset')).status, 'reset is accepted').toBe(200);
    expect((await me()).status, 'after reset, Graph answers at once').toBe(200);
  });

  it('shortens the access tokens Entra ID issues from now on, and reset restores the lifetime', async () => {
    const server = await start();
    const endpoints = tenantEndpoints(server.url);
    const lifetime = async () => {
      const tokens = await codeFlowTokens({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: API_SCOPE, user: 'ada' });
      const claims = decodeJwt(tokens.access_token);
      return { expiresIn: tokens.expires_in, lifetime: claims.exp! - claims.iat! };
    };
    expect((await control(server, 'token-lifetime', { accessTokenSeconds: 60 })).status, 'token-lifetime is accepted').toBe(200);
    expect(await lifetime(), 'new tokens live 60 s: expires_in and exp agree').toEqual({ expiresIn: 60, lifetime: 60 });
    await control(server, 'reset');
    expect((await lifetime()).expiresIn, 'after reset, the lifetime is as at start').toBe(3600);
  });

  it('registers another MCP URL as the API\'s Application ID URI, for a lesson that reuses a running emulator', async () => {
    const server = await start();
    const endpoints = tenantEndpoints(server.url);
    const other = 'http://localhost:3005/mcp';
    const daemon = (scope: string) => postForm(endpoints.token, { grant_type: 'client_credentials', client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope });
    expect((await daemon(`${other}/.default`)).body.error_codes, 'not registered yet: AADSTS500011').toEqual([500011]);
    const registered = await control(server, 'api-app-id-uri', { uri: other });
    expect(registered.status, 'api-app-id-uri is accepted').toBe(200);
    expect(((await registered.json()) as { apiAppIdUris: string[] }).apiAppIdUris, 'the API now has both URIs').toEqual(expect.arrayContaining([other, 'http://localhost:3001/mcp']));
    expect((await daemon(`${other}/.default`)).status, 'a token for the registered URL').toBe(200);
  });

  it('refuses web pages, other host names and bad input, each in one line', async () => {
    const server = await start();
    const fromPage = await control(server, 'graph/fail-next', { status: 429 }, { origin: 'https://attacker.example' });
    expect(fromPage.status, 'a request from a web page (Origin) is refused').toBe(403);
    expect(((await fromPage.json()) as { error: string }).error, 'and says why').toMatch(/web pages/);

    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(new URL('/_emulator/reset', server.url), { method: 'POST', headers: { host: `attacker.example:${server.url.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound, 'a Host other than localhost (DNS rebinding) is refused').toBe(403);

    for (const [action, body, pattern] of [
      ['graph/fail-next', { status: 418 }, /status/],
      ['graph/fail-next', { status: 429, retryAfterSeconds: -1 }, /retryAfterSeconds/],
      ['token-lifetime', { accessTokenSeconds: 'soon' }, /accessTokenSeconds/],
      ['token-lifetime', { accessTokenSeconds: 60, extra: true }, /extra|key/i],
      ['api-app-id-uri', { uri: 'not a url' }, /uri/],
      ['no-such-thing', {}, /No control/],
    ] as const) {
      const response = await control(server, action, body);
      const { error } = (await response.json()) as { error: string };
      expect(response.status, `${action} ${JSON.stringify(body)} is refused`).toBeGreaterThanOrEqual(400);
      expect(error, `${action} ${JSON.stringify(body)}: the error names what was wrong`).toMatch(pattern);
      expect(error.split('\n'), 'one line').toHaveLength(1);
    }
    expect(server.emulator.settings.accessTokenLifetimeSeconds, 'refused requests change nothing').toBe(3600);
  });
});
