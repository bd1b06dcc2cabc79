/**
 * Lesson 3's demo, run by `npm run lesson:3` once the server listens:
 *
 *   1. an anonymous request gets 401, and the WWW-Authenticate header says where the metadata is;
 *   2. the metadata names this server as the authorization server, with its endpoints;
 *   3. a demo MCP client (the SDK's own) registers and prints a sign-in link. Open it in a browser,
 *      approve, pick a user: the demo receives the code on a loopback port, redeems it and calls
 *      the tool. This part runs in the background, so the next steps print right away.
 *
 * It never throws: when a step fails (TODOs remain) it says which TODO to finish. It prints no tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MemoryOAuthClient } from '../tests/support/memoryOAuthClient.ts';

export interface DemoContext {
  mcpUrl: URL;
  log: (line: string) => void;
}

const FOLDER = 'lessons/03-remote-confidential-client';
/** How long the sign-in link stays good for the demo. */
const WAIT_MS = 10 * 60 * 1000;

export async function demo(ctx: DemoContext): Promise<void> {
  const { log, mcpUrl } = ctx;
  const stuck = (what: string, todo: string) => log(`${what} Finish ${todo} in ${FOLDER}, then run: npm run check:3`);

  // 1. Knock without a token.
  let challenge: string | null;
  try {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    await response.body?.cancel();
    if (response.status !== 401) return stuck(`POST ${mcpUrl.pathname} without a token got HTTP ${response.status}, not 401: the door is open.`, 'TODO 3.2 (app.ts)');
    challenge = response.headers.get('www-authenticate');
  } catch (error) {
    return log(`Could not reach ${mcpUrl.href}: ${reason(error)}`);
  }
  log(`POST ${mcpUrl.pathname} without a token → 401`);
  log(`  WWW-Authenticate: ${challenge ?? '(missing)'}`);

  // 2. Follow the header to the metadata.
  const prmUrl = challenge?.match(/resource_metadata="([^"]+)"/)?.[1];
  if (!prmUrl) return stuck('The 401 does not say where the metadata is (resource_metadata).', 'TODO 3.2 (app.ts)');
  let issuer: string;
  try {
    const prm = (await (await fetch(prmUrl)).json()) as { resource?: string; authorization_servers?: string[] };
    issuer = prm.authorization_servers?.[0] ?? '';
    log(`${new URL(prmUrl).pathname} → resource ${prm.resource}, authorization server ${issuer}`);
    const as = (await (await fetch(new URL('/.well-known/oauth-authorization-server', issuer))).json()) as Record<string, unknown>;
    for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint']) log(`  ${field}: ${String(as[field])}`);
    log(`  code_challenge_methods_supported: ${JSON.stringify(as.code_challenge_methods_supported)}`);
  } catch (error) {
    return stuck(`Could not read the metadata (${reason(error)}).`, 'TODO 3.2 (app.ts)');
  }
  log('MCP clients register and get tokens here; only this server talks to Entra ID, with its client secret.');

  // 3. A real client, waiting in the background for you to sign in.
  try {
    await startBrowserSignIn(ctx);
  } catch (error) {
    log(`The demo client could not start its sign-in: ${reason(error)}. Run: npm run check:3`);
  }
}

/** Registers a demo client with a loopback redirect, prints the sign-in link, and finishes the flow when the browser comes back. */
async function startBrowserSignIn({ mcpUrl, log }: DemoContext): Promise<void> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listener.unref(); // never keep the lab alive on our account
  const redirectUrl = `http://localhost:${(listener.address() as AddressInfo).port}/callback`;
  const oauth = new MemoryOAuthClient({ clientName: 'Lesson 3 demo client', redirectUrl });
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: oauth });
  const client = new Client({ name: 'lesson-3-demo', version: '1.0.0' });
  try {
    await client.connect(transport);
    log('The demo client connected without signing in: /mcp is not protected yet (TODO 3.2).');
    listener.close();
    return;
  } catch {
    // Expected: the SDK client registered, and now wants the user at the authorization URL.
  }
  if (!oauth.authorizationUrl) {
    listener.close();
    throw new Error('the SDK client found no authorization URL (metadata or /register missing, TODO 3.2)');
  }
  log('A demo MCP client registered itself (dynamic client registration). To walk the flow in a browser, open:');
  log(`  ${oauth.authorizationUrl.href}`);
  log('  → consent page (Allow) → the emulator\'s sign-in page (pick a user) → back here. You have 10 minutes.');
  void waitForCallback(listener, oauth, WAIT_MS)
    .then(async (code) => {
      await transport.finishAuth(code);
      const signedIn = new Client({ name: 'lesson-3-demo', version: '1.0.0' });
      await signedIn.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: oauth }));
      const result = (await signedIn.callTool({ name: 'get_my_profile', arguments: {} })) as CallToolResult;
      const text = result.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
      await signedIn.close();
      if (result.isError) return log(`get_my_profile answered with an error: ${text}`);
      const name = (JSON.parse(text) as { displayName?: string }).displayName;
      log(`Signed in. get_my_profile says you are ${name ?? text}. The demo client holds only this server's token, never Entra's.`);
    })
    .catch((error: unknown) => log(`The browser sign-in did not complete: ${reason(error)}. Run: npm run check:3`))
    .finally(() => listener.close());
}

/** Resolves with the code when the browser arrives at the redirect URI with our state. */
function waitForCallback(listener: Server, oauth: MemoryOAuthClient, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nobody signed in within 10 minutes')), timeoutMs);
    timer.unref();
    listener.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/callback') return void res.writeHead(404).end();
      const ok = url.searchParams.get('state') === oauth.lastState && url.searchParams.has('code');
      res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'Signed in. You can close this tab and look at the terminal.' : `Sign-in failed: ${url.searchParams.get('error') ?? 'the state did not match'}`);
      clearTimeout(timer);
      if (ok) resolve(url.searchParams.get('code')!);
      else reject(new Error(url.searchParams.get('error_description') ?? url.searchParams.get('error') ?? 'the state did not match'));
    });
  });
}

function reason(error: unknown): string {
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number' && status >= 400) return `the server answered HTTP ${status}`;
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
