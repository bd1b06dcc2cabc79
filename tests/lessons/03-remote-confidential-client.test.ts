/**
 * Lesson 3: a remote MCP server that is the OAuth authorization server for MCP clients and a
 * confidential client of Entra ID. The SDK's own client signs in headlessly (consent page, the
 * emulator's sign-in page, /auth/callback), attacks on the flow fail without redirecting anywhere
 * unregistered, and sessions refresh, expire and end.
 */
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Express } from 'express';
import { decodeJwt } from 'jose';
import { http, HttpResponse } from 'msw';
import { loadConfig, type WorkshopConfig } from '../../shared/config.ts';
import { APPS, findUser } from '../../shared/emulator/directory.ts';
import { Browser, signIn, type Stop } from '../support/browser.ts';
import { listenOnFreePort, shortPath, type Listening } from '../support/harness.ts';
import { emulator, graph, recordEvents } from '../support/lab.ts';
import { resultText, said } from '../support/mcp.ts';
import { network } from '../support/network.ts';
import { importLesson, lessonDir, requireExport } from '../support/target.ts';
import {
  CLIENT_REDIRECT_URI,
  TestOAuthClient,
  consentForm,
  describeStop,
  entraSignInForm,
  pageText,
  pickUser,
} from '../support/03-remote-confidential-client.ts';

const LESSON = 3;
const FILES = {
  app: shortPath(path.join(lessonDir(LESSON), 'app.ts')),
  consent: shortPath(path.join(lessonDir(LESSON), 'consent.ts')),
  callback: shortPath(path.join(lessonDir(LESSON), 'callback.ts')),
  tokens: shortPath(path.join(lessonDir(LESSON), 'tokens.ts')),
  graphTokens: shortPath(path.join(lessonDir(LESSON), 'graphTokens.ts')),
  clients: shortPath(path.join(lessonDir(LESSON), 'clients.ts')),
  entra: shortPath(path.join(lessonDir(LESSON), 'entra.ts')),
  tools: shortPath(path.join(lessonDir(LESSON), 'tools.ts')),
  sessions: shortPath(path.join(lessonDir(LESSON), 'sessions.ts')),
};
const TOOL = 'get_my_profile';
const SCOPE = 'profile.read';


/** Where to look, for messages: "TODO 3.2 in lessons/03-…/app.ts". */
const at = (todo: string, file: keyof typeof FILES) => `${todo} in ${FILES[file]}`;

interface CreateAppOptions {
  config: WorkshopConfig;
  allowedOrigins?: string[];
  now?: () => number;
  lifetimes?: Partial<{ consentSeconds: number; codeSeconds: number; accessTokenSeconds: number; sessionSeconds: number }>;
}

/** One running copy of the lesson's app on a free port. */
interface Running {
  base: URL;
  mcpUrl: URL;
  config: WorkshopConfig;
  /** Every Location header the app sent, absolute. */
  locations: string[];
  /** Moves the app's clock forward (not the emulator's). */
  advance(seconds: number): void;
}

const servers: Listening[] = [];
const mcpClients: Client[] = [];
let originalEntraLifetime: number;

beforeEach(() => {
  originalEntraLifetime = emulator.settings.accessTokenLifetimeSeconds;
});

afterEach(async () => {
  emulator.settings.accessTokenLifetimeSeconds = originalEntraLifetime;
  await Promise.allSettled(mcpClients.splice(0).map((client) => client.close()));
  await Promise.allSettled(servers.splice(0).map((listening) => listening.close()));
});

/**
 * Listens on a free port first, then builds the config for that port (offline: no ENTRA_* variables),
 * so that the callback URL the app sends to Entra ID is where it really listens.
 */
async function start(lifetimes?: CreateAppOptions['lifetimes']): Promise<Running> {
  const lesson = await importLesson(LESSON, 'app.ts');
  const createApp = requireExport<(options: CreateAppOptions) => Express>(lesson, 'createApp', FILES.app);
  const listening = await listenOnFreePort();
  servers.push(listening);
  const { server, port } = listening;
  const config = loadConfig({ PORT: String(port) });
  let offsetMs = 0;
  const app = createApp({ config, now: () => Date.now() + offsetMs, lifetimes });
  const locations: string[] = [];
  server.on('request', (req, res) => {
    res.on('finish', () => {
      const location = res.getHeader('location');
      if (location) locations.push(new URL(String(location), config.baseUrl).href);
    });
    app(req, res);
  });
  return {
    base: config.baseUrl,
    mcpUrl: config.mcpUrl,
    config,
    locations,
    advance: (seconds) => {
      offsetMs += seconds * 1000;
    },
  };
}

/** A predicate for Browser.stopAt: the client's redirect URI, which nobody serves. */
function isAt(uri: string): (url: URL) => boolean {
  const target = new URL(uri);
  return (url) => url.origin === target.origin && url.pathname === target.pathname;
}

function firstLine(error: unknown): string {
  const status = (error as { code?: unknown }).code;
  const message = String(error instanceof Error ? error.message : error).split('\n')[0]!;
  return typeof status === 'number' && status >= 400 ? `HTTP ${status}: ${message}` : message;
}

/** The SDK client's first connect: it must be refused, then discover, register and want a redirect. */
async function startAuthorization(h: Running, oauth = new TestOAuthClient()) {
  const transport = new StreamableHTTPClientTransport(h.mcpUrl, { authProvider: oauth });
  const probe = new Client({ name: 'lesson-3-tests', version: '1.0.0' });
  let refusal: unknown;
  try {
    await probe.connect(transport);
    mcpClients.push(probe);
  } catch (error) {
    refusal = error;
  }
  if (refusal === undefined) {
    throw new Error(
      `An MCP client with no token connected to ${h.mcpUrl.pathname} and was let in. Protect /mcp with requireBearerAuth (${at('TODO 3.2', 'app')}).`,
    );
  }
  if (!oauth.authorizationUrl) {
    throw new Error(
      `The SDK client could not start its OAuth flow: ${firstLine(refusal)}. It needs a 401 whose WWW-Authenticate names the metadata, ` +
        `and the metadata, /register and /authorize that mcpAuthRouter serves (${at('TODO 3.2', 'app')}).`,
    );
  }
  return { oauth, transport, authorizationUrl: oauth.authorizationUrl };
}

/** Opens the consent page in `browser` and returns its form; fails, pointing at TODO 3.3, when there is none. */
async function openConsent(browser: Browser, authorizationUrl: URL, stopAt: (url: URL) => boolean): Promise<NonNullable<ReturnType<typeof consentForm>>> {
  const consent = await browser.open(authorizationUrl, { stopAt });
  const form = consent.kind === 'page' ? consentForm(consent.page) : undefined;
  expect(form, `GET /authorize should show the consent page; it gave ${describeStop(consent)}. See ${at('TODO 3.3', 'consent')}.`).toBeDefined();
  return form!;
}

/** Consent, then the emulator's sign-in page: returns where the browser ended (stopping at `stopAt`). */
async function approveAndSignIn(browser: Browser, authorizationUrl: URL, user: string, stopAt: (url: URL) => boolean): Promise<Stop> {
  const consent = await browser.open(authorizationUrl, { stopAt });
  const form = consent.kind === 'page' ? consentForm(consent.page) : undefined;
  if (!form) {
    throw new Error(
      `GET /authorize should show a consent page with two buttons (name="decision", value="approve" and value="deny"); it gave ${describeStop(consent)}. ` +
        `See ${at('TODO 3.3', 'consent')}.`,
    );
  }
  const sent = browser.requests.length;
  const entraPage = await browser.submit(form.form, form.approve, {}, { stopAt });
  const signInForm = entraPage.kind === 'page' ? entraSignInForm(entraPage.page) : undefined;
  if (!signInForm) {
    throw new Error(
      `Approving on the consent page (the browser sent Origin: ${browser.requests[sent]?.headers.origin} and the flow cookie) should send the browser to Entra ID's sign-in page; ` +
        `it gave ${describeStop(entraPage)}. See checkOrigin (${at('TODO 3.1', 'app')}), decideConsent (${at('TODO 3.4', 'consent')}) and signInUrl (${at('TODO 3.4', 'entra')}).`,
    );
  }
  return pickUser(browser, signInForm, user, stopAt);
}

interface SignedIn {
  mcp: Client;
  oauth: TestOAuthClient;
  browser: Browser;
  /** The code the client redeemed (already used). */
  code: string;
}

