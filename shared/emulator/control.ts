/**
 * The emulator's control endpoint, for demos and the e2e suite: make Microsoft Graph fail next
 * (throttled or down), or shorten the access tokens Entra ID issues from now on, to show a learner
 * how a server copes. Served only by the HTTP adapter (server.ts), which listens on loopback; and
 * only to programs on this machine: a request from a web page (it carries `Origin`) or with a Host
 * other than a loopback name (DNS rebinding) is refused.
 *
 *   POST /_emulator/graph/fail-next   {"status": 429, "retryAfterSeconds": 30, "times": 1}
 *   POST /_emulator/token-lifetime    {"accessTokenSeconds": 60}
 *   POST /_emulator/api-app-id-uri    {"uri": "http://localhost:3005/mcp"}
 *   POST /_emulator/reset             Graph answers again, token lifetimes as at start
 *
 * `api-app-id-uri` adds an Application ID URI to the MCP API, as Expose an API does on a tenant: a
 * lesson that reuses a running emulator registers its own MCP URL (identifier URIs match exactly).
 *
 * Every answer is JSON; a mistake is one line in `error`.
 */
import { z } from 'zod';
import type { EntraEmulator } from './entra.ts';
import { APPS } from './directory.ts';
import type { GraphFake } from './graph.ts';

/** Path prefix of the test and instructor controls (faults, clock, sign-outs); answered on loopback only. */
export const CONTROL_PREFIX = '/_emulator/';
const ENDPOINTS = ['graph/fail-next', 'token-lifetime', 'api-app-id-uri', 'reset'].map((action) => CONTROL_PREFIX + action).join(', ');

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const GraphFailure = z.strictObject({
  status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503), z.literal(504)]),
  retryAfterSeconds: z.int().min(1).max(3600).optional(),
  times: z.int().min(1).max(100).default(1),
});

const ApiAppIdUri = z.strictObject({
  // An absolute http(s) URL; kept verbatim, since Entra compares identifier URIs character for character.
  uri: z.url({ protocol: /^https?$/ }),
});

const TokenLifetime = z.strictObject({
  // MSAL renews a token that has less than 5 minutes left, so anything under 300 s makes every call renew.
  accessTokenSeconds: z.int().min(10).max(24 * 3600),
});

/** Answers one control request; `remoteAddress` is the TCP peer's address. */
export async function handleControl(request: Request, remoteAddress: string | undefined, emulator: EntraEmulator, graph: GraphFake, initial: { accessTokenLifetimeSeconds: number }): Promise<Response> {
  const url = new URL(request.url);
  const host = (request.headers.get('host') ?? '').replace(/:\d+$/, '');
  if (!LOOPBACK_ADDRESSES.has(remoteAddress ?? '') || !LOOPBACK_HOSTS.has(host)) {
    return answer(403, { error: 'The control endpoint only answers programs on this machine, at localhost.' });
  }
  if (request.headers.has('origin')) {
    return answer(403, { error: 'The control endpoint does not answer web pages (the request carried Origin). Call it from a terminal or a test.' });
  }
  if (request.method !== 'POST') return answer(405, { error: `Use POST. Endpoints: ${ENDPOINTS}.` });

  const action = url.pathname.slice(CONTROL_PREFIX.length);
  if (action === 'reset') {
    graph.reset();
    emulator.settings.accessTokenLifetimeSeconds = initial.accessTokenLifetimeSeconds;
    return answer(200, { reset: true, accessTokenSeconds: initial.accessTokenLifetimeSeconds });
  }
  const schema = ({ 'graph/fail-next': GraphFailure, 'token-lifetime': TokenLifetime, 'api-app-id-uri': ApiAppIdUri } as const)[action];
  if (!schema) return answer(404, { error: `No control ${url.pathname}. Endpoints: ${ENDPOINTS}.` });
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? '')) {
    return answer(415, { error: 'Send a JSON body with Content-Type: application/json.' });
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return answer(400, { error: 'The body is not JSON.' });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return answer(400, { error: `${issue.path.join('.') || 'body'}: ${issue.message}.` });
  }
  if (action === 'graph/fail-next') {
    const failure = parsed.data as z.infer<typeof GraphFailure>;
    graph.failNext(failure);
    return answer(200, { graphFailsNext: failure });
  }
  if (action === 'api-app-id-uri') {
    const { uri } = parsed.data as z.infer<typeof ApiAppIdUri>;
    if (!emulator.identifierUris(APPS.mcpApi).includes(uri)) emulator.addApiAppIdUri(uri);
    return answer(200, { apiAppIdUris: emulator.identifierUris(APPS.mcpApi) });
  }
  const { accessTokenSeconds } = parsed.data as z.infer<typeof TokenLifetime>;
  emulator.settings.accessTokenLifetimeSeconds = accessTokenSeconds;
  return answer(200, { accessTokenSeconds });
}

function answer(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}
