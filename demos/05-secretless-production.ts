/**
 * Lesson 5's demo, run by `npm run lesson:5` once the server listens. Plain HTTP, as a platform and a
 * client see it: the health and readiness probes, the security headers, a flood of requests with a
 * guessed token that ends in 429 with Retry-After. It ends with how to sign in from MCP Inspector,
 * where the secretless On-Behalf-Of calls, the redacted request log and the audit lines show.
 *
 * It never throws: when a step shows that a TODO is not done yet, it says which one and stops.
 */
import type { DemoContext } from '../shared/lab/demo.ts';
import { INSPECTOR_COMMAND } from '../shared/lab/lessons.ts';

const FOLDER = 'lessons/05-secretless-production';

export async function demo(ctx: DemoContext): Promise<void> {
  const { log, mcpUrl, config } = ctx;
  const stuck = (what: string, todo: string, file: string) => log(`${what} Finish ${todo} in ${FOLDER}/${file}, then run: npm run check:5`);

  // 1. What the platform's probes see.
  for (const probe of ['/healthz', '/readyz']) {
    const response = await fetch(new URL(probe, mcpUrl));
    if (response.status !== 200) return stuck(`GET ${probe} answered HTTP ${response.status}.`, 'TODO 5.7', 'app.ts');
    log(`GET ${probe}: HTTP 200 ${await response.text()} (a status word, nothing about the server)`);
  }

  // 2. Security headers on an ordinary refusal.
  const anonymous = await callTool(mcpUrl, undefined, 'whoami');
  const headers = ['x-content-type-options', 'content-security-policy', 'strict-transport-security'].filter((name) => anonymous.headers.get(name));
  if (headers.length === 0) return stuck('The responses carry no security headers.', 'TODO 5.5', 'app.ts');
  log(`Without a token: HTTP ${anonymous.status}, with ${headers.join(', ')}; no X-Powered-By: ${anonymous.headers.get('x-powered-by') === null}.`);

  // 3. Someone guessing tokens: refused requests are rate limited per address.
  let limited: Response | undefined;
  for (let attempt = 1; attempt <= 40 && !limited; attempt++) {
    const reply = await callTool(mcpUrl, `guess-${attempt}`, 'whoami');
    if (reply.status === 429) limited = reply;
  }
  if (!limited) return stuck('40 requests with guessed tokens were all answered 401: nothing limits them.', 'TODO 5.5', 'app.ts');
  log(`Guessing tokens: after a few dozen refusals, HTTP 429 with Retry-After: ${limited.headers.get('retry-after')} s and RateLimit: ${limited.headers.get('ratelimit')}.`);
  log('This address is now refused for a while, even with a valid token: that is the point. Restart the server to reset it.');

  if (config.mode !== 'offline') return inspectorHelp(ctx);
  log('Sign in from MCP Inspector and call my_profile: the server gets its Graph token with a signed client assertion, never a secret.');
  log('Watch this terminal: one JSON log line per request (Authorization shown as [redacted]) and one audit line per tool call.');
  inspectorHelp(ctx);
}

function inspectorHelp({ log, mcpUrl, config }: DemoContext): void {
  const scopes = ['tools.read', 'mail.send'].map((name) => `${config.entra.apiAppIdUri}/${name}`).join(' ');
  log(`Sign in as a user from MCP Inspector 2.x (${INSPECTOR_COMMAND}, Node.js 22.19+):`);
  log(`    Add Servers → + Add manually: Transport streamable-http, URL ${mcpUrl.href} (or use the card you have)`);
  log(`    On its card, Settings → OAuth Settings: Clear stored OAuth state; Client ID ${config.entra.mcpClientId}; Scopes: ${scopes}`);
  log(`    Flip its switch, then pick ${config.mode === 'offline' ? 'Ada (admin) or Grace on the emulator\'s sign-in page' : 'your account'}; under Tools try my_profile, then export_customers as Grace (refused: no MCP.Admin role).`);
}

async function callTool(mcpUrl: URL, token: string | undefined, name: string): Promise<Response> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
  });
  await response.arrayBuffer();
  return response;
}