/** The whole flow, as an MCP client and a person at a browser would do it. */
async function signInWithSdkClient(h: Running, user: string, oauth = new TestOAuthClient()): Promise<SignedIn> {
  const { transport, authorizationUrl } = await startAuthorization(h, oauth);
  const browser = new Browser();
  const back = await approveAndSignIn(browser, authorizationUrl, user, isAt(oauth.redirectUrl));
  const code = back.kind === 'redirect' ? back.location.searchParams.get('code') : null;
  if (back.kind !== 'redirect' || !code) {
    throw new Error(
      `After the sign-in at Entra ID, /auth/callback should send the browser to the client's redirect URI with ?code=…; it gave ${describeStop(back)}. ` +
        `See ${at('TODO 3.5', 'callback')} (completeSignIn) and redeemCode (${at('TODO 3.5', 'entra')}); completeSignIn finds the sign-in under the state decideConsent stored it with (${at('TODO 3.4', 'consent')}).`,
    );
  }
  expect(
    back.location.searchParams.get('state'),
    `The client's own state must come back unchanged with the code, so it can tell its flow from a forged one. See ${at('TODO 3.5', 'callback')}.`,
  ).toBe(oauth.lastState);
  try {
    await transport.finishAuth(code);
  } catch (error) {
    throw new Error(`The SDK client could not redeem its code at /token: ${firstLine(error)}. See ${at('TODO 3.6', 'tokens')}; the code is looked up by its hash, as completeSignIn stored it (${at('TODO 3.5', 'callback')}).`);
  }
  const mcp = new Client({ name: 'lesson-3-tests', version: '1.0.0' });
  try {
    await mcp.connect(new StreamableHTTPClientTransport(h.mcpUrl, { authProvider: oauth }));
  } catch (error) {
    throw new Error(
      `With the access token from /token the client should get in, but connecting failed: ${firstLine(error)}. ` +
        `verifyAccessToken must accept the tokens you issue (${at('TODO 3.7', 'tokens')}).`,
    );
  }
  mcpClients.push(mcp);
  return { mcp, oauth, browser, code };
}

