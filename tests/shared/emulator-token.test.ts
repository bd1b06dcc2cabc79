/**
 * The emulator's token endpoint: Entra-shaped errors, the claims of v2 access tokens, refresh token
 * rotation and revocation, client authentication (secret, HTTP Basic, certificate), client credentials,
 * On-Behalf-Of, the device code flow and key rotation.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importPKCS8, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPS, TENANT_ID, USERS, findUser } from '../../shared/emulator/directory.ts';
import { Browser, approveDeviceCode } from '../support/browser.ts';
import { clock, emulator, offlineConfig } from '../support/lab.ts';
import { codeFlowTokens, expectEntraError, postForm, redeemCode, signInForCode, tenantEndpoints, type TokenReply } from '../support/oauth.ts';

const endpoints = tenantEndpoints(offlineConfig.emulatorUrl);
const API_URI = offlineConfig.entra.apiAppIdUri;
const CALLBACK = 'http://localhost:49152/callback';
const LOOPBACK = 'http://localhost:49153';
const GRAPH = 'https://graph.microsoft.com';
const ada = findUser('ada')!;
const grace = findUser('grace')!;

/** Lesson 4's flow: the MCP client signs a user in for the API. */
function apiTokens(user = 'ada', scope = `${API_URI}/tools.read openid profile offline_access`, extra: Record<string, string> = {}) {
  return codeFlowTokens({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope, user, extra });
}

/** Lesson 2's flow: the public client signs a user in for Graph. */
function graphTokens(user = 'ada', scope = 'User.Read openid profile offline_access') {
  return codeFlowTokens({ endpoints, clientId: APPS.publicClient.clientId, redirectUri: LOOPBACK, scope, user });
}

function refresh(clientId: string, refreshToken: string, extra: Record<string, string> = {}): Promise<TokenReply> {
  return postForm(endpoints.token, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...extra });
}

function clientCredentials(params: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenReply> {
  return postForm(endpoints.token, { grant_type: 'client_credentials', ...params }, headers);
}

function onBehalfOf(assertion: string, o: { clientId?: string; secret?: string; scope?: string } = {}): Promise<TokenReply> {
  return postForm(endpoints.token, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    client_id: o.clientId ?? APPS.mcpApi.clientId,
    client_secret: o.secret ?? APPS.mcpApi.secrets[0],
    assertion,
    scope: o.scope ?? `${GRAPH}/User.Read`,
    requested_token_use: 'on_behalf_of',
  });
}

async function jwks(): Promise<JSONWebKeySet> {
  return (await (await fetch(endpoints.jwks)).json()) as JSONWebKeySet;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Entra-shaped errors', () => {
  it('carry error, an error_description starting with AADSTS<code>, error_codes, timestamp, trace_id and correlation_id', async () => {
    const reply = await postForm(
      endpoints.token,
      { grant_type: 'authorization_code', client_id: APPS.mcpClient.clientId, code: 'not-a-code', redirect_uri: CALLBACK },
      { 'client-request-id': '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d' },
    );
    expect(reply.status, 'an invalid grant is HTTP 400').toBe(400);
    expect(reply.headers.get('content-type'), 'errors are JSON').toMatch(/application\/json/);
    expect(reply.body.error, 'OAuth error code (RFC 6749 §5.2)').toBe('invalid_grant');
    expect(reply.body.error_description, 'error_description starts with the AADSTS code').toMatch(/^AADSTS70000: /);
    expect(reply.body.error_codes, 'error_codes lists the AADSTS number').toEqual([70000]);
    expect(reply.body.timestamp, 'timestamp in Entra\'s format').toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
    expect(reply.body.trace_id, 'trace_id is a GUID').toMatch(GUID);
    expect(reply.body.correlation_id, 'correlation_id echoes the client-request-id header').toBe('0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d');
    expect(reply.body.error_description, 'the description names the trace ID, as Entra\'s does').toContain(reply.body.trace_id);
  });

  it('refuses an unknown grant type (AADSTS70003) and a GET on the token endpoint', async () => {
    expectEntraError(
      await postForm(endpoints.token, { grant_type: 'password', client_id: APPS.publicClient.clientId }),
      { status: 400, error: 'unsupported_grant_type', code: 70003 },
      'the password grant',
    );
    const get = await fetch(endpoints.token);
    expect(get.status, 'the token endpoint only takes POST').toBe(405);
  });
});

