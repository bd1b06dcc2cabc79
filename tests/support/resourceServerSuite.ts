/**
 * The protected resource server's behaviour suite: Entra ID (the emulator) issues the tokens; the
 * server publishes Protected Resource Metadata, verifies every token itself with jose, checks a scope
 * or app role per tool, and calls Graph with an On-Behalf-Of token of its own. Lesson 4 builds it on
 * SDK v1 and lesson 6 on SDK v2; both test files call resourceServerSuite, so the same tests judge both.
 */
import { request as httpRequest } from 'node:http';
import { createPublicKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import type { Express } from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { loadConfig, type WorkshopConfig } from '../../shared/config.ts';
import { APPS, GRAPH_RESOURCE, TENANT_ID, findUser } from '../../shared/emulator/directory.ts';
import type { EmulatorEvent } from '../../shared/emulator/events.ts';
import { MemoryOAuthClient } from './memoryOAuthClient.ts';
import { signIn } from './browser.ts';
import { emulator, graph, recordEvents } from './lab.ts';
import { listenOnFreePort, shortPath, type Listening } from './harness.ts';
import { connectHttpClient, resultText, said } from './mcp.ts';
import { network } from './network.ts';
import { importLesson, lessonDir, requireExport } from './target.ts';

/** What differs between the lessons that build this resource server (4 on SDK v1, 6 on SDK v2). */
export interface ResourceServerSuiteOptions {
  /** The lesson number: its folder under the test target is the code under test. */
  lesson: number;
  /**
   * Where the learner writes each rule, for the messages ("TODO 4.2 in lessons/04-resource-server/verifier.ts").
   * `claims`: where a valid token becomes the caller the tools see; `claimChecks`: where a token whose
   * tid or ver is wrong is refused; `serve`: where a request that passed authentication is handed to
   * MCP, on every method of /mcp; `caller`: where a tool reads the verified caller; `graphErrors`:
   * where Graph's failures become tool errors a person can act on.
   */
  todos(files: { verifier: string; app: string; scopes: string; graph: string }): {
    prm: string;
    verify: string;
    claims: string;
    claimChecks: string;
    gate: string;
    obo: string;
    serve: string;
    caller: string;
    graphErrors: string;
  };
  /** What the verifier must throw for a 401 with the lesson's SDK (v1: `InvalidTokenError`). */
  invalidTokenError: string;
  /** How the lesson refuses a tool that has no permission entry: see ToolNameRulesOptions.refusal. */
  unknownToolRefusal: ToolNameRulesOptions['refusal'];
}

/** The lesson's server of the current test, for a lesson's own tests beside the shared ones. */
export interface RunningServer {
  current(): { config: WorkshopConfig; mcpUrl: URL; prmUrl: string };
}

/**
 * The behaviour of the protected resource server at the wire level: the same tests, unchanged, for
 * every lesson that builds it, whatever SDK the lesson uses.
 */
export function resourceServerSuite(options: ResourceServerSuiteOptions): RunningServer {
  const DIR = shortPath(lessonDir(options.lesson));
  const FILES = {
    verifier: `${DIR}/verifier.ts`,
    app: `${DIR}/app.ts`,
    scopes: `${DIR}/scopes.ts`,
    graph: `${DIR}/graph.ts`,
  };
  /** How long a tool call may take when Graph fails at once: far less than the Retry-After the tests send (30 s). */
  const PROMPT_MS = 5000;
  /** Where to look, for messages: "TODO 4.2 in lessons/04-resource-server/verifier.ts". */
  const TODO = options.todos(FILES);
  const ADA = findUser('ada')!;
  const GRACE = findUser('grace')!;
  const OTHER_TENANT = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

  let listening: Listening | undefined;
  let config: WorkshopConfig;
  let mcpUrl: URL;
  let prmUrl: string;
  let unregisterUri: (() => void) | undefined;
  const clients: Client[] = [];

  /** Starts the lesson's app on a free port, with the settings a learner would have offline on that port. */
  beforeEach(async () => {
    const lesson = await importLesson(options.lesson, 'app.ts');
    const createApp = requireExport<(config: WorkshopConfig) => Promise<Express>>(lesson, 'createApp', FILES.app);
    listening = await listenOnFreePort();
    const { port } = listening;
    // Never the learner's .env: an explicit, offline environment. Clients use `localhost`, like the PRM.
    config = loadConfig({ PORT: String(port) });
    mcpUrl = config.mcpUrl;
    // Entra ID (and the emulator) accept only the exact Application ID URI: register this port's MCP URL.
    unregisterUri = emulator.addApiAppIdUri(mcpUrl);
    prmUrl = `http://localhost:${port}/.well-known/oauth-protected-resource/mcp`;
    const app = await createApp(config);
    listening.server.on('request', app);
  });

  afterEach(async () => {
    vi.useRealTimers();
    unregisterUri?.();
    unregisterUri = undefined;
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await listening?.close();
    listening = undefined;
  });

  // ------------------------------------------------------------------------------------------ tokens

  /** Our API's scopes, fully qualified with the App ID URI (the MCP URL on this test's port). */
  const scope = (name: string) => `${config.entra.apiAppIdUri}/${name}`;

  /** A genuine delegated token for our API, as the pre-registered MCP client would get it. */
  function userToken(user = 'ada', scopes = ['tools.read', 'mail.send'], claims?: Record<string, unknown>): Promise<string> {
    return emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user, scope: scopes.map(scope).join(' '), claims });
  }

  /** A genuine app-only token for our API: the daemon's client credentials (app role Tools.Read.All). */
  function daemonToken(): Promise<string> {
    return emulator.issueAccessToken({ client: APPS.daemon.clientId, scope: scope('.default') });
  }

  /** The payload of a genuine token, to forge variants of it. */
  async function genuinePayload(): Promise<JWTPayload> {
    return decodeJwt(await userToken());
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  // ------------------------------------------------------------------------------------------ HTTP

  interface Reply {
    status: number;
    headers: Headers;
    text: string;
    /** The JSON-RPC message, when the body was one. */
    rpc?: { result?: { content?: Array<{ type: string; text?: string }>; isError?: boolean }; error?: { code?: number; message: string } };
  }

  /** One JSON-RPC request to /mcp, as raw HTTP; `authorization: undefined` sends no header at all. */
  async function post(method: string, params: Record<string, unknown>, authorization?: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Reply> {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(authorization !== undefined ? { authorization } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, rpc: parseRpc(text) };
  }

  function callTool(token: string | undefined, name: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Reply> {
    return post('tools/call', { name, arguments: args }, token === undefined ? undefined : `Bearer ${token}`, {}, signal);
  }

  /**
   * Makes Graph fail once with `status`, then calls `name`, which must answer with an error result
   * within PROMPT_MS: a Graph client that waits out Retry-After inside the call would not.
   */
  async function callWhileGraphFails(token: string, name: string, status: 429 | 500 | 503, args: Record<string, unknown> = {}): Promise<{ reply: Reply; text: string }> {
    graph.failNext({ status, retryAfterSeconds: status === 500 ? undefined : 30 });
    let reply: Reply;
    try {
      reply = await callTool(token, name, args, AbortSignal.timeout(PROMPT_MS));
    } catch (error) {
      if ((error as Error).name !== 'TimeoutError') throw error;
      throw new Error(
        `After a ${status} from Graph with Retry-After: 30, ${name} gave no answer within ${PROMPT_MS / 1000} s. The Graph client must not wait out ` +
          `Retry-After inside a tool call: build it without the default RetryHandler (graphClient from shared/graph.ts, used in ${FILES.graph}).`,
      );
    }
    const text = toolText(reply);
    expect(reply.status, `A Graph failure is the tool's problem, not the protocol's: expected HTTP 200 with an error result, got ${shown(reply)}.`).toBe(200);
    expect(reply.rpc?.result?.isError, `When Graph answers ${status}, ${name} should return isError: true; it answered: ${said(text, 160)}. See ${TODO.graphErrors}.`).toBe(true);
    expect(text, `The error for a ${status} from Graph should be a readable sentence, without a stack trace; it was: ${said(text, 300)}. See ${TODO.graphErrors}.`).not.toMatch(/^\s+at .+:\d+/m);
    expect(text, `A tool error must never show a token; it was: ${said(text, 160)}.`).not.toContain(token);
    return { reply, text };
  }

  /** A JSON body, or the first `data:` line of an event stream. */
  function parseRpc(text: string): Reply['rpc'] {
    const data = text.trimStart().startsWith('{') ? text : /^data: (.*)$/m.exec(text)?.[1];
    try {
      return data ? JSON.parse(data) : undefined;
    } catch {
      return undefined;
    }
  }

  const toolText = (reply: Reply) => (reply.rpc?.result?.content ?? []).map((block) => block.text ?? '').join('\n');
  const shown = (reply: Reply) => `HTTP ${reply.status} ${said(reply.text, 200)}`;

  /** What went wrong, in the learner's terms, when a token we expected to be refused was not. */
  function whyNotRefused(reply: Reply, todo: string): string {
    if (reply.status >= 500) {
      return `The server answered ${reply.status}: the verifier refused with something other than ${options.invalidTokenError}, and requireBearerAuth turns anything else into a 500 (${todo}).`;
    }
    if (reply.status < 300) {
      const where = todo === TODO.prm ? todo : `${todo} (and if no token is asked for at all, ${TODO.prm})`;
      return `The request reached the MCP server (${shown(reply)}). See ${where}.`;
    }
    return `Got ${shown(reply)}. See ${todo}.`;
  }

  /**
   * Expects a tool call to succeed. A refusal names `todo`; a request that got through but no tool
   * answer, the step that serves MCP; a tool error, `resultTodo` (default `todo`).
   */
  function expectToolSuccess(reply: Reply, what: string, todo: string, resultTodo = todo): string {
    const why =
      reply.status >= 500
        ? `The verifier threw on a valid token: finish ${TODO.verify} and ${TODO.claims}.`
        : reply.status === 403
          ? `The permission gate refused a token that carries the scope or app role the tool needs: authInfo.scopes must hold the token's scopes fully qualified with the App ID URI, and authInfo.extra the caller's roles and appOnly (${TODO.claims}); isAllowed compares them with the tool's permission (${TODO.gate}).`
          : reply.status === 401
            ? `See ${todo}.`
            : `The token was accepted, but the MCP handler did not take the request. See ${TODO.serve}.`;
    expect(reply.status, `${what}: expected HTTP 200, got ${shown(reply)}. ${why}`).toBe(200);
    expect(reply.rpc?.result, `${what}: the token was accepted, but the answer holds no tool result (${reply.rpc?.error ? `JSON-RPC error ${reply.rpc.error.code}: ${said(reply.rpc.error.message, 200)}` : shown(reply)}). See ${TODO.serve}.`).toBeDefined();
    expect(reply.rpc?.result?.isError, `${what}: expected a successful tool result, got: ${said(toolText(reply) || reply.text, 200)}. See ${resultTodo}.`).not.toBe(true);
    return toolText(reply);
  }

  /** A raw request, for what fetch cannot send (a foreign Host header). */
  function rawRequest(headers: Record<string, string>, body: string) {
    return new Promise<{ status: number }>((resolve, reject) => {
      const req = httpRequest(mcpUrl, { method: 'POST', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Counts requests to the tenant's JWKS, then lets the emulator answer them. */
  function countJwksFetches(): { readonly count: number } {
    const counter = { count: 0 };
    network.use(
      http.get(config.entra.jwksUri, () => {
        counter.count++;
        // No response: msw hands the request on to the emulator.
      }),
    );
    return counter;
  }

  /** How many On-Behalf-Of tokens Entra ID issued among recorded events (recordEvents()). */
  const oboGrants = (events: readonly EmulatorEvent[]) =>
    events.filter((event) => event.code === 'token-issued' && event.grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer').length;

  // ================================================================================================

  describe(`lesson ${options.lesson}: Protected Resource Metadata and the 401 challenge`, () => {
    it('serves RFC 9728 metadata: resource is exactly the MCP URL, the authorization server is the tenant, our scopes are listed', async () => {
      const response = await fetch(prmUrl);
      expect(response.status, `GET ${prmUrl} should answer 200 with the Protected Resource Metadata; got ${response.status}. Mount mcpAuthMetadataRouter (${TODO.prm}).`).toBe(200);
      const prm = (await response.json()) as { resource?: string; authorization_servers?: string[]; scopes_supported?: string[] };
      expect(prm.resource, `PRM "resource" must be the MCP URL exactly (it is also the API's Application ID URI; no trailing slash). Pass resourceServerUrl: config.mcpUrl (${TODO.prm}).`).toBe(mcpUrl.href);
      expect(prm.authorization_servers, `PRM "authorization_servers" must name the tenant's issuer ${config.entra.issuer}, from the OpenID configuration (${TODO.prm}).`).toEqual([config.entra.issuer]);
      expect(prm.scopes_supported ?? [], `PRM "scopes_supported" should list our scopes fully qualified: ${scope('tools.read')} and ${scope('mail.send')}. Pass scopesSupported (${TODO.prm}).`).toEqual(
        expect.arrayContaining([scope('tools.read'), scope('mail.send')]),
      );
      expect(
        prm.scopes_supported ?? [],
        `PRM "scopes_supported" lists what this API grants; offline_access is Entra ID's to give, and a resource server must not advertise it (the 2026-07-28 MCP specification). Got ${JSON.stringify(prm.scopes_supported)}. See ${TODO.prm}.`,
      ).not.toContain('offline_access');
    });

    it('answers a request without a token with 401 and a WWW-Authenticate header that points at the metadata', async () => {
      const reply = await callTool(undefined, 'whoami');
      expect(reply.status, `POST /mcp without a token must get 401; got ${shown(reply)}. Put requireBearerAuth in front of /mcp (${TODO.prm}).`).toBe(401);
      const challenge = reply.headers.get('www-authenticate') ?? '';
      expect(challenge, `The 401 needs a WWW-Authenticate: Bearer header; got "${challenge}". requireBearerAuth sets it (${TODO.prm}).`).toMatch(/^Bearer /);
      expect(challenge, `WWW-Authenticate must carry resource_metadata="${prmUrl}" so clients can discover the authorization server (RFC 9728 §5.1). Pass resourceMetadataUrl to requireBearerAuth (${TODO.prm}).`).toContain(
        `resource_metadata="${prmUrl}"`,
      );
      const statuses: Record<string, number> = {};
      for (const method of ['GET', 'DELETE']) {
        statuses[method] = (await fetch(mcpUrl, { method, headers: { accept: 'application/json, text/event-stream' } })).status;
      }
      expect(
        statuses,
        `GET and DELETE /mcp without a token must get 401 too (a server with authorization checks every request, whatever its method); got GET ${statuses.GET}, DELETE ${statuses.DELETE}. ` +
          `Every method of /mcp goes through requireBearerAuth (${TODO.serve}).`,
      ).toEqual({ GET: 401, DELETE: 401 });
    });
  });

  describe(`lesson ${options.lesson}: forged and misdirected tokens are refused with 401`, () => {
    interface Forgery {
      name: string;
      todo: string;
      /** The Authorization header to send (undefined: none). */
      header: () => Promise<string | undefined>;
    }
    const bearer = async (token: Promise<string> | string) => `Bearer ${await token}`;
    const withClaims = (claims: Record<string, unknown>) => bearer(userToken('ada', ['tools.read', 'mail.send'], claims));

    const FORGERIES: Forgery[] = [
      { name: 'no Authorization header', todo: TODO.prm, header: async () => undefined },
      { name: '"Bearer" with no token', todo: TODO.prm, header: async () => 'Bearer' },
      { name: 'a token that is not a JWT', todo: TODO.verify, header: () => bearer('not-a-jwt') },
      { name: 'an unsigned token (alg: none)', todo: TODO.verify, header: async () => bearer(new UnsecuredJWT(await genuinePayload()).encode()) },
      {
        name: 'an HS256 token "signed" with the tenant\'s public key (algorithm confusion)',
        todo: TODO.verify,
        header: async () => {
          const jwk = emulator.jwks().keys.at(-1)!;
          const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
          const token = await new SignJWT(await genuinePayload()).setProtectedHeader({ alg: 'HS256', kid: jwk.kid, typ: 'JWT' }).sign(new TextEncoder().encode(pem));
          return bearer(token);
        },
      },
      {
        name: 'a token signed with the tenant\'s own key but with PS256, an algorithm Entra does not use',
        todo: TODO.verify,
        header: async () => {
          // Only the emulator holds the tenant's private key: this proves the verifier pins RS256.
          const key = emulator.keys.tenant.at(-1)!;
          const ps256 = await importJWK(await exportJWK(key.privateKey), 'PS256');
          return bearer(await new SignJWT(await genuinePayload()).setProtectedHeader({ alg: 'PS256', kid: key.kid, typ: 'JWT' }).sign(ps256));
        },
      },
      {
        name: 'a genuine token whose payload was changed (bad signature)',
        todo: TODO.verify,
        header: async () => {
          const [header, , signature] = (await userToken('grace', ['tools.read'])).split('.');
          const payload = { ...(await genuinePayload()), oid: GRACE.oid, scp: 'tools.read mail.send' };
          return bearer(`${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`);
        },
      },
      {
        name: 'a token signed with a key that is not in the tenant\'s JWKS',
        todo: TODO.verify,
        header: async () => {
          const { privateKey } = await generateKeyPair('RS256');
          return bearer(await new SignJWT(await genuinePayload()).setProtectedHeader({ alg: 'RS256', kid: 'attacker-key', typ: 'JWT' }).sign(privateKey));
        },
      },
      { name: 'an expired token', todo: TODO.verify, header: () => withClaims({ iat: nowSeconds() - 7200, nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 }) },
      { name: 'a token that is not valid yet (nbf in the future)', todo: TODO.verify, header: () => withClaims({ iat: nowSeconds() + 3600, nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 }) },
      {
        name: 'a token valid only 15 minutes from now (clock skew allows a minute or two, not more)',
        todo: TODO.verify,
        header: () => withClaims({ iat: nowSeconds() + 900, nbf: nowSeconds() + 900, exp: nowSeconds() + 4500 }),
      },
      {
        name: 'a genuine token with its signature replaced, right after the genuine token was accepted',
        todo: TODO.verify,
        header: async () => {
          // A verified-token cache keyed by anything less than the whole token would take the forgery.
          const genuine = await userToken('ada', ['tools.read', 'mail.send']);
          expectToolSuccess(await callTool(genuine, 'whoami'), 'whoami with a valid token (before the same token is sent with another signature)', TODO.verify, TODO.caller);
          const [header, payload] = genuine.split('.');
          return bearer(`${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`);
        },
      },
      { name: 'a token from another issuer', todo: TODO.verify, header: () => withClaims({ iss: `https://sts.windows.net/${TENANT_ID}/` }) },
      {
        name: 'another tenant\'s token, signed with the same (shared) keys',
        todo: TODO.verify,
        header: () => withClaims({ iss: `${emulator.origin}/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT }),
      },
      { name: 'a token whose tid names another tenant', todo: TODO.claimChecks, header: () => withClaims({ tid: OTHER_TENANT }) },
      { name: 'a token for another app (wrong audience)', todo: TODO.verify, header: () => withClaims({ aud: APPS.webApp.clientId }) },
      {
        name: 'a genuine Microsoft Graph token (audience Graph)',
        todo: TODO.verify,
        header: () => bearer(emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'ada', scope: 'User.Read' })),
      },
      { name: 'a v1.0 token (ver 1.0)', todo: TODO.claimChecks, header: () => withClaims({ ver: '1.0' }) },
      {
        name: 'a token without oid (the verifier relies on it, so it must be required)',
        todo: TODO.verify,
        header: () => withClaims({ oid: undefined }),
      },
    ];

    it.each(FORGERIES)('refuses $name', async ({ name, todo, header }) => {
      const authorization = await header();
      const seen = recordEvents();
      const reply = await post('tools/call', { name: 'send_mail', arguments: { to: 'collector@attacker.example', subject: 'x', body: 'x' } }, authorization);
      expect(reply.status, `${name} must be refused with 401. ${whyNotRefused(reply, todo)}`).toBe(401);
      expect(reply.rpc?.result, `${name} must never reach a tool, yet a tool answered: ${said(toolText(reply))}. See ${todo}.`).toBeUndefined();
      expect(reply.headers.get('www-authenticate') ?? '', `The 401 for ${name} should carry a WWW-Authenticate: Bearer challenge (requireBearerAuth does this when the verifier throws ${options.invalidTokenError}, ${TODO.verify}).`).toMatch(/^Bearer /);
      expect(graph.calls, `${name} led to a call to Microsoft Graph. See ${todo}.`).toHaveLength(0);
      expect(oboGrants(seen), `${name} led to an On-Behalf-Of request at Entra ID. See ${todo}.`).toBe(0);
    });

    it('never writes a token to the logs, refused or accepted', async () => {
      const written: string[] = [];
      const capture = (...args: unknown[]) => void written.push(args.map(String).join(' '));
      for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, method).mockImplementation(capture);
      const write = (chunk: unknown) => (written.push(String(chunk)), true);
      vi.spyOn(process.stdout, 'write').mockImplementation(write);
      vi.spyOn(process.stderr, 'write').mockImplementation(write);
      const tokens: string[] = [];
      try {
        tokens.push(await userToken('ada', ['tools.read'], { exp: nowSeconds() - 3600 }));
        tokens.push(await userToken('ada', ['tools.read'], { aud: APPS.webApp.clientId }));
        tokens.push(await userToken('ada', ['tools.read', 'mail.send']));
        const replies = [];
        for (const token of tokens) replies.push(await callTool(token, 'send_mail', { to: 'someone@contoso.example', subject: 'Hi', body: 'x' }));
        // Only a server that accepts the valid token has an accepted path whose logs mean anything.
        expectToolSuccess(replies.at(-1)!, 'send_mail with a valid token (the accepted request whose logs this test reads)', TODO.verify, TODO.obo);
        network.use(http.get(config.entra.jwksUri, () => HttpResponse.error()));
        tokens.push(await userToken('grace', ['tools.read']));
        await callTool(tokens.at(-1), 'whoami');
      } finally {
        vi.restoreAllMocks();
      }
      // The signature part alone is enough to spot a token, whole or cut.
      const leaked = written.find((line) => tokens.some((token) => line.includes(token.split('.')[2]!)));
      expect(
        leaked,
        `The server wrote a token to its logs: "${leaked?.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<token>').slice(0, 200)}". Anyone who can read the logs could replay it. Log why a token was refused, never the token itself (describeFailure, ${TODO.verify}).`,
      ).toBeUndefined();
    });

    it('answers 503 with Retry-After, not 401, while the tenant\'s signing keys cannot be fetched, and takes the same token once they can', async () => {
      const token = await userToken();
      // A fresh server whose JWKS is out of reach: no answer at all, then an error page instead of a key set.
      for (const [outage, answer] of [
        ['no answer from the JWKS endpoint', () => HttpResponse.error()],
        ['HTTP 500 from the JWKS endpoint', () => HttpResponse.text('upstream error', { status: 500 })],
      ] as const) {
        network.use(http.get(config.entra.jwksUri, answer, { once: true }));
        const seen = recordEvents();
        const reply = await callTool(token, 'whoami');
        const why =
          reply.status === 401
            ? 'A 401 tells the client its token is bad, so it throws a good token away and signs in again, which cannot help. RFC 6750 §3.1 keeps 401 invalid_token for tokens that are expired, revoked, malformed or invalid; ' +
              `this one could not be checked at all. jwtVerify's failure must become rejection(error), which gives SigningKeysUnavailableError here (${TODO.verify}), and keysCheck must stay before bearer on every /mcp route (${TODO.prm}).`
            : whyNotRefused(reply, TODO.verify);
        expect(reply.status, `With ${outage}, nothing can prove the token valid or invalid: refuse the request (fail closed) with 503 "try again later" (RFC 9110 §15.6.4); it got ${shown(reply)}. ${why}`).toBe(503);
        expect(Number(reply.headers.get('retry-after')), `The 503 should say when to try again (Retry-After, in seconds); it said "${reply.headers.get('retry-after')}". Keep keysCheck from app.ts in front of bearer (${TODO.prm}).`).toBeGreaterThan(0);
        expect(reply.rpc?.result, `With ${outage} the request must never reach a tool, yet a tool answered: ${said(toolText(reply))}.`).toBeUndefined();
        expect(graph.calls, `With ${outage} the request led to a call to Microsoft Graph.`).toHaveLength(0);
        expect(oboGrants(seen), `With ${outage} the request led to an On-Behalf-Of request at Entra ID.`).toBe(0);
        expect(reply.text, 'The 503 must never show the token.').not.toContain(token);
      }
      const recovered = await callTool(token, 'whoami');
      expectToolSuccess(recovered, 'The same token once the JWKS answers again', TODO.verify, TODO.caller);
    });
  });

  describe(`lesson ${options.lesson}: valid tokens, and a scope or app role per tool`, () => {
    it('accepts a user\'s token and hands the tools who the caller is (oid, tid, fully qualified scopes)', async () => {
      const reply = await callTool(await userToken('ada', ['tools.read']), 'whoami');
      const text = expectToolSuccess(reply, 'whoami with a valid token for Ada', TODO.verify, TODO.caller);
      let seen: { oid?: string; tid?: string; scopes?: string[]; kind?: string; clientId?: string };
      try {
        seen = JSON.parse(text);
      } catch {
        throw new Error(`whoami should answer with JSON; got: ${text}`);
      }
      expect(seen.oid, `The tools should see Ada's object ID (${ADA.oid}) in authInfo.extra.oid; whoami saw ${seen.oid}. Build the AuthInfo in ${TODO.claims}.`).toBe(ADA.oid);
      expect(seen.tid, `The tools should see the tenant ID in authInfo.extra.tid. See ${TODO.claims}.`).toBe(TENANT_ID);
      expect(seen.kind, `A token with scopes is a user's token: authInfo.extra.appOnly should be false. See ${TODO.claims}.`).toBe('user');
      expect(seen.scopes, `authInfo.scopes should hold the token's scp values fully qualified (${scope('tools.read')}). See ${TODO.claims}.`).toEqual([scope('tools.read')]);
      expect(seen.clientId, `authInfo.clientId should be the token's azp, the app Ada signed in with (${APPS.mcpClient.clientId}); whoami saw ${seen.clientId}. See ${TODO.claims}.`).toBe(APPS.mcpClient.clientId);
    });

    it('reads customers with tools.read, and refuses send_mail with 403 insufficient_scope naming the missing scope', async () => {
      const token = await userToken('grace', ['tools.read']);
      const read = await callTool(token, 'lookup_customer', { customerId: 'C-1003' });
      expect(expectToolSuccess(read, 'lookup_customer with tools.read', TODO.gate)).toContain('Woodgrove Bank');

      const reply = await callTool(token, 'send_mail', { to: 'someone@contoso.example', subject: 'Hi', body: 'x' });
      expect(reply.status, `send_mail needs ${scope('mail.send')}; a token with only tools.read must get 403, got ${shown(reply)}. See ${TODO.gate}.`).toBe(403);
      const challenge = reply.headers.get('www-authenticate') ?? '';
      expect(challenge, `The 403 needs WWW-Authenticate: Bearer error="insufficient_scope" (RFC 6750 §3.1); got "${challenge}". See ${TODO.gate}.`).toMatch(/^Bearer .*error="insufficient_scope"/);
      expect(/scope="([^"]*)"/.exec(challenge)?.[1]?.split(' ') ?? [], `The challenge's scope="…" must name ${scope('mail.send')}, so the client can ask the user for it and retry (step-up); got "${challenge}". See ${TODO.gate}.`).toContain(
        scope('mail.send'),
      );
      expect(
        /scope="([^"]*)"/.exec(challenge)?.[1]?.split(' ') ?? [],
        `The challenge's scope="…" should also keep ${scope('tools.read')}, which the token already has: a client that replaces its token on step-up (the v1 SDK client does) would otherwise lose what it could already do. Got "${challenge}". See ${TODO.gate}.`,
      ).toContain(scope('tools.read'));
      expect(challenge, `The challenge should also carry resource_metadata="${prmUrl}". See ${TODO.gate}.`).toContain(`resource_metadata="${prmUrl}"`);
      expect(graph.calls, `A refused send_mail must not reach Microsoft Graph. See ${TODO.gate}.`).toHaveLength(0);
    });

    it('matches scopes exactly, and gates every message of a batch', async () => {
      // A scope whose name merely starts with mail.send is not mail.send.
      const lookalike = await userToken('ada', ['tools.read'], { scp: 'tools.read mail.send.shared' });
      const mail = { to: 'someone@contoso.example', subject: 'Hi', body: 'x' };
      const similar = await callTool(lookalike, 'send_mail', mail);
      expect(similar.status, `A token whose scopes are tools.read and mail.send.shared does not carry mail.send: send_mail must get 403, got ${shown(similar)}. Compare whole scopes (auth.scopes.includes), never substrings (${TODO.gate}).`).toBe(403);

      // A batch is several calls in one request: every one of them needs its permission.
      const readOnly = await userToken('grace', ['tools.read']);
      const batch = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${readOnly}` },
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'lookup_customer', arguments: { customerId: 'C-1003' } } },
          { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'send_mail', arguments: mail } },
        ]),
      });
      const batchText = await batch.text();
      expect(batch.status, `A JSON-RPC batch of lookup_customer and send_mail, with only tools.read, must get 403: every message of a batch is gated, not just the first (calledTools(req.body)); got HTTP ${batch.status} ${batchText.slice(0, 160)}. See ${TODO.gate}.`).toBe(403);
      expect(graph.outbox, `The send_mail hidden second in a batch reached Microsoft Graph. See ${TODO.gate}.`).toHaveLength(0);
    });

    it('honours app roles for an app-only caller: the daemon (Tools.Read.All) reads customers but cannot send mail', async () => {
      const token = await daemonToken();
      const who = expectToolSuccess(await callTool(token, 'whoami'), 'whoami with the daemon\'s app-only token', TODO.claims);
      expect(who, `An app-only token (no scp) should be marked appOnly in authInfo.extra. See ${TODO.claims}.`).toMatch(/"kind": ?"app"/);
      const read = await callTool(token, 'search_customers', { query: 'bank' });
      expect(
        expectToolSuccess(read, `search_customers for the daemon, whose token has no scopes but the app role Tools.Read.All (let app-only callers in by their roles, ${TODO.gate})`, TODO.gate),
      ).toContain('C-1003');
      const send = await callTool(token, 'send_mail', { to: 'someone@contoso.example', subject: 'Hi', body: 'x' });
      expect(send.status, `send_mail has no app role for app-only callers: the daemon must get 403, got ${shown(send)}. See ${TODO.gate}.`).toBe(403);
    });

    it('never lets an app role stand in for a user\'s missing scope: Ada (MCP.Admin) with only mail.send cannot export customers', async () => {
      const anonymous = await callTool(undefined, 'whoami');
      expect(anonymous.status, `A call without a token must get 401 before any permission can be judged; got ${shown(anonymous)}. See ${TODO.prm}.`).toBe(401);
      const reply = await callTool(await userToken('ada', ['mail.send']), 'export_customers');
      const why =
        reply.status === 401
          ? `The token itself is valid, yet it was refused with 401: see ${TODO.verify}.`
          : `Her app role MCP.Admin counts for the tool's own check, never instead of the scope; app roles let in app-only callers only (${TODO.gate}).`;
      expect(reply.status, `A user's token is judged by its scopes: export_customers needs ${scope('tools.read')}, and Ada's token holds only mail.send, so expected 403, got ${shown(reply)}. ${why}`).toBe(403);
    });

    it('keeps every app-only caller out of the tools that act as a user in Graph, whatever roles it holds', async () => {
      // An app that holds every role of the API, and no user behind it.
      const token = await emulator.issueAccessToken({ client: APPS.daemon.clientId, scope: scope('.default'), claims: { roles: ['Tools.Read.All', 'MCP.Admin'] } });
      expectToolSuccess(await callTool(token, 'whoami'), 'whoami for an app-only caller with the app role Tools.Read.All', TODO.verify, TODO.caller);
      const seen = recordEvents();
      for (const [name, args] of [['my_profile', {}], ['send_mail', { to: 'someone@contoso.example', subject: 'Hi', body: 'x' }]] as const) {
        const reply = await callTool(token, name, args);
        expect(
          reply.status,
          `${name} acts as the signed-in user in Graph (On-Behalf-Of), so it has no app role: an app-only caller must get 403 whatever roles it holds (here Tools.Read.All and MCP.Admin); got ${shown(reply)}. Give ${name} no appRole, and let an app-only caller in only by the tool's own appRole (${TODO.gate}).`,
        ).toBe(403);
      }
      expect(oboGrants(seen), `An app-only token went to Entra ID for On-Behalf-Of: there is no user to act for. See ${TODO.gate}.`).toBe(0);
      expect(graph.calls, `An app-only caller reached Microsoft Graph through a user-only tool. See ${TODO.gate}.`).toHaveLength(0);
    });

    it('lets Ada (app role MCP.Admin) export customers, and refuses Grace', async () => {
      const ada = await callTool(await userToken('ada', ['tools.read']), 'export_customers');
      expectToolSuccess(ada, 'export_customers for Ada, whose token carries roles: ["MCP.Admin"] (pass the roles on in authInfo.extra.roles)', TODO.claims);
      const grace = await callTool(await userToken('grace', ['tools.read']), 'export_customers');
      expect(grace.status, `Grace's request is valid; the tool itself refuses her. Expected HTTP 200, got ${shown(grace)}. See ${TODO.gate}.`).toBe(200);
      expect(grace.rpc?.result?.isError, `Grace has no MCP.Admin role: export_customers must refuse her; it answered: ${said(toolText(grace), 120)}. See ${TODO.claims}.`).toBe(true);
    });
  });

  describe(`lesson ${options.lesson}: a tool without a permission entry, and tool names the client chose`, () => {
    toolNameRules({ todo: TODO.gate, refusal: options.unknownToolRefusal, server: async () => ({ config, mcpUrl, prmUrl }) });
  });

  describe(`lesson ${options.lesson}: On-Behalf-Of: Graph only ever sees a token of our own`, () => {
    it('send_mail sends from the user\'s mailbox with an OBO token for Graph, never the incoming token', async () => {
      const incoming = await userToken('ada', ['tools.read', 'mail.send']);
      const seen = recordEvents();
      const reply = await callTool(incoming, 'send_mail', { to: 'priya.raman@woodgrovebank.example', subject: 'Your renewal', body: 'Hello Priya' });
      expectToolSuccess(reply, 'send_mail with mail.send', TODO.obo);
      expect(graph.outbox.map((mail) => [mail.from, mail.to[0], mail.subject]), `Graph should have sent one mail from Ada to Priya. See ${TODO.obo}.`).toEqual([
        [ADA.userPrincipalName, 'priya.raman@woodgrovebank.example', 'Your renewal'],
      ]);
      expect(graph.calls.length, 'Graph should have been called once.').toBe(1);
      const call = graph.calls[0]!;
      expect(call.token, `Graph received the caller's own token: that is token passthrough, which MCP forbids. Exchange it with acquireTokenOnBehalfOf (${TODO.obo}).`).not.toBe(incoming);
      expect(call.aud, `Graph should receive a token issued for Graph (aud ${GRAPH_RESOURCE}). See ${TODO.obo}.`).toBe(GRAPH_RESOURCE);
      expect(call.appid, `The Graph token should be issued to our API (appid ${config.entra.apiClientId}), the middle tier of On-Behalf-Of. See ${TODO.obo}.`).toBe(config.entra.apiClientId);
      expect(call.oid, `The Graph token should still speak for Ada (oid ${ADA.oid}). See ${TODO.obo}.`).toBe(ADA.oid);
      expect(oboGrants(seen), `The server should have asked Entra ID for an On-Behalf-Of token. See ${TODO.obo}.`).toBeGreaterThan(0);
    });

    it('my_profile reads /me for the caller through OBO, and a failing Graph gives a readable tool error', async () => {
      const incoming = await userToken('grace', ['tools.read']);
      const text = expectToolSuccess(await callTool(incoming, 'my_profile'), 'my_profile for Grace', TODO.obo);
      expect(text, `my_profile should return Grace's Graph profile. See ${TODO.obo}.`).toContain('Grace Hopper');
      expect(graph.calls.at(-1)?.token, `Graph received the caller's own token. Use acquireTokenOnBehalfOf (${TODO.obo}).`).not.toBe(incoming);

      const unavailable = await callWhileGraphFails(incoming, 'my_profile', 503);
      expect(unavailable.text, `A 503 with Retry-After: 30 should tell the person to try again in 30 seconds; it said: ${said(unavailable.text)}. See ${TODO.graphErrors}.`).toMatch(/\b30\b/);
      await callWhileGraphFails(incoming, 'my_profile', 500);
      expectToolSuccess(await callTool(incoming, 'my_profile'), 'my_profile after Graph recovered', TODO.obo);
    });

    it('gives every user a Graph token of their own, asking for just the permission the tool needs', async () => {
      const asked: string[] = [];
      network.use(
        http.post(emulator.endpoints.token, async ({ request }) => {
          const form = new URLSearchParams(await request.clone().text());
          if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer') asked.push(form.get('scope') ?? '');
          // No response: msw hands the request on to the emulator.
        }),
      );
      const ada = expectToolSuccess(await callTool(await userToken('ada', ['tools.read']), 'my_profile'), 'my_profile for Ada', TODO.obo);
      expect(ada, `my_profile should return Ada's Graph profile. See ${TODO.obo}.`).toContain('Ada Lovelace');
      const grace = expectToolSuccess(await callTool(await userToken('grace', ['tools.read']), 'my_profile'), 'my_profile for Grace, right after Ada', TODO.obo);
      expect(
        grace,
        `Right after Ada, my_profile for Grace answered with someone else's profile: ${said(grace, 120)}. A Graph token speaks for the user it was obtained for: call acquireTokenOnBehalfOf with the caller's own token every time (MSAL's cache is keyed by that token), never keep Graph tokens of your own by scope or by client. See ${TODO.obo}.`,
      ).toContain('Grace Hopper');
      expect(graph.calls.map((call) => call.oid), `Graph should have seen Ada's token, then Grace's. See ${TODO.obo}.`).toEqual([ADA.oid, GRACE.oid]);
      const scopesAsked = asked.map((scopes) => scopes.split(' ').filter((name) => !['openid', 'profile', 'offline_access'].includes(name)));
      expect(
        scopesAsked.length > 0 && scopesAsked.every((names) => names.length === 1 && /User\.Read$/.test(names[0]!)),
        `my_profile needs User.Read only, so the On-Behalf-Of request asks for that one permission (pass the tool's scope as it is: a token that could also send mail is more than /me needs, and a user who never consented to Mail.Send could not read a profile at all). The requests asked for: ${JSON.stringify(asked)}. See ${TODO.obo}.`,
      ).toBe(true);
    });

    it('the same caller\'s next call takes the Graph token from MSAL\'s cache, with no second On-Behalf-Of request', async () => {
      const incoming = await userToken('grace', ['tools.read']);
      expectToolSuccess(await callTool(incoming, 'my_profile'), 'my_profile for Grace', TODO.obo);
      const seen = recordEvents();
      expectToolSuccess(await callTool(incoming, 'my_profile'), 'my_profile for Grace, a second time', TODO.obo);
      expect(
        oboGrants(seen),
        `The second my_profile with the same token asked Entra ID for another On-Behalf-Of token, so MSAL's cache never answers. Keep one ConfidentialClientApplication for the server's life, and ask for Graph permissions in the short form Entra ID answers with (User.Read, not https://graph.microsoft.com/User.Read). See ${TODO.obo}.`,
      ).toBe(0);
    });

    it('a refused On-Behalf-Of exchange becomes a tool error that names the error code and the Graph permission to check', async () => {
      const incoming = await userToken('ada', ['tools.read', 'mail.send']);
      network.use(
        http.post(
          emulator.endpoints.token,
          () => HttpResponse.json({ error: 'invalid_grant', error_description: 'AADSTS65001: The user or administrator has not consented to use the application.', error_codes: [65001] }, { status: 400 }),
          { once: true },
        ),
      );
      const reply = await callTool(incoming, 'send_mail', { to: 'priya.raman@woodgrovebank.example', subject: 'Hi', body: 'Hello' });
      const text = toolText(reply);
      expect(reply.rpc?.result?.isError, `When Entra ID refuses the On-Behalf-Of exchange, send_mail should answer with a tool error; it answered: ${shown(reply)}. See ${TODO.obo}.`).toBe(true);
      expect(text, `The error should name Entra ID's error code (invalid_grant), so a person can look it up; it said: ${said(text, 200)}. Throw a GraphAccessError with error.errorCode (${TODO.obo}).`).toContain('invalid_grant');
      expect(text, `The error should name the Graph permission to check (Mail.Send), so a person knows what to grant; it said: ${said(text, 200)}. Throw a GraphAccessError that names the scope (${TODO.obo}).`).toContain('Mail.Send');
      expect(graph.calls, 'Without a Graph token, nothing may reach Graph.').toHaveLength(0);
    });

    it('Entra ID out of reach during On-Behalf-Of becomes a tool error that says so, not a missing permission', async () => {
      const incoming = await userToken('grace', ['tools.read']);
      network.use(http.post(emulator.endpoints.token, () => HttpResponse.error()));
      const reply = await callTool(incoming, 'my_profile', {}, AbortSignal.timeout(PROMPT_MS * 3));
      const text = toolText(reply);
      expect(reply.status, `An unreachable Entra ID is the tool's problem, not the protocol's: expected HTTP 200 with an error result, got ${shown(reply)}. See ${TODO.obo}.`).toBe(200);
      expect(reply.rpc?.result?.isError, `With Entra ID unreachable, my_profile should return isError: true; it answered: ${said(text, 160)}. See ${TODO.obo}.`).toBe(true);
      expect(text, `The tool error should name the cause, that Entra ID could not be reached; it said: ${said(text)}. Use the given describeEntraError(error, config, scope) from shared/entraErrors.ts (${TODO.obo}).`).toMatch(/could not reach Entra ID/i);
      expect(text, `The cause is the network, not a permission: the error must not send the person to the app's permissions; it said: ${said(text)}. See ${TODO.obo}.`).not.toMatch(/permission|consent/i);
      expect(text, `A tool error is for a person, not MSAL's raw "network_error: Network request failed"; it said: ${said(text)}. See ${TODO.obo}.`).not.toMatch(/network_error|additionalErrorInfo/);
      expect(text, 'A tool error must never show a token.').not.toContain(incoming);
    });

    it('Graph throttling (429 with Retry-After) is answered at once with when to retry, and the next call works', async () => {
      const incoming = await userToken('ada', ['tools.read', 'mail.send']);
      const mail = { to: 'priya.raman@woodgrovebank.example', subject: 'Your renewal', body: 'Hello Priya' };
      expectToolSuccess(await callTool(incoming, 'send_mail', mail), 'send_mail before Graph throttles', TODO.obo);
      const oboToken = graph.calls.at(-1)?.token ?? '';
      const { text } = await callWhileGraphFails(incoming, 'send_mail', 429, mail);
      expect(text, `A 429 with Retry-After: 30 should tell the person to try again in 30 seconds; it said: ${said(text)}. See ${TODO.graphErrors}.`).toMatch(/\b30\b/);
      expect(text, 'A tool error must never show the Graph token.').not.toContain(oboToken);
      expectToolSuccess(await callTool(incoming, 'send_mail', mail), 'send_mail after the 429', TODO.obo);
      expect(graph.outbox.length, 'Exactly the two calls that Graph accepted should have sent mail.').toBe(2);
    });

    it('a 403 from Graph becomes a tool error that names the Graph permission the call needs', async () => {
      const incoming = await userToken('ada', ['tools.read', 'mail.send']);
      network.use(
        http.post(
          'https://graph.microsoft.com/v1.0/me/sendMail',
          () => HttpResponse.json({ error: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' } }, { status: 403 }),
          { once: true },
        ),
      );
      const denied = await callTool(incoming, 'send_mail', { to: 'priya.raman@woodgrovebank.example', subject: 'Hi', body: 'Hello' });
      const text = toolText(denied);
      expect(denied.rpc?.result?.isError, `A 403 from Graph should be a tool error; it answered: ${shown(denied)}. See ${TODO.graphErrors}.`).toBe(true);
      expect(text, `A person fixes a 403 by granting the permission, so name it (Mail.Send); it said: ${said(text)}. See ${TODO.graphErrors}.`).toContain('Mail.Send');
    });
  });

  describe(`lesson ${options.lesson}: the SDK client discovers, signs in with the pre-registered client, and calls the tools`, () => {
    it('completes discovery (PRM, then the OpenID configuration), sign-in as Ada, and a mail sent through OBO', async () => {
      // A pre-registered public client (Entra ID has no dynamic client registration). Nobody listens
      // at its redirect URI: the "browser" stops at the redirect and hands us the code.
      const provider = new MemoryOAuthClient({ clientName: 'lesson-4-tests', redirectUrl: 'http://localhost:53682/callback', clientId: APPS.mcpClient.clientId });
      const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
      const first = new Client({ name: 'lesson-4-tests', version: '1.0.0' });
      clients.push(first);
      let failure: unknown;
      try {
        await first.connect(transport);
      } catch (error) {
        failure = error;
      }
      expect(
        failure instanceof UnauthorizedError,
        failure
          ? `The client should stop for sign-in (UnauthorizedError) after discovery; it failed with: ${String((failure as Error).message).split('\n')[0]}. Check the 401 challenge and the metadata (${TODO.prm}).`
          : `The client connected without signing in: /mcp never asked for a token. Put requireBearerAuth in front of /mcp (${TODO.prm}).`,
      ).toBe(true);
      const authorizationUrl = provider.authorizationUrl!;
      expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`, 'The client should send the user to the tenant\'s authorize endpoint, found through PRM and the OpenID configuration.').toBe(emulator.endpoints.authorize);
      expect(authorizationUrl.searchParams.get('resource'), `The client asks for a token for the PRM "resource" (RFC 8707): it must be ${mcpUrl.href}. See ${TODO.prm}.`).toBe(mcpUrl.href);

      const signedIn = await signIn(authorizationUrl, 'ada', { redirectUri: provider.redirectUrl });
      const code = signedIn.params.get('code');
      expect(code, `Ada's sign-in should end with an authorization code; the emulator answered: ${signedIn.params.toString()}`).toBeTruthy();
      expect(signedIn.params.get('state'), 'The state must come back unchanged.').toBe(provider.lastState);
      await transport.finishAuth(code!);

      let client: Client;
      try {
        client = await connectHttpClient(mcpUrl, { authProvider: provider });
      } catch (error) {
        throw new Error(`With Ada's fresh token the client could not connect: ${(error as Error).message.split('\n')[0]}. The verifier does not accept a valid token (${TODO.verify}, ${TODO.claims}).`);
      }
      clients.push(client);
      const incoming = provider.tokens()!.access_token;
      const who = resultText(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(who, `whoami should name Ada (${ADA.oid}). See ${TODO.claims}.`).toContain(ADA.oid);
      const sent = await client.callTool({ name: 'send_mail', arguments: { to: 'grace@contoso.test', subject: 'Lunch?', body: 'At noon.' } });
      expect(sent.isError, `send_mail through the SDK client failed: ${said(resultText(sent))}. See ${TODO.obo}.`).not.toBe(true);
      expect(graph.outbox.map((mail) => mail.from), 'Graph should have sent the mail from Ada\'s mailbox.').toEqual([ADA.userPrincipalName]);
      expect(graph.calls.at(-1)?.token, `Graph must never see the client's token. See ${TODO.obo}.`).not.toBe(incoming);
      expect(graph.calls.at(-1)?.appid, `Graph's token must be an OBO token issued to our API. See ${TODO.obo}.`).toBe(config.entra.apiClientId);
    });
  });

  describe(`lesson ${options.lesson}: signing keys are cached, and a rotation is picked up`, () => {
    it('fetches the JWKS once under a stream of requests', async () => {
      const fetches = countJwksFetches();
      // A distinct token per request (each has its own `uti`), as from many clients: the server's
      // verified-token cache (verifiedTokens.ts) must not hide a verifier that fetches keys per request.
      const tokens = await Promise.all(Array.from({ length: 25 }, () => userToken('ada', ['tools.read'])));
      const replies = await Promise.all(tokens.slice(0, 20).map((token) => callTool(token, 'whoami')));
      for (const reply of replies) expectToolSuccess(reply, 'whoami under load', TODO.verify, TODO.caller);
      for (const token of tokens.slice(20)) expectToolSuccess(await callTool(token, 'whoami'), 'whoami after the burst', TODO.verify, TODO.caller);
      expect(
        fetches.count,
        `25 requests should fetch the tenant's JWKS exactly once; it was fetched ${fetches.count} times. Create the remote JWKS once in createEntraVerifier, not per request (${TODO.verify}).`,
      ).toBe(1);
    });

    it('does not refetch the JWKS for every unknown kid, and picks up a rotated key once the cooldown has passed', async () => {
      const fetches = countJwksFetches();
      expectToolSuccess(await callTool(await userToken('ada', ['tools.read']), 'whoami'), 'whoami with the current key', TODO.verify, TODO.caller);
      const payload = await genuinePayload();
      const { privateKey } = await generateKeyPair('RS256');
      const flood = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: `made-up-${i}`, typ: 'JWT' }).sign(privateKey);
          return callTool(forged, 'whoami');
        }),
      );
      expect(flood.map((reply) => reply.status), `Tokens with made-up kids must all get 401. ${whyNotRefused(flood.find((r) => r.status !== 401) ?? flood[0]!, TODO.verify)}`).toEqual(Array(10).fill(401));
      expect(fetches.count, `10 tokens with unknown kids made ${fetches.count} JWKS fetches; jose's remote JWKS refetches at most once per cooldown. Keep one createRemoteJWKSet for the process (${TODO.verify}).`).toBeLessThanOrEqual(2);

      // Entra ID rotates its keys; move the clock past jose's 30 s cooldown instead of sleeping.
      await emulator.rotateSigningKey();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 31_000);
      const before = fetches.count;
      const rotated = await callTool(await userToken('ada', ['tools.read']), 'whoami');
      expectToolSuccess(rotated, 'whoami with a token signed by the newly rotated key', TODO.verify, TODO.caller);
      expect(fetches.count, 'A token with the new kid should make the verifier fetch the JWKS once more.').toBe(before + 1);
    });
  });

  describe(`lesson ${options.lesson}: a token checked once stops working when it expires`, () => {
    it('refuses a token it accepted before, once that token has expired', async () => {
      const token = await userToken('ada', ['tools.read'], { exp: nowSeconds() + 120 });
      expectToolSuccess(await callTool(token, 'whoami'), 'whoami with a token valid for two more minutes', TODO.verify, TODO.caller);
      // Past `exp` and past the clock tolerance: remembering an earlier check must not keep it alive.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 5 * 60_000);
      const later = await callTool(token, 'whoami');
      expect(later.status, `The same token after it expired must get 401; got ${later.status}. requireBearerAuth refuses an AuthInfo whose expiresAt (seconds) is past: set it from exp (${TODO.claims}).`).toBe(401);
    });
  });

  describe(`lesson ${options.lesson}: HTTP hygiene (already in the starter)`, () => {
    it('refuses a foreign Origin and a foreign Host with 403, before looking at the token', async () => {
      const token = await userToken('ada', ['tools.read']);
      const origin = await post('tools/list', {}, `Bearer ${token}`, { origin: 'https://evil.example' });
      expect(origin.status, `A request from the web page https://evil.example must get 403 (the transport spec's Origin rule); got ${shown(origin)}. Keep the Origin check in ${FILES.app}.`).toBe(403);
      const host = await rawRequest(
        { host: 'attacker.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      );
      expect(host.status, `A foreign Host header must get 403 (DNS rebinding). Keep createMcpExpressApp in ${FILES.app}.`).toBe(403);
    });
  });

  return { current: () => ({ config, mcpUrl, prmUrl }) };
}

/** The server a lesson's tool-name tests talk to. */
export interface ToolNameServer {
  config: WorkshopConfig;
  mcpUrl: URL;
  prmUrl: string;
}

export interface ToolNameRulesOptions {
  /** Where the lesson's permission check is written, for the messages: "TODO 4.4 in lessons/04-resource-server/scopes.ts". */
  todo: string;
  /**
   * How the lesson refuses a `tools/call` of a tool that has no permission entry (any name the client
   * chooses): `challenge`, its HTTP gate answers 403 `insufficient_scope` before the MCP server runs
   * (lessons 4 and 5); `not-found`, a tool cannot be registered without a permission, so the SDK answers
   * the JSON-RPC error "Tool … not found" (lesson 6, where each registered tool carries its own challenge).
   */
  refusal: 'challenge' | 'not-found';
  /** The lesson's server for the current test. */
  server(): Promise<ToolNameServer>;
}

/**
 * Two rules of every lesson that gates tools by permission: a tool with no permission entry is refused
 * to everyone, whatever the token holds; and the tool name, which the client chooses, never breaks the
 * `WWW-Authenticate` challenge (a line break made Node answer 500, ERR_INVALID_CHAR; a `"` let the client
 * add parameters of its own). Lessons 4 and 6 run them in resourceServerSuite, lesson 5 in its own suite.
 */
export function toolNameRules({ todo, refusal, server }: ToolNameRulesOptions): void {
  const UNKNOWN = 'delete_all_customers';

  async function call(mcpUrl: URL, token: string, name: string) {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
    });
    const text = await response.text();
    const data = text.trimStart().startsWith('{') ? text : /^data: (.*)$/m.exec(text)?.[1];
    let rpc: { result?: unknown; error?: { message?: string } } | undefined;
    try {
      rpc = data ? JSON.parse(data) : undefined;
    } catch {
      rpc = undefined;
    }
    return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', rpc, shown: `HTTP ${response.status} ${said(text, 200)}` };
  }

  /** Expects the lesson's refusal of a tool that has no permission entry. */
  function expectRefused(reply: Awaited<ReturnType<typeof call>>, what: string): void {
    if (refusal === 'challenge') {
      expect(reply.status, `${what} must be refused with 403 (insufficient_scope), so that a tool gets its permission on purpose, never by default; got ${reply.shown}. See ${todo}.`).toBe(403);
      expect(reply.challenge, `The 403 for ${what} needs WWW-Authenticate: Bearer error="insufficient_scope"; got "${reply.challenge}". See ${todo}.`).toMatch(/^Bearer .*error="insufficient_scope"/);
    } else {
      expect(reply.status, `${what} must be answered, not crash the server; got ${reply.shown}. See ${todo}.`).toBeLessThan(500);
      expect(
        reply.rpc?.error?.message ?? '',
        `${what} must end in the SDK's JSON-RPC error "Tool … not found": a tool exists only if it was registered, and it is registered only with a permission; got ${reply.shown}. See ${todo}.`,
      ).toMatch(/not found/i);
    }
    expect(reply.rpc?.result, `${what} must never run a tool, yet a tool answered. See ${todo}.`).toBeUndefined();
  }

  it('refuses a tool that has no permission entry to everyone, user or app, whatever the token holds', async () => {
    const { config, mcpUrl } = await server();
    const qualified = (name: string) => `${config.entra.apiAppIdUri}/${name}`;
    const user = await emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'ada', scope: [qualified('tools.read'), qualified('mail.send')].join(' ') });
    const app = await emulator.issueAccessToken({ client: APPS.daemon.clientId, scope: qualified('.default') });
    expectRefused(await call(mcpUrl, user, UNKNOWN), `A call of ${UNKNOWN}, a tool with no entry in TOOL_PERMISSIONS, by Ada with every scope (and the app role MCP.Admin)`);
    expectRefused(await call(mcpUrl, app, UNKNOWN), `A call of ${UNKNOWN}, a tool with no entry in TOOL_PERMISSIONS, by the daemon (app-only, Tools.Read.All)`);
    expect(graph.calls, `A tool with no permission entry led to a call to Microsoft Graph. See ${todo}.`).toHaveLength(0);
  });

  it("keeps a client-chosen tool name out of the challenge's syntax: no header injection, no 500", async () => {
    const { config, mcpUrl, prmUrl } = await server();
    const token = await emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'grace', scope: `${config.entra.apiAppIdUri}/tools.read` });
    for (const name of ['bad\nname', 'x", scope="openid offline_access', 'ünïcode\u0000']) {
      const reply = await call(mcpUrl, token, name);
      const shownName = JSON.stringify(name);
      expect(
        reply.status,
        `A call of the tool ${shownName} (a name the client chose) got ${reply.shown}. ${reply.status >= 500 ? 'Node refuses a header with a line break (ERR_INVALID_CHAR): a client-chosen name must go through headerSafe() before it reaches WWW-Authenticate. ' : ''}See ${todo}.`,
      ).toBeLessThan(500);
      expectRefused(reply, `A call of the tool ${shownName}`);
      for (const parameter of ['error', 'scope', 'error_description', 'resource_metadata']) {
        expect(
          reply.challenge.match(new RegExp(`(?:^Bearer |, )${parameter}="`, 'g'))?.length ?? 0,
          `The tool name ${shownName} added a ${parameter}="…" parameter to WWW-Authenticate: "${reply.challenge}". A client-chosen name must never end the quoted value: put error_description through headerSafe() (${todo}).`,
        ).toBeLessThanOrEqual(1);
      }
      if (refusal === 'challenge') {
        expect(reply.challenge, `WWW-Authenticate should still name the metadata after a tool name like ${shownName}; got "${reply.challenge}". See ${todo}.`).toContain(`resource_metadata="${prmUrl}"`);
      }
    }
  });
}