/** Calls the profile tool and returns the profile; failures name the TODO. */
async function profileOf(mcp: Client, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  let result: CallToolResult;
  try {
    result = (await mcp.callTool({ name: TOOL, arguments: args })) as CallToolResult;
  } catch (error) {
    throw new Error(`Calling ${TOOL} failed: ${firstLine(error)}. Register the tool (${at('TODO 3.10', 'tools')}).`);
  }
  const text = resultText(result);
  if (result.isError && /carries no session/.test(text)) {
    // The given graphTokenFor (graphTokens.ts) says so when AuthInfo.extra has no sessionId.
    throw new Error(`${TOOL} answered with an error: ${said(text)}. verifyAccessToken must return extra: { sessionId } in the AuthInfo, where tools find the caller (${at('TODO 3.7', 'tokens')}).`);
  }
  if (result.isError) {
    throw new Error(
      `${TOOL} answered with an error: ${said(text)}. It needs a Graph token from the caller's session (${at('TODO 3.9', 'graphTokens')}, ` +
        `graphToken in ${FILES.entra}) and a call to Graph /me (${at('TODO 3.10', 'tools')}).`,
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${TOOL} should answer with the Graph profile as JSON; it answered: ${said(text, 200)}. See ${at('TODO 3.10', 'tools')}.`);
  }
}

/** A raw POST to /mcp (tools/list), to see the HTTP status and headers a client gets. */
function postMcp(h: Running, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(h.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

/** A raw form POST to one of the OAuth endpoints. */
async function postForm(h: Running, endpoint: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(endpoint, h.base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** Every redirect the app made went to itself, to Entra ID's sign-in, or to a registered redirect URI. */
function expectOnlyRegisteredRedirects(h: Running, registered: string[], context: string): void {
  const allowed = (href: string) => {
    const url = new URL(href);
    if (url.origin === h.base.origin) return true;
    if (href.startsWith(emulator.endpoints.authorize)) return true;
    return registered.some((uri) => isAt(uri)(url));
  };
  const elsewhere = h.locations.filter((location) => !allowed(location));
  expect(
    elsewhere,
    `${context}: the server may only redirect to its own pages, to Entra ID's sign-in page, or to a redirect URI the client registered; ` +
      `it also redirected to ${elsewhere.join(', ')}. Take the redirect URI from your own records, never from the request (redirectToClient in ${FILES.consent} and ${FILES.callback}).`,
  ).toEqual([]);
}

/** The challenge a 401 must carry: Bearer, invalid_token, and where the metadata is. */
function expectChallenge(response: Response, h: Running, what: string, fix = `Protect /mcp with requireBearerAuth (${at('TODO 3.2', 'app')}).`): void {
  const header = response.headers.get('www-authenticate') ?? '';
  const prm = new URL('/.well-known/oauth-protected-resource/mcp', h.base).href;
  expect(response.status, `${what} should get 401; it got ${response.status}.${response.status === 500 ? ` A 500 means verifyAccessToken threw something other than InvalidTokenError (${at('TODO 3.7', 'tokens')}).` : ` ${fix}`}`).toBe(401);
  expect(header, `${what}: the 401 needs a WWW-Authenticate header starting with "Bearer"; it was "${header}". See ${at('TODO 3.2', 'app')}.`).toMatch(/^Bearer /);
  expect(header, `${what}: WWW-Authenticate should say error="invalid_token"; it was "${header}".`).toContain('error="invalid_token"');
  expect(
    header,
    `${what}: WWW-Authenticate should point at the Protected Resource Metadata with resource_metadata="${prm}" (RFC 9728 §5.1); it was "${header}". ` +
      `Pass resourceMetadataUrl to requireBearerAuth (${at('TODO 3.2', 'app')}).`,
  ).toContain(`resource_metadata="${prm}"`);
}

/** What a raw client would send to /mcp with this token. */
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Registers a client at /register (RFC 7591) the way an MCP client does: public, with these redirect URIs. */
async function registerClient(h: Running, redirectUris: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/register', h.base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Another client',
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

describe('lesson 3: /mcp is locked, and says where the key is', () => {
  it('answers 401 with a WWW-Authenticate challenge to no token, a malformed header and an unknown token', async () => {
    const h = await start();
    expectChallenge(await postMcp(h), h, 'A request without an Authorization header');
    expectChallenge(await postMcp(h, { authorization: 'Basic YWRhOnNlY3JldA==' }), h, 'A request with "Authorization: Basic …"');
    expectChallenge(await postMcp(h, { authorization: 'Bearer' }), h, 'A request with "Authorization: Bearer" and no token');
    expectChallenge(await postMcp(h, bearer('not-a-token-this-server-issued')), h, 'A request with a token this server never issued', `verifyAccessToken must refuse a token it has no record of (${at('TODO 3.7', 'tokens')}).`);
    const entraToken = await emulator.issueAccessToken({ client: APPS.webApp.clientId, user: 'ada', scope: 'User.Read' });
    expectChallenge(await postMcp(h, bearer(entraToken)), h, 'A request with an Entra ID token (we only accept our own)', `verifyAccessToken accepts only tokens this server issued, looked up by hash (${at('TODO 3.7', 'tokens')}).`);
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(h.mcpUrl, { method, headers: { accept: 'application/json, text/event-stream' } });
      expectChallenge(response, h, `${method} /mcp without a token`, `Every method of /mcp needs a token, not only POST: mount requireBearerAuth with app.use('/mcp', …) before the routes (${at('TODO 3.2', 'app')}).`);
    }
  });

  it('publishes Protected Resource Metadata naming itself as the authorization server, and that server\'s metadata', async () => {
    const h = await start();
    const prmResponse = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', h.base));
    expect(prmResponse.status, `GET /.well-known/oauth-protected-resource/mcp should answer 200; it got ${prmResponse.status}. Mount mcpAuthRouter with resourceServerUrl = config.mcpUrl (${at('TODO 3.2', 'app')}).`).toBe(200);
    const prm = (await prmResponse.json()) as { resource?: string; authorization_servers?: string[]; scopes_supported?: string[] };
    expect(prm.resource, `The metadata's "resource" must be exactly the MCP URL ${h.mcpUrl.href} (RFC 9728 §2). See ${at('TODO 3.2', 'app')}.`).toBe(h.mcpUrl.href);
    expect(prm.authorization_servers, `"authorization_servers" should name this server (issuerUrl = config.baseUrl): MCP clients get their tokens here, not at Entra ID. See ${at('TODO 3.2', 'app')}.`).toEqual([h.base.href]);

    const asResponse = await fetch(new URL('/.well-known/oauth-authorization-server', h.base));
    expect(asResponse.status, `GET /.well-known/oauth-authorization-server should answer 200. See ${at('TODO 3.2', 'app')}.`).toBe(200);
    const as = (await asResponse.json()) as Record<string, unknown>;
    for (const [field, pathname] of [['authorization_endpoint', '/authorize'], ['token_endpoint', '/token'], ['registration_endpoint', '/register'], ['revocation_endpoint', '/revoke']]) {
      expect(as[field], `The authorization server metadata should list ${field} = ${new URL(pathname!, h.base).href}. See ${at('TODO 3.2', 'app')}.`).toBe(new URL(pathname!, h.base).href);
    }
    expect(as.code_challenge_methods_supported, 'The metadata should promise PKCE with S256.').toEqual(['S256']);
  });

  it('refuses a foreign Origin or Host with 403, and lets its own origin through to the token check', async () => {
    const h = await start();
    const foreign = await postMcp(h, { origin: 'https://attacker.example' });
    expect(foreign.status, `A request with "Origin: https://attacker.example" should get 403 before anything else; it got ${foreign.status}. See checkOrigin (${at('TODO 3.1', 'app')}).`).toBe(403);
    for (const [origin, why] of [
      ['null', 'a sandboxed frame or a redirect sends "Origin: null": it names no page you trust'],
      [`${h.base.origin}.attacker.example`, 'it starts like your own origin, but a different host: compare whole origins, not prefixes'],
    ] as const) {
      const response = await postMcp(h, { origin });
      expect(response.status, `A request with "Origin: ${origin}" should get 403 (${why}); it got ${response.status}. See checkOrigin (${at('TODO 3.1', 'app')}).`).toBe(403);
    }
    const own = await postMcp(h, { origin: h.base.origin });
    expect(own.status, `A request from the server's own origin (${h.base.origin}) must pass the Origin check and reach the token check (401); it got ${own.status}. See ${at('TODO 3.1', 'app')}.`).toBe(401);

    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(h.mcpUrl, { method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status, `A foreign Host header should get 403 (DNS rebinding). Keep createMcpExpressApp({ allowedHosts }) in ${FILES.app}.`).toBe(403);
  });
});

describe('lesson 3: an MCP client signs in through the consent page and Entra ID', () => {
  it('the SDK client discovers, registers, gets consent and a sign-in, and the tool returns the signed-in user\'s profile', async () => {
    const h = await start();
    const oauth = new TestOAuthClient('Workshop <Test> Client');
    const { transport, authorizationUrl } = await startAuthorization(h, oauth);
    expect(oauth.clientId, `The SDK client should have registered itself at /register (dynamic client registration). See ${at('TODO 3.2', 'app')}.`).toBeTruthy();

    const browser = new Browser();
    const stopAt = isAt(oauth.redirectUrl);
    const consent = await browser.open(authorizationUrl, { stopAt });
    const form = consent.kind === 'page' ? consentForm(consent.page) : undefined;
    expect(form, `GET /authorize should show a consent page with Approve and Deny buttons; it gave ${describeStop(consent)}. See ${at('TODO 3.3', 'consent')}.`).toBeDefined();
    const page = (consent as Extract<Stop, { kind: 'page' }>).page;
    const text = pageText(page);
    expect(page.html, `The consent page should name the client as it registered, HTML-escaped ("Workshop &lt;Test&gt; Client"); its text was: ${said(text)}. See ${at('TODO 3.3', 'consent')}.`).toContain('Workshop &lt;Test&gt; Client');
    expect(page.html, 'The client name must be escaped: a name is chosen by whoever registers, and must never become markup on your page.').not.toContain('<Test>');
    expect(page.html, `The consent page should show where the code will go: ${CLIENT_REDIRECT_URI}. See ${at('TODO 3.3', 'consent')}.`).toContain(CLIENT_REDIRECT_URI);
    expect(page.html, `The consent page should show the scope the client asks for (${SCOPE}). See ${at('TODO 3.3', 'consent')}.`).toContain(SCOPE);
    const framing = `${page.headers.get('x-frame-options') ?? ''} ${page.headers.get('content-security-policy') ?? ''}`;
    expect(framing, `The consent page must not be frameable (X-Frame-Options: DENY or CSP frame-ancestors 'none'), or a clickjacking page could get the click. Use sendPage (${at('TODO 3.3', 'consent')}).`).toMatch(/DENY|frame-ancestors 'none'/i);

    const entraPage = await browser.submit(form!.form, form!.approve, {}, { stopAt });
    const signInForm = entraPage.kind === 'page' ? entraSignInForm(entraPage.page) : undefined;
    expect(signInForm, `Approve should lead to Entra ID's sign-in page; it gave ${describeStop(entraPage)}. See ${at('TODO 3.4', 'consent')}; it takes the request authorize stored (${at('TODO 3.3', 'consent')}).`).toBeDefined();
    const authorize = new URL((entraPage as Extract<Stop, { kind: 'page' }>).page.url);
    expect(authorize.searchParams.get('client_id'), `The sign-in request to Entra ID should use the web app's client ID (config.entra.webClientId). See signInUrl (${at('TODO 3.4', 'entra')}).`).toBe(APPS.webApp.clientId);
    expect(authorize.searchParams.get('code_challenge_method'), `Our own request to Entra ID needs PKCE (S256). See ${at('TODO 3.4', 'entra')}.`).toBe('S256');
    expect(authorize.searchParams.get('state'), 'Our own request to Entra ID needs a state of its own, not the client\'s.').not.toBe(oauth.lastState);
    expect(authorize.searchParams.get('redirect_uri'), `Entra ID should send the browser back to ${h.config.callbackUrl.href}. See ${at('TODO 3.4', 'entra')}.`).toBe(h.config.callbackUrl.href);

    const seen = recordEvents();
    const back = await pickUser(browser, signInForm!, 'ada', stopAt);
    const code = back.kind === 'redirect' ? back.location.searchParams.get('code') : null;
    expect(code, `After the sign-in, /auth/callback should send the browser to the client's redirect URI with ?code=…; it gave ${describeStop(back)}. See ${at('TODO 3.5', 'callback')}; it finds the sign-in under the state decideConsent stored it with (${at('TODO 3.4', 'consent')}).`).toBeTruthy();
    expect((back as Extract<Stop, { kind: 'redirect' }>).location.searchParams.get('state'), `The client's state must come back unchanged. See ${at('TODO 3.5', 'callback')}.`).toBe(oauth.lastState);
    const redemption = seen.find((event) => event.code === 'token-issued' && event.grant === 'authorization_code');
    expect(redemption?.clientId, `The server should redeem Entra's code itself, as the confidential web app, with MSAL's acquireTokenByCode (${at('TODO 3.5', 'entra')}).`).toBe(APPS.webApp.clientId);

    try {
      await transport.finishAuth(code!);
    } catch (error) {
      throw new Error(`The SDK client could not redeem the code at /token: ${firstLine(error)}. See ${at('TODO 3.6', 'tokens')}; the code is looked up by its hash, as completeSignIn stored it (${at('TODO 3.5', 'callback')}).`);
    }
    const tokens = oauth.tokens()!;
    expect(tokens.access_token.split('.').length, 'The access token the MCP client holds should be our own opaque string, not a JWT from Entra ID: Entra tokens stay on the server.').not.toBe(3);
    expect(tokens.refresh_token, `The token response should include a refresh_token. See ${at('TODO 3.6', 'tokens')}.`).toBeTruthy();

    const mcp = new Client({ name: 'lesson-3-tests', version: '1.0.0' });
    try {
      await mcp.connect(new StreamableHTTPClientTransport(h.mcpUrl, { authProvider: oauth }));
    } catch (error) {
      throw new Error(`With its access token the client should get in; connecting failed: ${firstLine(error)}. See ${at('TODO 3.7', 'tokens')}.`);
    }
    mcpClients.push(mcp);
    const profile = await profileOf(mcp);
    expect(profile.displayName, `${TOOL} should return the signed-in user's Graph profile (Ada Lovelace); it returned ${JSON.stringify(profile)}. See ${at('TODO 3.10', 'tools')}.`).toBe('Ada Lovelace');

    const graphCall = graph.calls.find((call) => call.path === '/v1.0/me');
    expect(graphCall?.token, 'Graph should have received a token.').toBeTruthy();
    expect(graphCall!.token, 'Graph must get the Entra ID token from the session, never the token the MCP client sent us.').not.toBe(tokens.access_token);
    expect(decodeJwt(graphCall!.token!).azp ?? decodeJwt(graphCall!.token!).appid, 'The Graph token should belong to the web app (our confidential client).').toBe(APPS.webApp.clientId);
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'The whole flow');
  });

  it('each Entra sign-in keeps that user\'s tokens and no one else\'s (EntraClient, one per server)', async () => {
    const h = await start();
    const lesson = await importLesson(LESSON, 'entra.ts');
    type UpstreamClient = {
      generatePkce(): Promise<{ verifier: string; challenge: string }>;
      signInUrl(o: { state: string; codeChallenge: string }): Promise<string>;
      redeemCode(o: { code: string; codeVerifier: string }): Promise<{ homeAccountId: string; tokenCache: string }>;
    };
    const EntraClient = requireExport<new (config: WorkshopConfig) => UpstreamClient>(lesson, 'EntraClient', FILES.entra);
    // One client for the server's life, as createApp keeps it: two people sign in through it, one after the other.
    const entra = new EntraClient(h.config);
    const caches: Array<{ user: string; homeAccountId: string; accounts: string[]; refreshTokens: number }> = [];
    for (const user of ['ada', 'grace']) {
      const pkce = await entra.generatePkce();
      const attempt = async <T,>(step: () => Promise<T>, what: string, todo: string): Promise<T> => {
        try {
          return await step();
        } catch (error) {
          throw new Error(`${what} failed for ${user}: ${firstLine(error)}. See ${at(todo, 'entra')}.`);
        }
      };
      const url = await attempt(() => entra.signInUrl({ state: `state-${user}`, codeChallenge: pkce.challenge }), 'signInUrl', 'TODO 3.4');
      const { params } = await signIn(url, user, { redirectUri: h.config.callbackUrl.href });
      const signedIn = await attempt(() => entra.redeemCode({ code: params.get('code') ?? '', codeVerifier: pkce.verifier }), 'redeemCode', 'TODO 3.5');
      const cache = JSON.parse(signedIn.tokenCache) as { Account?: Record<string, { home_account_id: string }>; RefreshToken?: Record<string, unknown> };
      caches.push({ user, homeAccountId: signedIn.homeAccountId, accounts: Object.values(cache.Account ?? {}).map((account) => account.home_account_id), refreshTokens: Object.keys(cache.RefreshToken ?? {}).length });
    }
    for (const { user, homeAccountId, accounts, refreshTokens } of caches) {
      expect(
        { accounts, refreshTokens },
        `The MSAL cache of ${user}'s sign-in should hold ${user}'s account and refresh token only; it holds ${accounts.length} account(s) (${accounts.join(', ')}) and ${refreshTokens} refresh token(s). A session keeps one user's Entra tokens and no one else's: make a new ConfidentialClientApplication for each use, never one shared by everyone (msal() in ${FILES.entra}, ${at('TODO 3.5', 'entra')}).`,
      ).toEqual({ accounts: [homeAccountId], refreshTokens: 1 });
    }
  });

  it('two users signed in at once each see only their own profile, whatever the request body says', async () => {
    const h = await start();
    const ada = await signInWithSdkClient(h, 'ada', new TestOAuthClient('Ada\'s client'));
    const grace = await signInWithSdkClient(h, 'grace', new TestOAuthClient('Grace\'s client', 'http://localhost:8977/callback'));
    const seen = [await profileOf(grace.mcp), await profileOf(ada.mcp), await profileOf(grace.mcp), await profileOf(ada.mcp)];
    expect(seen.map((p) => p.displayName), `Each client should see its own user's profile, in any order. The tool must find the caller through extra.authInfo (${at('TODO 3.10', 'tools')}) and the session's own Entra tokens (${at('TODO 3.9', 'graphTokens')}).`).toEqual(['Grace Hopper', 'Ada Lovelace', 'Grace Hopper', 'Ada Lovelace']);
    const smuggled = await profileOf(ada.mcp, { userId: findUser('grace')!.oid, userPrincipalName: 'grace@contoso.test' });
    expect(smuggled.displayName, `Arguments in the request body must never choose whose data is read: Ada's client asked for Grace and got ${String(smuggled.displayName)}. See ${at('TODO 3.10', 'tools')}.`).toBe('Ada Lovelace');
  });
});

describe('lesson 3: Graph failures become tool errors a person can act on', () => {
  it('Graph throttling (429 with Retry-After), or a 503, is answered at once with when to retry, and the next call works', async () => {
    const h = await start();
    const { mcp, oauth } = await signInWithSdkClient(h, 'ada');
    await profileOf(mcp);
    const graphToken = graph.calls.at(-1)?.token ?? '';
    // Far less than the 30 s Retry-After: a Graph client that waits it out inside the tool call is too slow.
    const promptMs = 5000;
    for (const status of [429, 503] as const) {
      graph.failNext({ status, retryAfterSeconds: 30 });
      const result = (await mcp.callTool({ name: TOOL, arguments: {} }, undefined, { timeout: promptMs }).catch((error: unknown) => {
        throw new Error(
          `After a ${status} from Graph with Retry-After: 30, ${TOOL} should answer at once with an error result; the call failed: ${firstLine(error)}. ` +
            `The Graph client's default RetryHandler waits out Retry-After inside the tool call: use the given graphClient(token) from shared/graph.ts (${at('TODO 3.10', 'tools')}).`,
        );
      })) as CallToolResult;
      const text = resultText(result);
      expect(result.isError, `A ${status} from Graph should come back as a tool error (isError: true); it answered: ${said(text, 200)}. See ${at('TODO 3.10', 'tools')}.`).toBe(true);
      expect(text, `The error should tell the person when to try again: Retry-After said 30 seconds; it said: ${said(text)}. Use the given describeGraphError from shared/graph.ts (${at('TODO 3.10', 'tools')}).`).toMatch(/\b30\b/);
      expect(text, `A tool error is for a person: no stack trace; it was: ${said(text, 300)}. See ${at('TODO 3.10', 'tools')}.`).not.toMatch(/^\s+at .+:\d+/m);
      for (const token of [graphToken, oauth.tokens()!.access_token]) expect(text, 'A tool error must never show a token.').not.toContain(token);
    }
    const again = await profileOf(mcp);
    expect(again.displayName, `Once Graph answers again, so should ${TOOL}. See ${at('TODO 3.10', 'tools')}.`).toBe('Ada Lovelace');
  });

  it('a 403 from Graph becomes a tool error that names the missing permission (User.Read)', async () => {
    const h = await start();
    const { mcp } = await signInWithSdkClient(h, 'ada');
    network.use(
      http.get(
        `${h.config.graphBaseUrl}/me`,
        () => HttpResponse.json({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }, { status: 403 }),
        { once: true },
      ),
    );
    const result = (await mcp.callTool({ name: TOOL, arguments: {} }).catch((error: unknown) => {
      throw new Error(`Calling ${TOOL} failed: ${firstLine(error)}. Register the tool (${at('TODO 3.10', 'tools')}).`);
    })) as CallToolResult;
    expect(result.isError, `A 403 from Graph should be a tool error; it answered: ${said(resultText(result), 200)}. See ${at('TODO 3.10', 'tools')}.`).toBe(true);
    expect(resultText(result), `A person fixes a 403 by granting the permission, so name it (User.Read). Use the given describeGraphError from shared/graph.ts (${at('TODO 3.10', 'tools')}).`).toContain('User.Read');
    expect((await profileOf(mcp)).displayName, `Once Graph answers again, so should ${TOOL}.`).toBe('Ada Lovelace');
  });
});

describe('lesson 3: Entra ID out of reach', () => {
  it('a tool call that must renew the Entra token says Entra ID could not be reached, keeps the session, and works once it can', async () => {
    // Entra tokens that expire within MSAL's renewal window: every call goes to Entra ID's token endpoint.
    emulator.settings.accessTokenLifetimeSeconds = 60;
    const h = await start();
    const { mcp, oauth } = await signInWithSdkClient(h, 'ada');
    network.use(http.post(emulator.endpoints.token, () => HttpResponse.error()));
    const result = (await mcp.callTool({ name: TOOL, arguments: {} }).catch((error: unknown) => {
      throw new Error(`With Entra ID out of reach, ${TOOL} should answer with an error result; the call failed: ${firstLine(error)}. See ${at('TODO 3.10', 'tools')}.`);
    })) as CallToolResult;
    const text = resultText(result);
    expect(result.isError, `With Entra ID out of reach, ${TOOL} should return an error result; it answered: ${said(text, 200)}. See ${at('TODO 3.10', 'tools')}.`).toBe(true);
    expect(
      text,
      `The error should name the cause, that Entra ID could not be reached; it said: ${said(text)}. Let errors other than SignInRequiredError through in ${at('TODO 3.10', 'tools')} ` +
        `(graphTokenFor in ${FILES.graphTokens} words them), and rethrow MSAL's errors in graphToken (${at('TODO 3.9', 'entra')}).`,
    ).toMatch(/could not reach Entra ID/i);
    expect(text, `A tool error is for a person, not MSAL's raw "network_error: Network request failed"; it said: ${said(text)}.`).not.toMatch(/network_error|additionalErrorInfo/);
    expect(text, `A network failure is not a reason to sign in again; it said: ${said(text)}. Only InteractionRequiredAuthError and invalid_grant become SignInRequiredError (${at('TODO 3.9', 'entra')}).`).not.toMatch(/sign in again/i);
    expect(text, 'A tool error must never show a token.').not.toContain(oauth.tokens()!.access_token);

    network.resetHandlers();
    expect((await profileOf(mcp)).displayName, `Once Entra ID answers again, the same session should work: a network failure must not end it (${at('TODO 3.9', 'graphTokens')}).`).toBe('Ada Lovelace');

    // An answer from Entra ID that is an outage, not a verdict on the user: the session stays too.
    network.use(
      http.post(emulator.endpoints.token, () =>
        HttpResponse.json({ error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.', error_codes: [90033] }, { status: 503 }),
      ),
    );
    const outage = (await mcp.callTool({ name: TOOL, arguments: {} }).catch((error: unknown) => {
      throw new Error(`With Entra ID answering 503, ${TOOL} should answer with an error result; the call failed: ${firstLine(error)}. See ${at('TODO 3.10', 'tools')}.`);
    })) as CallToolResult;
    expect(outage.isError, `With Entra ID answering 503, ${TOOL} should return an error result; it answered: ${said(resultText(outage), 200)}. See ${at('TODO 3.10', 'tools')}.`).toBe(true);
    expect(
      resultText(outage),
      `A 503 temporarily_unavailable from Entra ID is an outage, not a reason to sign in again; it said: ${said(resultText(outage))}. Only InteractionRequiredAuthError and invalid_grant become SignInRequiredError (${at('TODO 3.9', 'entra')}).`,
    ).not.toMatch(/sign in again/i);
    network.resetHandlers();
    expect((await profileOf(mcp)).displayName, `Once Entra ID answers again after its 503, the same session should work: an outage must not end it. Only InteractionRequiredAuthError and invalid_grant end a session (${at('TODO 3.9', 'entra')}).`).toBe('Ada Lovelace');
  });
});

describe('lesson 3: attacks on the flow fail, and never redirect to an unregistered address', () => {
  it('a tampered state, or the right state in another browser, is refused at /auth/callback without a redirect', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const atCallback = isAt(h.config.callbackUrl.href);
    const callback = await approveAndSignIn(browser, authorizationUrl, 'ada', (url) => atCallback(url) || isAt(oauth.redirectUrl)(url));
    expect(callback.kind === 'redirect' && atCallback(callback.location), `Entra ID should send the browser to ${h.config.callbackUrl.href}; it went to ${describeStop(callback)}. See ${at('TODO 3.4', 'entra')}.`).toBe(true);
    const genuine = (callback as Extract<Stop, { kind: 'redirect' }>).location;

    const tampered = new URL(genuine);
    tampered.searchParams.set('state', `${genuine.searchParams.get('state')}x`);
    const forged = await browser.open(tampered, { stopAt: isAt(oauth.redirectUrl) });
    expect(forged.kind, `/auth/callback with a state this server never issued must show an error page, not redirect anywhere; it gave ${describeStop(forged)}. See ${at('TODO 3.5', 'callback')}.`).toBe('page');
    expect((forged as Extract<Stop, { kind: 'page' }>).page.status, `A tampered state should get a 4xx error page. See ${at('TODO 3.5', 'callback')}.`).toBeGreaterThanOrEqual(400);

    const elsewhere = await new Browser().open(genuine, { stopAt: isAt(oauth.redirectUrl) });
    expect(elsewhere.kind === 'page' && elsewhere.page.status >= 400, `The genuine callback URL opened in another browser (without the flow's cookie) must be refused with an error page (login CSRF); it gave ${describeStop(elsewhere)}. See ${at('TODO 3.5', 'callback')}.`).toBe(true);
    expect(h.locations.some((location) => new URL(location).searchParams.has('code')), 'No authorization code may reach the client from a refused callback.').toBe(false);
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'A tampered callback');
  });

  it('a reused code is refused, and the tokens from its first use stop working', async () => {
    const h = await start();
    const { oauth, code } = await signInWithSdkClient(h, 'ada');
    const replay = await postForm(h, '/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: oauth.codeVerifier(),
      redirect_uri: oauth.redirectUrl,
      client_id: oauth.clientId!,
    });
    expect(replay.status, `Redeeming the same code twice must fail with 400; it got ${replay.status} ${JSON.stringify(replay.body)}. Codes are single-use (${at('TODO 3.6', 'tokens')}).`).toBe(400);
    expect(replay.body.error, `A reused code should give error "invalid_grant". See ${at('TODO 3.6', 'tokens')}.`).toBe('invalid_grant');
    const after = await postMcp(h, bearer(oauth.tokens()!.access_token));
    // Which half is missing? Once the session has ended, its refresh token is refused, whatever verifyAccessToken does.
    const refreshRefused = after.status !== 401 && (await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: oauth.tokens()!.refresh_token!, client_id: oauth.clientId! })).status === 400;
    expect(
      after.status,
      `A code used twice has leaked: the tokens issued for its first use should be revoked (RFC 6749 §4.1.2), so the old access token gets 401; it got ${after.status}. ` +
        (refreshRefused
          ? `The session did end (its refresh token is refused), yet verifyAccessToken still accepted the access token: refuse a token whose session is gone (${at('TODO 3.7', 'tokens')}).`
          : `End the session that its first use started (exchangeAuthorizationCode, ${at('TODO 3.6', 'tokens')}).`),
    ).toBe(401);
  });

  it('a wrong PKCE verifier or a different redirect_uri at /token is refused', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const back = await approveAndSignIn(new Browser(), authorizationUrl, 'ada', isAt(oauth.redirectUrl));
    const code = back.kind === 'redirect' ? back.location.searchParams.get('code') : null;
    expect(code, `The flow should end at the client's redirect URI with a code; it gave ${describeStop(back)}. See ${at('TODO 3.5', 'callback')}.`).toBeTruthy();
    const form = { grant_type: 'authorization_code', code: code!, redirect_uri: oauth.redirectUrl, client_id: oauth.clientId! };

    const wrongVerifier = await postForm(h, '/token', { ...form, code_verifier: 'a'.repeat(43) });
    expect(wrongVerifier.status, `A token request with the wrong PKCE verifier must fail with 400 invalid_grant; it got ${wrongVerifier.status} ${JSON.stringify(wrongVerifier.body)}. challengeForAuthorizationCode must return the challenge the client sent to /authorize (${at('TODO 3.6', 'tokens')}).`).toBe(400);
    expect(wrongVerifier.body.access_token, 'No tokens for a wrong verifier.').toBeUndefined();

    const otherRedirect = await postForm(h, '/token', { ...form, code_verifier: oauth.codeVerifier(), redirect_uri: 'http://localhost:8976/elsewhere' });
    expect(otherRedirect.status, `A token request whose redirect_uri differs from the one at /authorize must fail with 400 invalid_grant (RFC 6749 §4.1.3); it got ${otherRedirect.status} ${JSON.stringify(otherRedirect.body)}. See ${at('TODO 3.6', 'tokens')}.`).toBe(400);
    expect(otherRedirect.body.access_token, 'No tokens for a different redirect_uri.').toBeUndefined();
  });

  it('an unregistered or altered redirect_uri gets an error page, never a redirect or a consent page', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    for (const forged of ['https://attacker.example/oauth/callback', 'http://localhost:8976/oauth/callback/../steal', 'http://localhost:8976/oauth/callbackx', 'http://attacker.example:8976/oauth/callback']) {
      const url = new URL(authorizationUrl);
      url.searchParams.set('redirect_uri', forged);
      const stop = await new Browser().open(url, { stopAt: () => true });
      expect(stop.kind, `GET /authorize with redirect_uri=${forged} (not registered) must not redirect anywhere; it gave ${describeStop(stop)}.`).toBe('page');
      const page = (stop as Extract<Stop, { kind: 'page' }>).page;
      expect(page.status, `GET /authorize with an unregistered redirect_uri should answer 400; it got ${page.status}.`).toBe(400);
      expect(consentForm(page), 'No consent page for an unregistered redirect_uri.').toBeUndefined();
    }
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'Unregistered redirect URIs');
  });

  it('Deny sends access_denied and the client\'s state to the registered redirect URI, and nobody signs in', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const stopAt = isAt(oauth.redirectUrl);
    const form = await openConsent(browser, authorizationUrl, stopAt);
    const seen = recordEvents();
    const denied = await browser.submit(form!.form, form!.deny, {}, { stopAt });
    expect(denied.kind === 'redirect' && stopAt(denied.location), `Deny should redirect to the client's registered redirect URI ${oauth.redirectUrl}; it gave ${describeStop(denied)}. See ${at('TODO 3.4', 'consent')}.`).toBe(true);
    const params = (denied as Extract<Stop, { kind: 'redirect' }>).location.searchParams;
    expect(params.get('error'), `Deny should send error=access_denied. See ${at('TODO 3.4', 'consent')}.`).toBe('access_denied');
    expect(params.get('state'), `Deny should return the client's state, so it can match the answer to its request. See ${at('TODO 3.4', 'consent')}.`).toBe(oauth.lastState);
    expect(params.has('code'), 'Deny must not give the client a code.').toBe(false);
    expect(seen.filter((event) => event.code === 'signed-in' || event.code === 'token-issued'), 'After Deny, nobody should sign in at Entra ID and no token should be issued.').toEqual([]);
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'Deny');
  });

  it('a sign-in cancelled at Entra ID ends at the client with access_denied and its state, and no code', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const stopAt = isAt(oauth.redirectUrl);
    const form = await openConsent(browser, authorizationUrl, stopAt);
    const entraPage = await browser.submit(form!.form, form!.approve, {}, { stopAt });
    const signInForm = entraPage.kind === 'page' ? entraSignInForm(entraPage.page) : undefined;
    expect(signInForm, `Approve should lead to Entra ID's sign-in page; it gave ${describeStop(entraPage)}. See ${at('TODO 3.4', 'consent')}.`).toBeDefined();
    // The person presses Cancel: Entra ID sends the browser back to /auth/callback with ?error=access_denied and no code.
    const back = await browser.submit(signInForm!, { name: 'action', value: 'cancel' }, {}, { stopAt });
    expect(back.kind === 'redirect' && stopAt(back.location), `A sign-in cancelled at Entra ID should still end at the client's redirect URI ${oauth.redirectUrl}; it gave ${describeStop(back)}. See ${at('TODO 3.5', 'callback')}.`).toBe(true);
    const params = (back as Extract<Stop, { kind: 'redirect' }>).location.searchParams;
    expect(
      params.get('error'),
      `Entra ID answered error=access_denied (the person cancelled); the client should get error=access_denied too, so it can tell a "no" from a failure. It got error=${params.get('error')}: ` +
        `check req.query.error before you redeem anything (${at('TODO 3.5', 'callback')}).`,
    ).toBe('access_denied');
    expect(params.get('state'), `The client's state must come back with the error. See ${at('TODO 3.5', 'callback')}.`).toBe(oauth.lastState);
    expect(params.has('code'), 'A cancelled sign-in must not give the client a code.').toBe(false);
  });

  it('a consent answer from another browser (CSRF) or for an unknown request is refused without a redirect', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const shown = new Browser();
    const form = await openConsent(shown, authorizationUrl, isAt(oauth.redirectUrl));

    // An attacker's page posts the same form from the victim's browser, which never saw this consent page.
    const forged = await new Browser().submit(form!.form, form!.approve, {}, { stopAt: () => true });
    const bound = Object.keys(shown.cookies(h.base.hostname)).length > 0;
    expect(
      forged.kind === 'page' && forged.page.status >= 400,
      `Approving from a browser that was not shown the consent page must be refused with an error page; it gave ${describeStop(forged)}. ` +
        (bound
          ? `The consent page gave its browser the flow cookie: check it when the answer comes (cookie.isSameBrowser in decideConsent, ${at('TODO 3.4', 'consent')}).`
          : `Tie the request to the browser with the flow cookie (cookie.bindBrowser in authorize, ${at('TODO 3.3', 'consent')}) and check it when the answer comes (${at('TODO 3.4', 'consent')}).`),
    ).toBe(true);

    const unknown = await new Browser().submit(form!.form, form!.approve, { request: 'no-such-request' }, { stopAt: () => true });
    expect(unknown.kind === 'page' && unknown.page.status >= 400, `An answer for an unknown consent request must get an error page; it gave ${describeStop(unknown)}. See ${at('TODO 3.4', 'consent')}.`).toBe(true);
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'A forged consent');
  });
});

