/**
 * Microsoft Graph plumbing the remote lessons (3 and 4) share: what lesson 2 has you write yourself.
 *
 * - graphClient(token): a Graph client that sends exactly this token, built without the SDK's default
 *   RetryHandler. That handler sleeps on 429 and 503 for as long as Retry-After says (up to three
 *   times) while the MCP client waits on a tool call that seems to hang. https://learn.microsoft.com/graph/throttling
 * - describeGraphError(error, permission): one sentence a person can act on, with the wait when Graph
 *   gives one. It quotes Graph's status and message, never the token. https://learn.microsoft.com/graph/errors
 */
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';

/** A Microsoft Graph client that sends `token` as its bearer token (the caller's own, or an On-Behalf-Of one). */
export function graphClient(token: string): Client {
  const authentication = new AuthenticationHandler({ getAccessToken: async () => token });
  return Client.initWithMiddleware({
    middleware: [authentication, new RedirectHandler(), new TelemetryHandler(), new HTTPMessageHandler()],
    defaultVersion: 'v1.0',
  });
}

/** @param permission the delegated permission the call needs, named in a 403's advice. */
export function describeGraphError(error: unknown, permission: string): string {
  if (!(error instanceof GraphError) || error.statusCode <= 0) {
    return `Microsoft Graph could not be reached: ${firstLine(error)}. Try again in a moment.`;
  }
  const status = error.statusCode;
  const detail = `${status}${error.code ? ` ${error.code}` : ''}: ${firstLine(error)}`;
  const wait = retryAfterSeconds(error);
  const when = wait === undefined ? 'in a little while' : `in ${wait} seconds`;
  if (status === 401) return `Microsoft Graph refused the token (${detail}). Sign in again in your MCP client.`;
  if (status === 403) {
    return `Microsoft Graph denied access (${detail}). The app needs the delegated permission ${permission}, consented for you: ask an administrator.`;
  }
  // Graph's mail API needs an Exchange Online mailbox: https://learn.microsoft.com/graph/api/resources/mail-api-overview
  if (status === 404 && /^Mailbox/i.test(error.code ?? '')) {
    return `Microsoft Graph found no mailbox for you (${detail}). Sending mail needs an Exchange Online mailbox: sign in with a user that has one (a Microsoft 365 licence with Exchange Online).`;
  }
  if (status === 429) return `Microsoft Graph is throttling requests (${detail}). Try again ${when}.`;
  if (status >= 500) return `Microsoft Graph is not available right now (${detail}). Try again ${when}.`;
  return `Microsoft Graph refused the request (${detail}).`;
}

/** Retry-After in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterSeconds(error: GraphError): number | undefined {
  const value = error.headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000);
  return Number.isFinite(seconds) ? Math.max(seconds, 1) : undefined;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.trim().replace(/\.$/, '') || 'no details';
}