describe('access tokens for our API', () => {
  it('are v2 JWTs with Entra\'s claims, verifiable with jose against the JWKS', async () => {
    const tokens = await apiTokens('ada');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(endpoints.jwks)), {
      issuer: offlineConfig.entra.issuer,
      audience: APPS.mcpApi.clientId,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid, 'the header names the signing key').toBeTruthy();
    expect(payload.aud, 'aud is the API\'s client ID, not its URI (v2 tokens)').toBe(APPS.mcpApi.clientId);
    expect(payload.iss, 'iss is the tenant\'s v2.0 issuer').toBe(offlineConfig.entra.issuer);
    expect(payload.tid, 'tid is the tenant ID').toBe(TENANT_ID);
    expect(payload.oid, 'oid is the user\'s object ID').toBe(ada.oid);
    expect(typeof payload.sub === 'string' && payload.sub !== ada.oid, 'sub is a pairwise subject, not the oid').toBe(true);
    expect(payload.azp, 'azp is the client that asked for the token').toBe(APPS.mcpClient.clientId);
    expect(payload.azpacr, 'azpacr 0: a public client').toBe('0');
    expect(payload.scp, 'scp holds the granted delegated scopes').toBe('tools.read');
    expect(payload.ver, 'a v2.0 token').toBe('2.0');
    expect(payload.name, 'name').toBe(ada.displayName);
    expect(payload.preferred_username, 'preferred_username').toBe(ada.userPrincipalName);
    expect(payload.roles, 'Ada holds the MCP.Admin app role on the API').toEqual(['MCP.Admin']);
    for (const claim of ['iat', 'nbf', 'exp'] as const) expect(typeof payload[claim], `${claim} is a number`).toBe('number');
    expect(payload.exp! - payload.iat!, 'an access token lives one hour').toBe(3600);
  });

  it('give a different sub to the same user in another app, and no roles to a user without any', async () => {
    const forApi = decodeJwt((await apiTokens('grace')).access_token);
    const idToken = decodeJwt((await apiTokens('grace')).id_token!);
    expect(forApi.oid, 'oid is the same everywhere').toBe(idToken.oid);
    expect(forApi.sub, 'sub differs per app (pairwise)').not.toBe(idToken.sub);
    expect(forApi.roles, 'Grace holds no app roles').toBeUndefined();
  });
});

describe('Graph tokens', () => {
  it('are for https://graph.microsoft.com and cannot be verified against the tenant\'s JWKS, like real ones', async () => {
    const tokens = await graphTokens('ada');
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud, 'a Graph token\'s audience').toBe(GRAPH);
    expect(claims.scp, 'scp holds the Graph scopes').toBe('User.Read');
    expect(decodeProtectedHeader(tokens.access_token), 'Graph tokens carry a nonce header').toHaveProperty('nonce');
    await expect(
      jwtVerify(tokens.access_token, createLocalJWKSet(await jwks())),
      'third parties must not be able to verify a Graph token',
    ).rejects.toThrow();
  });
});