describe('lesson 3: requests and answers that count once, and only for this server', () => {
  it('an authorization request for another resource, or for a scope this server does not offer, is refused before any consent page', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const cases = [
      { param: 'resource', value: 'https://attacker.example/mcp', error: 'invalid_target', why: 'tokens from here are for this MCP endpoint only (RFC 8707): use checkResource' },
      { param: 'scope', value: `${SCOPE} admin.write`, error: 'invalid_scope', why: 'a scope this server does not offer cannot be granted: use grantableScopes' },
    ];
    for (const { param, value, error, why } of cases) {
      const url = new URL(authorizationUrl);
      url.searchParams.set(param, value);
      const stop = await new Browser().open(url, { stopAt: isAt(oauth.redirectUrl) });
      expect(
        stop.kind === 'redirect' && stop.location.searchParams.get('error') === error,
        `GET /authorize with ${param}=${value} should be refused at once, with a redirect to the client's redirect URI carrying error=${error} (${why}); it gave ${describeStop(stop)}. See ${at('TODO 3.3', 'consent')}.`,
      ).toBe(true);
    }
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'Refused authorization requests');
  });

  it('an authorization code not redeemed within its lifetime (codeSeconds) is refused', async () => {
    const h = await start({ codeSeconds: 60 });
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const back = await approveAndSignIn(new Browser(), authorizationUrl, 'ada', isAt(oauth.redirectUrl));
    const code = back.kind === 'redirect' ? back.location.searchParams.get('code') : null;
    expect(code, `The flow should end at the client's redirect URI with a code; it gave ${describeStop(back)}. See ${at('TODO 3.5', 'callback')}.`).toBeTruthy();
    h.advance(61);
    const late = await postForm(h, '/token', { grant_type: 'authorization_code', code: code!, code_verifier: oauth.codeVerifier(), redirect_uri: oauth.redirectUrl, client_id: oauth.clientId! });
    expect(
      late.status,
      `A code presented 61 seconds after it was issued, with codeSeconds = 60, got ${late.status} ${JSON.stringify(late.body)}. A code is good for a short time only (RFC 6749 §4.1.2): store it for codeSeconds (completeSignIn, ${at('TODO 3.5', 'callback')}), and refuse one that is gone (400 invalid_grant, ${at('TODO 3.6', 'tokens')}).`,
    ).toBe(400);
  });

  it('a consent form sent without the Approve button approves nothing', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const stopAt = (url: URL) => isAt(oauth.redirectUrl)(url) || url.href.startsWith(emulator.endpoints.authorize);
    const form = await openConsent(browser, authorizationUrl, stopAt);
    const answer = await browser.submit(form.form, undefined, {}, { stopAt });
    expect(
      answer.kind === 'redirect' && answer.location.href.startsWith(emulator.endpoints.authorize),
      `The consent form, sent without a decision (no button: a script or a forged request), went on to Entra ID's sign-in as if approved. Only decision=approve approves; anything else is a refusal. See decideConsent (${at('TODO 3.4', 'consent')}).`,
    ).toBe(false);
  });

  it('a consent page is answered once, and Entra ID\'s answer at /auth/callback counts once', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const atEntra = (url: URL) => url.href.startsWith(emulator.endpoints.authorize);
    const atClient = isAt(oauth.redirectUrl);
    const form = await openConsent(browser, authorizationUrl, atClient);
    const approved = await browser.submit(form!.form, form!.approve, {}, { stopAt: (url) => atEntra(url) || atClient(url) });
    expect(approved.kind === 'redirect' && atEntra(approved.location), `Approve should redirect to Entra ID's sign-in; it gave ${describeStop(approved)}. See ${at('TODO 3.4', 'consent')}.`).toBe(true);
    const twice = await browser.submit(form!.form, form!.approve, {}, { stopAt: () => true });
    expect(
      twice.kind === 'page' && twice.page.status >= 400,
      `The same consent page, answered a second time, should get an error page: a consent answer counts once (take the pending consent, do not just read it). It gave ${describeStop(twice)}. See ${at('TODO 3.4', 'consent')}.`,
    ).toBe(true);

    const atCallback = isAt(h.config.callbackUrl.href);
    const entraPage = await browser.open((approved as Extract<Stop, { kind: 'redirect' }>).location, { stopAt: atCallback });
    const signInForm = entraPage.kind === 'page' ? entraSignInForm(entraPage.page) : undefined;
    expect(signInForm, `Entra ID's sign-in page should show; it gave ${describeStop(entraPage)}. See signInUrl (${at('TODO 3.4', 'entra')}).`).toBeDefined();
    const callback = await pickUser(browser, signInForm!, 'ada', atCallback);
    expect(callback.kind === 'redirect' && atCallback(callback.location), `Entra ID should send the browser to ${h.config.callbackUrl.href}; it gave ${describeStop(callback)}. See ${at('TODO 3.4', 'entra')}.`).toBe(true);
    const response = (callback as Extract<Stop, { kind: 'redirect' }>).location;
    const delivered = await browser.open(response, { stopAt: atClient });
    expect(
      delivered.kind === 'redirect' && delivered.location.searchParams.has('code'),
      `/auth/callback should send the browser to the client with a code; it gave ${describeStop(delivered)}. See ${at('TODO 3.5', 'callback')}.`,
    ).toBe(true);
    const replayed = await browser.open(response, { stopAt: () => true });
    expect(
      replayed.kind === 'page' && replayed.page.status >= 400,
      `Entra ID's answer, opened a second time at /auth/callback, should get an error page and no redirect: a sign-in state counts once (take the pending sign-in). It gave ${describeStop(replayed)}. See ${at('TODO 3.5', 'callback')}.`,
    ).toBe(true);
  });

  it('/register accepts only https or loopback http redirect URIs (given code: RegisteredClients in clients.ts)', async () => {
    const h = await start();
    // localhost.attacker.example only starts like a loopback name: it is another host.
    for (const uri of ['http://attacker.example/callback', 'http://localhost.attacker.example/callback', 'javascript:alert(1)', 'data:text/html,hello']) {
      const { status, body } = await registerClient(h, [uri]);
      expect(
        status,
        `Registering the redirect URI ${uri} should be refused (400 invalid_client_metadata); it got ${status} ${JSON.stringify(body)}. A code sent over plain http to another host can be read on the way. ` +
          `Keep the check in RegisteredClients.registerClient (${FILES.clients}, given code; README: "The confused deputy, and consent").`,
      ).toBe(400);
    }
    const fine = await registerClient(h, ['http://127.0.0.1:8976/callback', 'https://app.example/callback']);
    expect(fine.status, `Loopback http and https redirect URIs should register (201); got ${fine.status} ${JSON.stringify(fine.body)}.`).toBe(201);
  });
});

