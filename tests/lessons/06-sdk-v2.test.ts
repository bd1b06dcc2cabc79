/**
 * Lesson 6: lesson 4's resource server on the MCP SDK v2 packages. First the lesson 4 behaviour suite,
 * unchanged, at the wire level (tests/support/resourceServerSuite.ts); then what is new with v2: a v2
 * client signs in too, the 2026-07-28 protocol is served, and the tools' own scope challenges hold
 * on both protocol eras.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { Client, StreamableHTTPClientTransport, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/client';
import type { ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { APPS, findUser } from '../../shared/emulator/directory.ts';
import { MemoryOAuthClient } from '../support/memoryOAuthClient.ts';
import { signIn } from '../support/browser.ts';
import { emulator, graph } from '../support/lab.ts';
import { resultText } from '../support/mcp.ts';
import { resourceServerSuite } from '../support/resourceServerSuite.ts';
import { importLesson, lessonDir, requireExport } from '../support/target.ts';

const server = resourceServerSuite({
  lesson: 6,
  todos: (files) => {
    const tools = files.verifier.replace('verifier.ts', 'tools.ts');
    return {
      prm: `TODO 6.1 in ${files.app}`,
      verify: `TODO 6.2 in ${files.verifier}`,
      // The verification is lesson 4's, given: a valid token that does not reach the tools as their
      // caller is a tool that does not read ctx.http (6.3); a refused one, invalidToken (6.2).
      claims: `TODO 6.3 in ${tools}`,
      claimChecks: `TODO 6.2 in ${files.verifier}`,
      gate: `TODO 6.4 in ${files.scopes}`,
      obo: `TODO 6.3 in ${tools} (On-Behalf-Of, in ${files.graph}, is lesson 4's and given: it needs the caller's token)`,
      serve: `TODO 6.5 in ${files.app}`,
      caller: `TODO 6.3 in ${tools}`,
      graphErrors: `TODO 6.3 in ${tools} (turning Graph's failures into tool errors is given, in ${files.graph}: it needs the caller first)`,
    };
  },
  invalidTokenError: 'an OAuthError with the code OAuthErrorCode.InvalidToken (v2 classifies errors by code; v1\'s InvalidTokenError is a 500 now)',
  // No HTTP gate of our own: a tool without a permission is never registered (toolScopeChallenge throws).
  unknownToolRefusal: 'not-found',
});

const DIR = path.relative(process.cwd(), lessonDir(6)).split(path.sep).join('/');
const TODO = {
  prm: `TODO 6.1 in ${DIR}/app.ts`,
  tools: `TODO 6.3 in ${DIR}/tools.ts`,
  challenge: `TODO 6.4 in ${DIR}/scopes.ts`,
  handler: `TODO 6.5 in ${DIR}/app.ts`,
};
const ADA = findUser('ada')!;
const MODERN = '2026-07-28';

/** Our API's scopes, fully qualified with the App ID URI (the MCP URL on this test's port). */
const scope = (name: string) => `${server.current().config.entra.apiAppIdUri}/${name}`;

function userToken(user: string, scopes: string[]): Promise<string> {
  return emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user, scope: scopes.map(scope).join(' ') });
}

/** A v2 client with a fixed token, speaking the protocol era `mode` asks for. */
async function connectV2(token: string | undefined, mode: 'legacy' | { pin: string }): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(server.current().mcpUrl, {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
  });
  const client = new Client({ name: 'lesson-6-tests', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(transport);
  return client;
}

describe('lesson 6: a v2 client signs in as well as a v1 client', () => {
  it('the v2 SDK client completes discovery, sign-in with the pre-registered client (checking iss, RFC 9207) and a tool call', async () => {
    const { mcpUrl } = server.current();
    const provider = new MemoryOAuthClient({ clientName: 'lesson-6-tests', redirectUrl: 'http://localhost:53682/callback', clientId: APPS.mcpClient.clientId });
    // The same provider object serves both SDK lines: v2 reads the same OAuthClientProvider members.
    const authProvider = provider as unknown as OAuthClientProvider;
    const first = new Client({ name: 'lesson-6-tests', version: '1.0.0' });
    let failure: unknown;
    try {
      await first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider }));
    } catch (error) {
      failure = error;
    }
    expect(
      failure instanceof UnauthorizedError,
      failure
        ? `The v2 client should stop for sign-in (UnauthorizedError) after discovery; it failed with: ${String((failure as Error).message).split('\n')[0]}. See ${TODO.prm}.`
        : `The v2 client connected without signing in: /mcp never asked for a token. See ${TODO.prm}.`,
    ).toBe(true);
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.searchParams.get('resource'), `The v2 client asks for a token for the PRM "resource" (RFC 8707), ${mcpUrl.href}. See ${TODO.prm}.`).toBe(mcpUrl.href);

    const signedIn = await signIn(authorizationUrl, 'ada', { redirectUri: provider.redirectUrl });
    expect(signedIn.params.get('state'), 'The state must come back unchanged (v2 leaves checking it to the app).').toBe(provider.lastState);
    // v2: hand over the callback's parameters, so the SDK can compare `iss` (when present) with the
    // issuer it discovered before it redeems the code (RFC 9207, mix-up defence).
    const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider });
    await transport.finishAuth(signedIn.params);

    const client = new Client({ name: 'lesson-6-tests', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider }));
    } catch (error) {
      throw new Error(`With Ada's fresh token the v2 client could not connect: ${(error as Error).message.split('\n')[0]}. See ${TODO.prm} and TODO 6.2.`);
    }
    try {
      const who = resultText(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(who, `whoami through the v2 client should name Ada (${ADA.oid}). See ${TODO.tools}.`).toContain(ADA.oid);
    } finally {
      await client.close();
    }
  });
});