describe('token responses', () => {
  it('carry client_info, id_token (openid), scope, expires_in, ext_expires_in and refresh_token (offline_access)', async () => {
    const tokens = await apiTokens('ada', `${API_URI}/tools.read openid profile offline_access`, { nonce: 'n-0S6_WzA2Mj' });
    expect(tokens.token_type, 'token_type').toBe('Bearer');
    expect(tokens.scope?.split(' '), 'scope names the granted scope with its resource').toContain(`${API_URI}/tools.read`);
    expect(tokens.expires_in, 'expires_in').toBe(3600);
    expect(tokens.ext_expires_in, 'ext_expires_in').toBe(3600);
    expect(tokens.refresh_token, 'offline_access gives a refresh token').toBeTruthy();
    const clientInfo = JSON.parse(Buffer.from(tokens.client_info!, 'base64url').toString()) as Record<string, string>;
    expect(clientInfo, 'client_info is the home account MSAL needs').toEqual({ uid: ada.oid, utid: TENANT_ID });
    expect(tokens.id_token, 'openid gives an ID token').toBeTruthy();
    const { payload: id } = await jwtVerify(tokens.id_token!, createLocalJWKSet(await jwks()), {
      issuer: offlineConfig.entra.issuer,
      audience: APPS.mcpClient.clientId,
    });
    expect(id.nonce, 'the ID token carries the nonce of the authorize request').toBe('n-0S6_WzA2Mj');
    expect(id.preferred_username, 'the ID token names the user').toBe(ada.userPrincipalName);
  });

  it('carry neither id_token without openid nor refresh_token without offline_access', async () => {
    const tokens = await apiTokens('ada', `${API_URI}/tools.read`);
    expect(tokens.id_token, 'no openid, no ID token').toBeUndefined();
    expect(tokens.refresh_token, 'no offline_access, no refresh token').toBeUndefined();
    expect(tokens.client_info, 'client_info is always there').toBeTruthy();
  });
});

describe('refresh tokens', () => {
  it('rotate: each refresh returns a new refresh token and the old one is refused', async () => {
    const first = await graphTokens('grace');
    const second = await refresh(APPS.publicClient.clientId, first.refresh_token!);
    expect(second.status, `a fresh refresh token works; got ${JSON.stringify(second.body)}`).toBe(200);
    expect(second.body.refresh_token, 'a new refresh token comes back').toBeTruthy();
    expect(second.body.refresh_token, 'the new refresh token differs from the old one').not.toBe(first.refresh_token);
    expect(decodeJwt(second.body.access_token!).oid, 'the refreshed token is for the same user').toBe(grace.oid);
    const replay = await refresh(APPS.publicClient.clientId, first.refresh_token!);
    expect(replay.status, 'a used refresh token is refused').toBe(400);
    expect(replay.body.error, 'a used refresh token is invalid_grant').toBe('invalid_grant');
    const third = await refresh(APPS.publicClient.clientId, second.body.refresh_token!);
    expect(third.status, 'the newest refresh token works').toBe(200);
  });

  it('can be redeemed for another resource (Entra refresh tokens are multi-resource)', async () => {
    const tokens = await apiTokens('ada');
    const reply = await refresh(APPS.mcpClient.clientId, tokens.refresh_token!, { scope: `${GRAPH}/User.Read` });
    expect(reply.status, `refreshing for Graph should work; got ${JSON.stringify(reply.body)}`).toBe(200);
    expect(decodeJwt(reply.body.access_token!).aud, 'the new token is for Graph').toBe(GRAPH);
  });

  it('belong to the client they were issued to', async () => {
    const tokens = await graphTokens('ada');
    const reply = await refresh(APPS.mcpClient.clientId, tokens.refresh_token!);
    expect(reply.body.error, 'another client cannot use the refresh token').toBe('invalid_grant');
  });

  it('stop working after emulator.revokeUserSessions (AADSTS50173), and the browser session ends too', async () => {
    const browser = new Browser();
    const { code, verifier } = await signInForCode({
      endpoints,
      clientId: APPS.publicClient.clientId,
      redirectUri: LOOPBACK,
      scope: 'User.Read offline_access',
      user: 'grace',
      browser,
    });
    const tokens = (await redeemCode(endpoints, { clientId: APPS.publicClient.clientId, code, redirectUri: LOOPBACK, verifier })).body;
    emulator.revokeUserSessions('grace');
    expectEntraError(
      await refresh(APPS.publicClient.clientId, tokens.refresh_token!),
      { status: 400, error: 'invalid_grant', code: 50173 },
      'a refresh token issued before the revocation',
    );
    const silent = await browser.open(
      `${endpoints.authorize}?client_id=${APPS.publicClient.clientId}&redirect_uri=${encodeURIComponent(LOOPBACK)}&response_type=code&scope=User.Read&prompt=none`,
      { stopAt: (url) => url.origin === new URL(LOOPBACK).origin },
    );
    expect(silent.kind === 'redirect' && silent.location.searchParams.get('error'), 'the browser session is revoked as well').toBe('login_required');
  });
});