describe('lesson 3: the consent form in a browser', () => {
  it('a browser posts the consent form with the page\'s own Origin, which passes the Origin check, and Entra ID gets no Referer', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const browser = new Browser();
    const stopAt = isAt(oauth.redirectUrl);
    const consent = await browser.open(authorizationUrl, { stopAt });
    const form = consent.kind === 'page' ? consentForm(consent.page) : undefined;
    expect(form, `GET /authorize should show the consent page; it gave ${describeStop(consent)}. See ${at('TODO 3.3', 'consent')}.`).toBeDefined();
    const sent = browser.requests.length;
    const answer = await browser.submit(form!.form, form!.approve, {}, { stopAt });
    const post = browser.requests[sent]!;
    const policy = (consent as Extract<Stop, { kind: 'page' }>).page.headers.get('referrer-policy');
    expect(
      post.headers.origin,
      `A browser sends Origin with every form POST, and sends "Origin: null" when the page says "Referrer-Policy: no-referrer" (Fetch standard). ` +
        `The consent page said "Referrer-Policy: ${policy}", so the browser sent "Origin: ${post.headers.origin}" and your own Origin check refuses your own page. ` +
        `Use a policy that keeps the origin on same-origin requests ("same-origin") in sendPage (${shortPath(path.join(lessonDir(LESSON), 'pages.ts'))}).`,
    ).toBe(h.base.origin);
    expect(post.headers['sec-fetch-site'], 'The browser marks its own form POST as same-origin (Sec-Fetch-Site).').toBe('same-origin');
    const signInForm = answer.kind === 'page' ? entraSignInForm(answer.page) : undefined;
    expect(
      signInForm,
      `Approving in a browser (which sent Origin: ${post.headers.origin}, Sec-Fetch-Site: ${post.headers['sec-fetch-site']} and the flow cookie) should lead to Entra ID's sign-in page; ` +
        `it gave ${describeStop(answer)}. checkOrigin must let the server's own origin through (${at('TODO 3.1', 'app')}); see also ${at('TODO 3.4', 'consent')}.`,
    ).toBeDefined();
    const toEntra = browser.requests.slice(sent).find((r) => r.url.href.startsWith(emulator.endpoints.authorize));
    expect(
      toEntra?.headers.referer,
      `The consent page's address holds the client's state and PKCE challenge; it must not reach another site in Referer. The browser sent "Referer: ${toEntra?.headers.referer}" to Entra ID. Keep a same-origin Referrer-Policy in sendPage (pages.ts).`,
    ).toBeUndefined();
  });

  it('an approval posted from another site is refused, even from the browser that was shown the page (CSRF)', async () => {
    const h = await start();
    const { oauth, authorizationUrl } = await startAuthorization(h);
    const victim = new Browser();

    // A page on attacker.example auto-submits the same form in the victim's browser; a sandboxed frame
    // does it with an opaque origin; and a page on another port of localhost is the same *site*, so
    // the SameSite=Lax flow cookie goes along and only the Origin check can stop it.
    const attempts = [
      { from: 'https://attacker.example/win-a-prize', where: 'a page on https://attacker.example', fix: `Refuse foreign origins (${at('TODO 3.1', 'app')}) and check the flow cookie (${at('TODO 3.4', 'consent')}).` },
      { from: null, where: 'a sandboxed frame (Origin: null)', fix: `Never allow "null" (${at('TODO 3.1', 'app')}), and check the flow cookie (${at('TODO 3.4', 'consent')}).` },
      { from: 'http://localhost:8080/', where: 'a page on http://localhost:8080, which is the same site, so the cookie went along', fix: `Only the Origin check can stop this one: refuse every origin you did not allow (${at('TODO 3.1', 'app')}).` },
    ];
    for (const { from, where, fix } of attempts) {
      // A fresh consent page each time: a refused answer may use up its request.
      const form = await openConsent(victim, authorizationUrl, isAt(oauth.redirectUrl));
      expect(Object.keys(victim.cookies(h.base.hostname)), `The consent page should give the browser the flow cookie (cookie.bindBrowser). See ${at('TODO 3.3', 'consent')}.`).not.toEqual([]);
      const sent = victim.requests.length;
      const forged = await victim.submit(form!.form, form!.approve, {}, { from, stopAt: () => true });
      const post = victim.requests[sent]!;
      expect(
        forged.kind === 'page' && forged.page.status >= 400,
        `An approval posted from ${where} must be refused with an error page (the browser sent Origin: ${post.headers.origin}, ` +
          `Sec-Fetch-Site: ${post.headers['sec-fetch-site']}, flow cookie: ${post.headers.cookie ? 'yes' : 'no'}); it gave ${describeStop(forged)}. ${fix}`,
      ).toBe(true);
    }
    expect(h.locations.filter((location) => location.startsWith(emulator.endpoints.authorize)), 'No forged approval may send the browser on to Entra ID.').toEqual([]);
    expectOnlyRegisteredRedirects(h, [oauth.redirectUrl], 'Approvals posted from another site');
  });
});