describe('lesson 6: the 2026-07-28 protocol, opt-in with createMcpHandler', () => {
  it('serves a client pinned to 2026-07-28, with the same token rules', async () => {
    const token = await userToken('ada', ['tools.read']);
    let client: Client;
    try {
      client = await connectV2(token, { pin: MODERN });
    } catch (error) {
      throw new Error(
        `A v2 client pinned to the ${MODERN} protocol could not connect: ${(error as Error).message.split('\n')[0]}. ` +
          `A per-request NodeStreamableHTTPServerTransport speaks only the 2025 protocol: serve /mcp with createMcpHandler and toNodeHandler (${TODO.handler}).`,
      );
    }
    try {
      expect(client.getProtocolEra(), `The client should have negotiated the modern era. See ${TODO.handler}.`).toBe('modern');
      const who = resultText(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(who, `On the ${MODERN} protocol whoami should still see Ada's verified token in ctx.http?.authInfo. See ${TODO.tools}.`).toContain(ADA.oid);
    } finally {
      await client.close();
    }
    const anonymous = await fetch(server.current().mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }),
    });
    expect(anonymous.status, `A ${MODERN} request without a token must get 401 as well. See ${TODO.prm}.`).toBe(401);
  });
});

describe('lesson 6: the tools carry their own scope challenges, on both protocol eras', () => {
  const ERAS = [
    { era: '2025 (initialize)', mode: 'legacy' as const },
    { era: MODERN, mode: { pin: MODERN } },
  ];

  it.each(ERAS)('$era: a tools/call the token does not permit gets 403 insufficient_scope naming the missing and the granted scopes', async ({ mode }) => {
    const token = await userToken('grace', ['tools.read']);
    let client: Client | undefined;
    let failure: unknown;
    try {
      client = await connectV2(token, mode);
      await client.callTool({ name: 'send_mail', arguments: { to: 'someone@contoso.example', subject: 'Hi', body: 'x' } });
    } catch (error) {
      failure = error;
    } finally {
      await client?.close();
    }
    expect(failure, `send_mail with only ${scope('tools.read')} must be refused with 403 insufficient_scope. See ${TODO.challenge}.`).toBeDefined();
    // Without an OAuth provider the v2 client cannot step up: it reports the challenge instead.
    const challenge = failure as { name?: string; message?: string; requiredScope?: string };
    expect(
      challenge.name,
      `The v2 client reports a 403 insufficient_scope as InsufficientScopeError; it failed with: ${challenge.message?.split('\n')[0]}. ` +
        `See ${TODO.challenge}${typeof mode === 'object' ? ` and ${TODO.handler}` : ''}.`,
    ).toBe('InsufficientScopeError');
    expect(
      challenge.requiredScope?.split(' ').sort(),
      `The challenge should ask for ${scope('mail.send')} together with the scope the token already has (${scope('tools.read')}), the complete set a step-up needs. See ${TODO.challenge}.`,
    ).toEqual([scope('mail.send'), scope('tools.read')].sort());
    expect(graph.outbox, `A refused send_mail must not reach Microsoft Graph. See ${TODO.challenge}.`).toHaveLength(0);
  });
});