describe('after a revocation', () => {
  it('a new sign-in gives a refresh token that works', async () => {
    emulator.revokeUserSessions('ada');
    const tokens = await graphTokens('ada');
    const reply = await refresh(APPS.publicClient.clientId, tokens.refresh_token!);
    expect(reply.status, `a refresh token issued after the revocation must work; got ${JSON.stringify(reply.body)}`).toBe(200);
  });

  it('only refresh tokens that existed are revoked, even when a test moved the clock before revoking', async () => {
    // Lesson tests move the clock (sessions expiring) and setup resets it after each test: a revocation
    // recorded "in the future" must not poison every refresh token issued later in the file.
    clock.advance(2 * 3600);
    emulator.revokeUserSessions('grace');
    clock.reset();
    const tokens = await graphTokens('grace');
    const reply = await refresh(APPS.publicClient.clientId, tokens.refresh_token!);
    expect(reply.status, `a refresh token issued after the revocation must work; got ${JSON.stringify(reply.body)}`).toBe(200);
  });
});

describe('consent and cross-origin redemption', () => {
  it('refuses a code redeemed from a browser page (Origin): AADSTS9002326, readable through CORS', async () => {
    const { code, verifier } = await signInForCode({ endpoints, clientId: APPS.mcpClient.clientId, redirectUri: CALLBACK, scope: `${API_URI}/tools.read` });
    const reply = await postForm(
      endpoints.token,
      { grant_type: 'authorization_code', client_id: APPS.mcpClient.clientId, code, redirect_uri: CALLBACK, code_verifier: verifier },
      { origin: 'http://localhost:6274' },
    );
    expectEntraError(reply, { status: 400, error: 'invalid_request', code: 9002326 }, 'a cross-origin redemption for a Mobile and desktop redirect URI');
    expect(reply.body.error_description, 'the description names the origin').toContain("'http://localhost:6274'");
    expect(reply.headers.get('access-control-allow-origin'), 'a browser page can read the error, as from Entra ID').toBe('*');
  });

  it('refuses a refresh token redeemed from a browser page too (AADSTS9002326)', async () => {
    const tokens = await apiTokens('grace');
    const reply = await postForm(
      endpoints.token,
      { grant_type: 'refresh_token', client_id: APPS.mcpClient.clientId, refresh_token: tokens.refresh_token! },
      { origin: 'http://localhost:6274' },
    );
    expectEntraError(reply, { status: 400, error: 'invalid_request', code: 9002326 }, 'a cross-origin refresh for a Mobile and desktop client');
  });

  it('answers AADSTS65001 to a refresh that asks for a permission nobody consented to', async () => {
    const tokens = await graphTokens('ada');
    const reply = await refresh(APPS.publicClient.clientId, tokens.refresh_token!, { scope: 'Mail.Send' });
    expectEntraError(reply, { status: 400, error: 'invalid_grant', code: 65001 }, 'lesson 2\'s client was consented User.Read only');
    expect(reply.body.error_description, 'the description names the missing permission').toContain('Mail.Send');
  });

  it('answers AADSTS65001 to On-Behalf-Of for a Graph permission the API was not consented (Mail.Read)', async () => {
    const tokens = await apiTokens('ada');
    const reply = await onBehalfOf(tokens.access_token, { scope: `${GRAPH}/Mail.Read` });
    expectEntraError(reply, { status: 400, error: 'invalid_grant', code: 65001 }, 'the API\'s admin consent covers User.Read and Mail.Send only');
  });

  it('grants exactly the consented permissions for .default, never one nobody consented to (Mail.Read)', async () => {
    const tokens = await apiTokens('ada');
    const reply = await onBehalfOf(tokens.access_token, { scope: `${GRAPH}/.default` });
    expect(reply.status, `OBO for ${GRAPH}/.default: ${JSON.stringify(reply.body)}`).toBe(200);
    const scp = String(decodeJwt(reply.body.access_token!).scp).split(' ').sort();
    expect(scp, '.default is what an administrator consented for the API: User.Read and Mail.Send').toEqual(['Mail.Send', 'User.Read']);
  });
});