describe('lesson 3: sessions refresh, expire and end', () => {
  it('an expired access token gets 401; the SDK client refreshes it, and the old refresh token is then refused', async () => {
    const h = await start({ accessTokenSeconds: 60 });
    const { mcp, oauth } = await signInWithSdkClient(h, 'ada');
    const first = oauth.tokens()!;
    expect(first.expires_in, `The token response should say when the access token expires (expires_in, in seconds). See ${at('TODO 3.6', 'tokens')}.`).toBeGreaterThan(0);
    expect(
      first.expires_in,
      `These access tokens live 60 seconds, so expires_in is at most 60 (seconds, RFC 6749 §5.1); it said ${first.expires_in}, and a client that believes it refreshes too late. Keep issueTokens as given (${FILES.tokens}).`,
    ).toBeLessThanOrEqual(60);
    h.advance(61);
    expectChallenge(await postMcp(h, bearer(first.access_token)), h, 'An access token past its lifetime', `Store access tokens for accessTokenSeconds only (issueTokens), and refuse what the store no longer has (verifyAccessToken, ${at('TODO 3.7', 'tokens')}).`);

    // Any request will do: on the 401 the SDK client refreshes by itself and tries again.
    await mcp.ping().catch((error: unknown) => {
      throw new Error(`After its access token expired, the SDK client should refresh it at /token and carry on; it failed: ${firstLine(error)}. See exchangeRefreshToken (${at('TODO 3.8', 'tokens')}).`);
    });
    const second = oauth.tokens()!;
    expect(second.access_token, `The refresh should produce a new access token. See ${at('TODO 3.8', 'tokens')}.`).not.toBe(first.access_token);
    expect(second.refresh_token, `Refresh tokens should rotate: each refresh returns a new one (OAuth 2.1 §4.3.1). See ${at('TODO 3.8', 'tokens')}.`).not.toBe(first.refresh_token);
    const old = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: oauth.clientId! });
    expect(old.status, `The old refresh token, once used, must be refused (400 invalid_grant); it got ${old.status} ${JSON.stringify(old.body)}. See ${at('TODO 3.8', 'tokens')}.`).toBe(400);
  });

  it('AuthInfo.expiresAt is in seconds: requireBearerAuth refuses a token whose expiresAt has passed', async () => {
    const h = await start({ accessTokenSeconds: 60 });
    // The app's clock lags the wall clock by an hour, so its 60-second tokens have expired by the wall
    // clock the moment they are issued, while its own stores still hold them. Only requireBearerAuth's
    // own check (expiresAt < Date.now() / 1000) can refuse them, and only if expiresAt is in seconds.
    h.advance(-3600);
    const { oauth, transport, authorizationUrl } = await startAuthorization(h);
    const back = await approveAndSignIn(new Browser(), authorizationUrl, 'ada', isAt(oauth.redirectUrl));
    const code = back.kind === 'redirect' ? back.location.searchParams.get('code') : null;
    expect(code, `The flow should end at the client's redirect URI with a code; it gave ${describeStop(back)}. See ${at('TODO 3.5', 'callback')}.`).toBeTruthy();
    await transport.finishAuth(code!).catch((error: unknown) => {
      throw new Error(`The SDK client could not redeem its code at /token: ${firstLine(error)}. See ${at('TODO 3.6', 'tokens')}; the code is looked up by its hash, as completeSignIn stored it (${at('TODO 3.5', 'callback')}).`);
    });
    const response = await postMcp(h, bearer(oauth.tokens()!.access_token));
    expect(
      response.status,
      `This access token's expiresAt lies an hour in the past, yet /mcp answered ${response.status}. requireBearerAuth refuses a token when expiresAt < Date.now() / 1000: ` +
        `AuthInfo.expiresAt must be seconds since the epoch (Math.floor(ms / 1000)); in milliseconds every token looks valid to it for ever. See verifyAccessToken (${at('TODO 3.7', 'tokens')}).`,
    ).toBe(401);
  });

  it('a refresh token works once, only for its own client, never for more scopes; /revoke acts only on the caller\'s own tokens', async () => {
    const h = await start();
    const other = await registerClient(h, ['http://localhost:8978/callback']);
    const otherId = String(other.body.client_id ?? '');
    expect(otherId, `A second client should be able to register at /register; it got ${other.status} ${JSON.stringify(other.body)}. See ${at('TODO 3.2', 'app')}.`).not.toBe('');

    // Another client cannot sign Ada out, and cannot use her refresh token.
    const first = (await signInWithSdkClient(h, 'ada')).oauth.tokens()!;
    const foreignRevoke = await postForm(h, '/revoke', { token: first.refresh_token!, client_id: otherId });
    expect(foreignRevoke.status, `POST /revoke of a token the caller does not own should still answer 200 (RFC 7009 §2.2); it got ${foreignRevoke.status}. See revokeToken (${at('TODO 3.8', 'tokens')}).`).toBe(200);
    const stillIn = await postMcp(h, bearer(first.access_token));
    expect(
      stillIn.status,
      `Another client revoked Ada's refresh token at /revoke, and her session ended (her access token then got 401). /revoke may act only on tokens issued to the calling client; otherwise any registered client can sign anyone out. See revokeToken (${at('TODO 3.8', 'tokens')}).`,
    ).not.toBe(401);
    const stolen = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: otherId });
    expect(
      stolen.status,
      `Another client presented Ada's refresh token at /token and got ${stolen.status} ${JSON.stringify(stolen.body)}. A refresh token works only for the client it was issued to: in any other hands it has leaked, so refuse it (400 invalid_grant) and end the session. See exchangeRefreshToken (${at('TODO 3.8', 'tokens')}).`,
    ).toBe(400);
    expectChallenge(await postMcp(h, bearer(first.access_token)), h, 'Ada\'s access token, after another client presented her refresh token (a leak)', `End the session when a refresh token comes from another client (exchangeRefreshToken, ${at('TODO 3.8', 'tokens')}).`);

    // A spent refresh token that comes back has leaked: the session it belongs to ends.
    const second = await signInWithSdkClient(h, 'ada');
    const spent = second.oauth.tokens()!.refresh_token!;
    const refreshed = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: spent, client_id: second.oauth.clientId! });
    expect(refreshed.status, `A refresh with a fresh refresh token should succeed; it got ${refreshed.status} ${JSON.stringify(refreshed.body)}. See ${at('TODO 3.8', 'tokens')}.`).toBe(200);
    const replay = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: spent, client_id: second.oauth.clientId! });
    expect(replay.status, `The spent refresh token must be refused (400 invalid_grant); it got ${replay.status}. See ${at('TODO 3.8', 'tokens')}.`).toBe(400);
    expectChallenge(
      await postMcp(h, bearer(String(refreshed.body.access_token))),
      h,
      'The newest access token, after the refresh token it replaced came back (a leak)',
      `A rotated refresh token that comes back has leaked (OAuth 2.1 §4.3.1): end the session, so the thief and the owner both have to sign in again (exchangeRefreshToken, ${at('TODO 3.8', 'tokens')}).`,
    );

    // A refresh can narrow the scopes, never widen them.
    const third = (await signInWithSdkClient(h, 'ada')).oauth;
    const wider = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: third.tokens()!.refresh_token!, client_id: third.clientId!, scope: `${SCOPE} admin.write` });
    expect(
      wider.status,
      `A refresh asking for "${SCOPE} admin.write", more than was granted (${SCOPE}), got ${wider.status} ${JSON.stringify(wider.body)}. A refresh may keep or narrow the scopes, never widen them (RFC 6749 §6): answer 400 invalid_scope. See exchangeRefreshToken (${at('TODO 3.8', 'tokens')}).`,
    ).toBe(400);
  });

  it('an expired session ends both tokens', async () => {
    const h = await start({ sessionSeconds: 600 });
    const { oauth } = await signInWithSdkClient(h, 'ada');
    const tokens = oauth.tokens()!;
    h.advance(601);
    expectChallenge(await postMcp(h, bearer(tokens.access_token)), h, 'An access token whose session has expired', `verifyAccessToken must check that the token's session still exists (${at('TODO 3.7', 'tokens')}).`);
    const refresh = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: oauth.clientId! });
    expect(refresh.status, `A refresh token whose session has expired must be refused (400 invalid_grant); it got ${refresh.status} ${JSON.stringify(refresh.body)}. See ${at('TODO 3.8', 'tokens')}.`).toBe(400);
  });

  it('revoking either token (logout) ends the session: the access token gets 401 and cannot be refreshed', async () => {
    const h = await start();
    const { oauth } = await signInWithSdkClient(h, 'ada');
    const tokens = oauth.tokens()!;
    const revoke = await postForm(h, '/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: oauth.clientId! });
    expect(revoke.status, `POST /revoke should answer 200 (RFC 7009); it got ${revoke.status} ${JSON.stringify(revoke.body)}. See revokeToken (${at('TODO 3.8', 'tokens')}).`).toBe(200);
    expectChallenge(await postMcp(h, bearer(tokens.access_token)), h, 'An access token after logout (its refresh token was revoked)', `Revoking either token ends its session (revokeToken, ${at('TODO 3.8', 'tokens')}).`);
    const refresh = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: oauth.clientId! });
    expect(refresh.status, `A revoked refresh token must be refused (400); it got ${refresh.status}. See ${at('TODO 3.8', 'tokens')}.`).toBe(400);

    // RFC 7009 lets a client revoke either token: the access token ends the session just the same.
    const again = (await signInWithSdkClient(h, 'ada')).oauth;
    const second = again.tokens()!;
    const revokeAccess = await postForm(h, '/revoke', { token: second.access_token, token_type_hint: 'access_token', client_id: again.clientId! });
    expect(revokeAccess.status, `POST /revoke of an access token should answer 200 (RFC 7009); it got ${revokeAccess.status} ${JSON.stringify(revokeAccess.body)}. See revokeToken (${at('TODO 3.8', 'tokens')}).`).toBe(200);
    expectChallenge(await postMcp(h, bearer(second.access_token)), h, 'An access token after it was revoked (logout)', `revokeToken must find the access token as well as the refresh token, and end its session (${at('TODO 3.8', 'tokens')}).`);
    const refreshAfter = await postForm(h, '/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token!, client_id: again.clientId! });
    expect(
      refreshAfter.status,
      `After the access token was revoked, its session's refresh token still refreshed (${refreshAfter.status}): revoking either token signs the session out. See revokeToken (${at('TODO 3.8', 'tokens')}).`,
    ).toBe(400);
  });

  it('an expired Entra ID token behind a live session is renewed silently, again and again, without the user', async () => {
    // Entra tokens that expire within MSAL's renewal window: every Graph call needs a renewal.
    emulator.settings.accessTokenLifetimeSeconds = 60;
    const h = await start();
    const { mcp } = await signInWithSdkClient(h, 'ada');
    const events = recordEvents();
    const first = await profileOf(mcp);
    const second = await profileOf(mcp);
    expect([first.displayName, second.displayName], 'Both calls should return Ada\'s profile.').toEqual(['Ada Lovelace', 'Ada Lovelace']);
    expect(events.filter((event) => event.code === 'signed-in'), 'Renewing an Entra token must not need the user: no new sign-in.').toEqual([]);
    expect(
      events.filter((event) => event.code === 'token-issued' && event.grant === 'refresh_token' && event.clientId === APPS.webApp.clientId).length,
      `Each call should renew the expired Entra token with MSAL's acquireTokenSilent (graphToken, ${at('TODO 3.9', 'entra')}). The second renewal only works if the session keeps the cache MSAL updated, because refresh tokens rotate (${at('TODO 3.9', 'graphTokens')}).`,
    ).toBe(2);
  });

  it('when Entra ID ends the user\'s sign-in, the tool says to sign in again and the session ends', async () => {
    emulator.settings.accessTokenLifetimeSeconds = 60;
    const h = await start();
    const { mcp, oauth } = await signInWithSdkClient(h, 'ada');
    emulator.revokeUserSessions('ada');
    const result = (await mcp.callTool({ name: TOOL, arguments: {} }).catch((error: unknown) => {
      throw new Error(`Calling ${TOOL} failed: ${firstLine(error)}. Register the tool (${at('TODO 3.10', 'tools')}).`);
    })) as CallToolResult;
    expect(result.isError, `With Ada's Entra sessions revoked, ${TOOL} should return an error result; it answered: ${said(resultText(result))}. See ${at('TODO 3.9', 'graphTokens')}.`).toBe(true);
    expect(resultText(result), 'The error should tell the user to sign in again.').toMatch(/sign in/i);
    expect(resultText(result), 'A tool error must never show a token.').not.toContain(oauth.tokens()!.access_token);
    expectChallenge(
      await postMcp(h, bearer(oauth.tokens()!.access_token)),
      h,
      'The access token of a session whose Entra sign-in was revoked',
      `When Entra ID ends the sign-in (SignInRequiredError), end the session before you rethrow, so the client's next request gets a 401 and signs in again (renewGraphToken, ${at('TODO 3.9', 'graphTokens')}).`,
    );
  });
});