describe('lesson 6: a scope challenge fails closed', () => {
  it('refuses a call that reaches a tool without any verified caller (requireBearerAuth left out)', async () => {
    const scopes = await importLesson(6, 'scopes.ts');
    const toolScopeChallenge = requireExport<(tool: string, appIdUri: string) => ScopeChallengeHandler>(scopes, 'toolScopeChallenge', `${DIR}/scopes.ts`);
    const challenge = await toolScopeChallenge('whoami', server.current().config.entra.apiAppIdUri)({ request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami' } } });
    expect(challenge?.scopes, `Without an authInfo the challenge must refuse (name the tool's scope), not let the call through. See ${TODO.challenge}.`).toEqual([scope('tools.read')]);
  });

  it('gives a tool without a permission entry no way in: toolScopeChallenge throws at registration (or refuses everyone)', async () => {
    const scopes = await importLesson(6, 'scopes.ts');
    const toolScopeChallenge = requireExport<(tool: string, appIdUri: string) => ScopeChallengeHandler>(scopes, 'toolScopeChallenge', `${DIR}/scopes.ts`);
    let handler: ScopeChallengeHandler;
    try {
      handler = toolScopeChallenge('delete_all_customers', server.current().config.entra.apiAppIdUri);
    } catch {
      return; // refused at registration: the tool cannot exist without a permission
    }
    // Ada with every scope and the admin role: whatever a default would allow, she has.
    const authInfo = {
      token: 'unused',
      clientId: APPS.mcpClient.clientId,
      scopes: [scope('tools.read'), scope('mail.send')],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      extra: { oid: ADA.oid, tid: server.current().config.entra.tenantId, roles: ['MCP.Admin', 'Tools.Read.All'], appOnly: false },
    };
    const challenge = await handler({ request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_all_customers' } }, authInfo });
    expect(
      challenge,
      `delete_all_customers has no entry in TOOL_PERMISSIONS, yet toolScopeChallenge gave it a challenge that lets a caller with every scope and role in: a tool gets its permission on purpose, never by default. Keep the check that throws for a tool without a permission (${TODO.challenge}).`,
    ).toBeDefined();
  });
});

describe('lesson 6: MSAL\'s MCP mode, for a public client of your own', () => {
  it('sends the MCP URL as resource on every request, refuses a request without it, and gets a token the server accepts', async () => {
    const { config, mcpUrl } = server.current();
    // isMcp (msal-node 7.2): every token request must name the resource (RFC 8707), and the cache is kept per resource.
    const msal = new PublicClientApplication({ auth: { clientId: APPS.mcpClient.clientId, isMcp: true, ...config.entra.msal } });
    const redirectUri = 'http://localhost:53682/callback';
    const scopes = [scope('tools.read')];
    await expect(msal.acquireTokenByCode({ code: 'unused', scopes, redirectUri }), 'MSAL in MCP mode refuses, before any network call, a token request without resource.').rejects.toMatchObject({
      errorCode: 'resource_parameter_required',
    });

    const pkce = await new CryptoProvider().generatePkceCodes();
    const authorizeUrl = await msal.getAuthCodeUrl({ scopes, redirectUri, resource: mcpUrl.href, codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' });
    expect(new URL(authorizeUrl).searchParams.get('resource'), 'MSAL should send resource on the authorization request too.').toBe(mcpUrl.href);
    const signedIn = await signIn(authorizeUrl, 'ada', { redirectUri });
    const code = signedIn.params.get('code');
    expect(code, `Ada's sign-in should end with a code; the emulator answered: ${signedIn.params.toString()}`).toBeTruthy();
    const result = await msal.acquireTokenByCode({ code: code!, scopes, redirectUri, resource: mcpUrl.href, codeVerifier: pkce.verifier });

    const client = await connectV2(result.accessToken, 'legacy').catch((error: Error) => {
      throw new Error(`The token MSAL got in MCP mode was not accepted: ${error.message.split('\n')[0]}. See ${TODO.prm} and TODO 6.2.`);
    });
    try {
      const who = resultText(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(who, `whoami with MSAL's token should name Ada (${ADA.oid}). See ${TODO.tools}.`).toContain(ADA.oid);
    } finally {
      await client.close();
    }
  });
});

describe('lesson 6: browsers (already in the starter)', () => {
  it('lets MCP Inspector\'s page read the answers and their challenge (CORS), no other page, and refuses an opaque Origin: null with 403', async () => {
    const { mcpUrl } = server.current();
    const ask = (origin: string) =>
      fetch(mcpUrl, { method: 'POST', headers: { origin, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    const inspector = await ask('http://localhost:6274');
    expect(inspector.headers.get('access-control-allow-origin'), `Inspector's page may read the answer (CORS). Keep browserClients in ${DIR}/app.ts.`).toBe('http://localhost:6274');
    expect(inspector.headers.get('access-control-expose-headers') ?? '', `Inspector's page must be able to read WWW-Authenticate to find the metadata. Keep browserClients in ${DIR}/app.ts.`).toMatch(/www-authenticate/i);
    const otherPort = await ask('http://localhost:9999');
    expect(
      otherPort.headers.get('access-control-allow-origin'),
      `v2's Origin check compares host names only, so a page on http://localhost:9999 passes it; CORS must still name exact origins, not reflect any. Keep browserClients in ${DIR}/app.ts.`,
    ).toBeNull();
    // An origin that merely starts like Inspector's is another site (a prefix match would let it read).
    const lookalike = await ask('http://localhost:62740');
    expect(lookalike.headers.get('access-control-allow-origin'), `A page on http://localhost:62740 is not Inspector (http://localhost:6274): CORS compares whole origins. Keep browserClients in ${DIR}/app.ts.`).toBeNull();
    // The preflight decides whether a page may send the JSON POST at all.
    const preflight = await fetch(mcpUrl, { method: 'OPTIONS', headers: { origin: 'http://localhost:9999', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });
    expect(preflight.headers.get('access-control-allow-origin'), `The preflight from a page on http://localhost:9999 must not be allowed, or that page can send its JSON POST. Answer OPTIONS /mcp with browserClients (${DIR}/app.ts).`).toBeNull();
    const sandboxed = await ask('null');
    expect(sandboxed.status, `A sandboxed page (Origin: null) must get 403: v2's createMcpExpressApp refuses an Origin it cannot parse. Keep allowedOrigins in ${DIR}/app.ts.`).toBe(403);
  });
});