describe('client authentication', () => {
  it('refuses a public client that presents a secret (AADSTS700025)', async () => {
    expectEntraError(
      await clientCredentials({ client_id: APPS.publicClient.clientId, client_secret: 'anything', scope: `${GRAPH}/.default` }),
      { status: 401, error: 'invalid_client', code: 700025 },
      'a public client with a client_secret',
    );
  });

  it('refuses a confidential client without credentials (AADSTS7000218)', async () => {
    const { code, verifier } = await signInForCode({
      endpoints,
      clientId: APPS.webApp.clientId,
      redirectUri: offlineConfig.callbackUrl.href,
      scope: 'User.Read openid',
    });
    expectEntraError(
      await redeemCode(endpoints, { clientId: APPS.webApp.clientId, code, redirectUri: offlineConfig.callbackUrl.href, verifier }),
      { status: 401, error: 'invalid_client', code: 7000218 },
      'a confidential client redeeming a code without a secret',
    );
  });

  it('accepts the client secret in the body and via HTTP Basic (client_secret_basic)', async () => {
    const scope = `${API_URI}/.default`;
    const post = await clientCredentials({ client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope });
    expect(post.status, `client_secret_post should work; got ${JSON.stringify(post.body)}`).toBe(200);
    const basic = Buffer.from(`${encodeURIComponent(APPS.daemon.clientId)}:${encodeURIComponent(APPS.daemon.secrets[0])}`).toString('base64');
    const viaBasic = await clientCredentials({ scope }, { authorization: `Basic ${basic}` });
    expect(viaBasic.status, `client_secret_basic should work; got ${JSON.stringify(viaBasic.body)}`).toBe(200);
    expect(decodeJwt(viaBasic.body.access_token!).azpacr, 'azpacr 1: a client secret').toBe('1');
  });

  it('refuses a malformed HTTP Basic header with invalid_client (401), not a server error', async () => {
    for (const credentials of ['no-colon-here', '%zz:%']) {
      const header = `Basic ${Buffer.from(credentials).toString('base64')}`;
      expectEntraError(
        await clientCredentials({ scope: `${API_URI}/.default` }, { authorization: header }),
        { status: 401, error: 'invalid_client', code: 7000215 },
        `HTTP Basic credentials "${credentials}"`,
      );
    }
  });
});

describe('client credentials', () => {
  it('require a .default scope (AADSTS1002012)', async () => {
    expectEntraError(
      await clientCredentials({ client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope: `${API_URI}/tools.read` }),
      { status: 400, error: 'invalid_scope', code: 1002012 },
      'client credentials with a named scope',
    );
  });

  it('give an app-only token with the app\'s roles and no scp', async () => {
    const reply = await clientCredentials({ client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope: `${API_URI}/.default` });
    const claims = decodeJwt(reply.body.access_token!);
    expect(claims.aud, 'the token is for the API').toBe(APPS.mcpApi.clientId);
    expect(claims.roles, 'the daemon holds Tools.Read.All on the API').toEqual(['Tools.Read.All']);
    expect(claims.scp, 'app-only tokens have no scp').toBeUndefined();
    expect(claims.idtyp, 'idtyp only as an optional claim the API configured (it did not), as in Entra').toBeUndefined();
    expect(reply.body.refresh_token, 'client credentials never give a refresh token').toBeUndefined();
  });
});

// node:crypto cannot make X.509 certificates; openssl can, and is on most machines.
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const hasOpenssl = openssl.status === 0;