describe('lesson 3: the session store (given code)', () => {
  it('forgets entries after their TTL, hands out single-use values once, and stays within its size', async () => {
    const { MemorySessionStore } = await importLesson<{ MemorySessionStore: new <T>(o: { now: () => number; maxEntries: number }) => {
      get(k: string): Promise<T | undefined>; set(k: string, v: T, ttl: number): Promise<void>; take(k: string): Promise<T | undefined>; size: number;
    } }>(LESSON, 'sessions.ts');
    let now = 1_000_000;
    const store = new MemorySessionStore<string>({ now: () => now, maxEntries: 2 });
    await store.set('a', 'A', 10);
    now += 9_000;
    expect(await store.get('a'), `An entry should live for its TTL. See ${FILES.sessions}.`).toBe('A');
    now += 2_000;
    expect(await store.get('a'), `An entry should be gone after its TTL. See ${FILES.sessions}.`).toBeUndefined();
    await store.set('b', 'B', 60);
    expect(await store.take('b'), 'take() returns the value…').toBe('B');
    expect(await store.take('b'), '…once.').toBeUndefined();
    await store.set('c', 'C', 60);
    await store.set('d', 'D', 60);
    await store.set('e', 'E', 60);
    expect(store.size, 'The store should never hold more than maxEntries.').toBeLessThanOrEqual(2);
    expect(await store.get('e'), 'The newest entry stays.').toBe('E');
    expect(await store.get('c'), 'The oldest entry goes first.').toBeUndefined();
  });
});