describe('signed client assertions (certificate credentials)', () => {
  let dir = '';
  let registered = { certificatePem: '', privateKeyPem: '', thumbprintSha256: '' };
  let unregistered = { certificatePem: '', privateKeyPem: '', thumbprintSha256: '' };

  function makeCertificate(name: string) {
    const keyFile = path.join(dir, `${name}.key.pem`);
    const certFile = path.join(dir, `${name}.cert.pem`);
    const result = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`openssl could not make a certificate: ${result.stderr}`);
    const certificatePem = readFileSync(certFile, 'utf8');
    const thumbprintSha256 = new X509Certificate(certificatePem).fingerprint256.replace(/:/g, '').toLowerCase();
    return { certificatePem, privateKeyPem: readFileSync(keyFile, 'utf8'), thumbprintSha256 };
  }

  beforeAll(() => {
    if (!hasOpenssl) return;
    dir = mkdtempSync(path.join(tmpdir(), 'emulator-cert-'));
    registered = makeCertificate('workshop-daemon');
    unregistered = makeCertificate('stranger');
    const { thumbprintSha256 } = emulator.registerCertificate(APPS.daemon.clientId, registered.certificatePem);
    expect(thumbprintSha256, 'registerCertificate returns the SHA-256 thumbprint').toBe(registered.thumbprintSha256);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function daemonWithCertificate(cert: { thumbprintSha256: string; privateKeyPem: string }) {
    return new ConfidentialClientApplication({
      auth: {
        clientId: APPS.daemon.clientId,
        clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem },
        ...offlineConfig.entra.msal,
      },
    });
  }

  it.skipIf(!hasOpenssl)('lets MSAL get a token with a registered certificate (azpacr 2), no secret sent', async () => {
    const result = await daemonWithCertificate(registered).acquireTokenByClientCredential({ scopes: [`${API_URI}/.default`] });
    const claims = decodeJwt(result!.accessToken);
    expect(claims.azpacr, 'azpacr 2 means the client proved itself with a certificate').toBe('2');
    expect(claims.roles, 'the daemon\'s roles').toEqual(['Tools.Read.All']);
  });

  it.skipIf(!hasOpenssl)('refuses an assertion signed by an unregistered key (AADSTS700027)', async () => {
    await expect(
      daemonWithCertificate(unregistered).acquireTokenByClientCredential({ scopes: [`${API_URI}/.default`] }),
      'a certificate that is not registered on the app must be refused',
    ).rejects.toThrow(/AADSTS700027/);

    // The registered certificate's thumbprint, but signed with another key: the signature must be checked.
    const forged = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'RS256', 'x5t#S256': Buffer.from(registered.thumbprintSha256, 'hex').toString('base64url') })
      .setIssuer(APPS.daemon.clientId)
      .setSubject(APPS.daemon.clientId)
      .setAudience(endpoints.token)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(await importPKCS8(unregistered.privateKeyPem, 'RS256'));
    expectEntraError(
      await clientCredentials({
        client_id: APPS.daemon.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: forged,
        scope: `${API_URI}/.default`,
      }),
      { status: 401, error: 'invalid_client', code: 700027 },
      'an assertion naming a registered certificate but signed with another key',
    );
  });

  if (!hasOpenssl) it.skip('certificate tests need openssl on PATH to make a test certificate (node:crypto cannot)', () => {});
});

describe('On-Behalf-Of', () => {
  it('exchanges a user\'s API token for a Graph token for the same user', async () => {
    const incoming = (await apiTokens('grace')).access_token;
    const reply = await onBehalfOf(incoming);
    expect(reply.status, `OBO should work; got ${JSON.stringify(reply.body)}`).toBe(200);
    const claims = decodeJwt(reply.body.access_token!);
    expect(claims.aud, 'the new token is for Graph').toBe(GRAPH);
    expect(claims.oid, 'on behalf of the same user').toBe(grace.oid);
    expect(claims.appid, 'the API is the app calling Graph').toBe(APPS.mcpApi.clientId);
    expect(claims.scp, 'with the asked scope').toBe('User.Read');
  });

  it('refuses an assertion issued to another audience (AADSTS50013)', async () => {
    const forApi = (await apiTokens('ada')).access_token;
    expectEntraError(
      await onBehalfOf(forApi, { clientId: APPS.webApp.clientId, secret: APPS.webApp.secrets[0] }),
      { status: 400, error: 'invalid_grant', code: 50013 },
      'the web app exchanging a token issued to the API',
    );
    const graphToken = (await graphTokens('ada')).access_token;
    expectEntraError(await onBehalfOf(graphToken), { status: 400, error: 'invalid_grant', code: 50013 }, 'the API exchanging a Graph token');
  });

  it('refuses an expired assertion (AADSTS500133)', async () => {
    const incoming = (await apiTokens('ada')).access_token;
    clock.advance(3600 + 60);
    expectEntraError(await onBehalfOf(incoming), { status: 400, error: 'invalid_grant', code: 500133 }, 'an expired assertion');
  });

  it('refuses an app-only assertion', async () => {
    const appOnly = await clientCredentials({ client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope: `${API_URI}/.default` });
    const reply = await onBehalfOf(appOnly.body.access_token!);
    expect(reply.body.error, 'On-Behalf-Of needs a user; an app-only token is refused').toBe('invalid_grant');
    expect(reply.body.access_token, 'no token for an app-only assertion').toBeUndefined();
  });

  it('requires the API to authenticate', async () => {
    const incoming = (await apiTokens('ada')).access_token;
    const reply = await postForm(endpoints.token, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      client_id: APPS.mcpApi.clientId,
      assertion: incoming,
      scope: `${GRAPH}/User.Read`,
      requested_token_use: 'on_behalf_of',
    });
    expect(reply.body.error_codes, 'OBO without a client credential is AADSTS7000218').toEqual([7000218]);
  });
});

describe('device code flow', () => {
  interface DeviceAuthorization {
    device_code: string;
    user_code: string;
    verification_uri: string;
    expires_in: number;
    interval: number;
    message: string;
  }

  async function startDeviceCode(): Promise<DeviceAuthorization> {
    const response = await fetch(endpoints.deviceCode, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: APPS.publicClient.clientId, scope: 'User.Read openid profile offline_access' }),
    });
    expect(response.status, 'the device code endpoint should answer 200').toBe(200);
    return (await response.json()) as DeviceAuthorization;
  }

  function poll(deviceCode: string): Promise<TokenReply> {
    return postForm(endpoints.token, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: APPS.publicClient.clientId,
      device_code: deviceCode,
    });
  }

  it('answers authorization_pending until the user approves, then tokens', async () => {
    const device = await startDeviceCode();
    expect(device.verification_uri, 'the verification page is the emulator\'s /devicelogin').toBe(`${offlineConfig.emulatorUrl.origin}/devicelogin`);
    expect(device.message, 'the message tells the user the page and the code').toContain(device.user_code);
    expect(device.expires_in, 'a device code lives 15 minutes').toBe(900);
    expectEntraError(await poll(device.device_code), { status: 400, error: 'authorization_pending', code: 70016 }, 'polling before approval');

    const page = await approveDeviceCode(device.verification_uri, device.user_code, 'grace');
    expect(page.status, 'approving shows a success page').toBe(200);
    const reply = await poll(device.device_code);
    expect(reply.status, `after approval the poll gives tokens; got ${JSON.stringify(reply.body)}`).toBe(200);
    expect(decodeJwt(reply.body.access_token!).oid, 'for the user who approved').toBe(grace.oid);
    expect(reply.body.refresh_token, 'offline_access gives a refresh token').toBeTruthy();
    expect(reply.body.id_token, 'openid gives an ID token').toBeTruthy();
  });

  it('answers authorization_declined when the user declines', async () => {
    const device = await startDeviceCode();
    await approveDeviceCode(device.verification_uri, device.user_code, 'ada', true);
    expectEntraError(await poll(device.device_code), { status: 400, error: 'authorization_declined', code: 65004 }, 'a declined device code');
  });

  it('answers expired_token once the device code has expired', async () => {
    const device = await startDeviceCode();
    clock.advance(device.expires_in + 1);
    expectEntraError(await poll(device.device_code), { status: 400, error: 'expired_token', code: 70019 }, 'an expired device code');
  });

  it('shows an error on the page for a wrong user code', async () => {
    await startDeviceCode();
    const page = await approveDeviceCode(`${offlineConfig.emulatorUrl.origin}/devicelogin`, 'WRONGCODE', 'ada');
    expect(page.status, 'a wrong code is refused').toBe(400);
    expect(page.html, 'the page says the code is not valid').toMatch(/not valid/i);
  });

  it('asks for the code first, with a visible label, and Next as its only button: Enter cannot sign anyone in', async () => {
    const stop = await new Browser().open(`${offlineConfig.emulatorUrl.origin}/devicelogin`);
    if (stop.kind !== 'page') throw new Error('Expected the device login page.');
    const form = stop.page.html.slice(stop.page.html.indexOf('<form'), stop.page.html.indexOf('</form>'));
    expect(form, 'the code field has a visible <label for="user_code"> (not only aria-label), so everyone can see what to type').toMatch(/<label for="user_code"[^>]*>[^<]*Code/);
    expect(form, 'the label belongs to the field, which has focus when the page opens').toMatch(/<input type="text" id="user_code" name="user_code"[^>]*autofocus/);
    const buttons = stop.page.forms[0]!.buttons;
    expect(buttons.map((b) => b.text), 'the only button is Next: Enter in the code field presses it, and no account is on this page').toEqual(['Next']);
  });

  it('after the code, names the app and waits for an explicit choice of account: nobody is signed in by default', async () => {
    const device = await startDeviceCode();
    const browser = new Browser();
    const stop = await browser.open(device.verification_uri);
    if (stop.kind !== 'page') throw new Error('Expected the device login page.');
    // Type the code and press Enter: the form goes with its only button, Next.
    const next = await browser.submit(stop.page.forms[0]!, undefined, { user_code: device.user_code });
    if (next.kind !== 'page') throw new Error('Expected the account page after Next.');
    expect(next.page.status, 'a right code leads to the account choice').toBe(200);
    expect(next.page.html, 'the page names the app the code belongs to, so a person who did not start this can stop').toContain(APPS.publicClient.displayName);
    expectEntraError(await poll(device.device_code), { status: 400, error: 'authorization_pending', code: 70016 }, 'polling after the code alone (Enter)');

    const form = next.page.forms[0]!;
    const html = next.page.html.slice(next.page.html.indexOf('<form'), next.page.html.indexOf('</form>'));
    expect(form.fields.user_code, 'the code goes along, hidden').toBe(device.user_code);
    expect(form.fields.user, 'no account is chosen in advance').toBeUndefined();
    expect(html, 'nothing has focus on arrival, so a second Enter signs nobody in').not.toMatch(/autofocus/);
    expect(html, 'no positive tabindex: the keyboard follows the page order').not.toMatch(/tabindex="[1-9]/);
    expect(form.buttons.map((b) => b.value), 'Tab order: every account, then Decline').toEqual([...USERS.map((u) => u.oid), 'decline']);

    const signedIn = await browser.submit(form, { name: 'user', value: grace.oid });
    expect(signedIn.kind === 'page' && signedIn.page.html, 'choosing Grace signs Grace in').toMatch(/Grace Hopper is signed in/);
    const reply = await poll(device.device_code);
    expect(reply.status, `once an account is chosen, the poll gives tokens; got ${JSON.stringify(reply.body)}`).toBe(200);
    expect(decodeJwt(reply.body.access_token!).oid, 'for the account chosen').toBe(grace.oid);
  });

  it('is only for apps that allow public client flows', async () => {
    const response = await fetch(endpoints.deviceCode, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: APPS.mcpClient.clientId, scope: 'User.Read' }),
    });
    expect(response.status, 'the MCP client has no public client flows enabled').toBe(400);
  });
});

describe('signing key rotation', () => {
  it('adds the new key to the JWKS, keeps the old one, and signs new tokens with it', async () => {
    const before = (await jwks()).keys.map((k) => k.kid);
    const oldToken = (await apiTokens('ada')).access_token;
    const kid = await emulator.rotateSigningKey();
    const after = (await jwks()).keys.map((k) => k.kid);
    expect(after, 'the new key is published').toContain(kid);
    expect(after, 'old keys stay published so existing tokens keep verifying').toEqual(expect.arrayContaining(before));
    expect(before, 'the new kid is new').not.toContain(kid);
    const newToken = (await apiTokens('ada')).access_token;
    expect(decodeProtectedHeader(newToken).kid, 'new tokens are signed with the new key').toBe(kid);
    // A fresh remote JWKS (jose caches keys per instance, so a new one sees the rotation at once).
    const remote = createRemoteJWKSet(new URL(endpoints.jwks));
    await expect(jwtVerify(newToken, remote, { issuer: offlineConfig.entra.issuer }), 'the new token verifies').resolves.toBeTruthy();
    await expect(jwtVerify(oldToken, remote, { issuer: offlineConfig.entra.issuer }), 'the old token still verifies').resolves.toBeTruthy();
  });
});
