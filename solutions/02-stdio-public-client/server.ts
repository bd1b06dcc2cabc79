/**
 * Lesson 2: an MCP server with one tool, `get_my_profile`, that reads the signed-in user's profile
 * from Microsoft Graph with a token from the AuthenticationService.
 *
 * The access token is for Graph (its `aud` is https://graph.microsoft.com), not for this server:
 * here the user signs in so that *we* can call an API on their behalf.
 */
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { firstLine } from '../../shared/errorText.ts';

export const PROFILE_TOOL = 'get_my_profile';

/** The profile fields the tool returns (Graph `$select`). */
export const PROFILE_FIELDS = ['displayName', 'userPrincipalName', 'mail', 'jobTitle', 'officeLocation', 'id'];

/** Where tokens come from: the AuthenticationService, or a fake in a test. */
export interface TokenSource {
  acquireToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

export interface ServerDeps {
  auth: TokenSource;
  /** Microsoft Graph's v1.0 endpoint, `config.graphBaseUrl`. Offline the preloaded bridge routes it to the fake. */
  graphBaseUrl: string;
}

export function createMcpServer(deps: ServerDeps): McpServer {
  const server = new McpServer({ name: 'workshop-graph-profile', version: '1.0.0' });
  const graph = createGraphClient(() => deps.auth.acquireToken());
  /** Set when Graph refused our token, so the next call fetches a new one instead of resending it. */
  let tokenRefused = false;

  server.registerTool(
    PROFILE_TOOL,
    {
      title: 'Get my profile',
      description:
        "Returns the signed-in user's Microsoft Graph profile: name, user principal name, mail, job title, office. " +
        'The first call may ask the user to sign in in their browser.',
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async () => {
      const forceRefresh = tokenRefused;
      tokenRefused = false;
      try {
        // Get the token first, so that a failed sign-in is reported as one and not as a Graph error.
        await deps.auth.acquireToken({ forceRefresh });
      } catch (error) {
        return errorResult(`Sign-in did not complete: ${firstLine(error)}. Call the tool again to sign in.`);
      }
      try {
        const profile = (await graph.api(`${deps.graphBaseUrl}/me`).select(PROFILE_FIELDS).get()) as Record<string, unknown>;
        delete profile['@odata.context'];
        return textResult(JSON.stringify(profile, null, 2));
      } catch (error) {
        if (error instanceof GraphError && error.statusCode === 401) tokenRefused = true;
        return errorResult(describeGraphError(error));
      }
    },
  );

  return server;
}

/**
 * A Graph client that gets its token from `getAccessToken` on every request.
 *
 * We build the middleware chain ourselves to leave out the default RetryHandler: it sleeps on 429
 * and 503 for as long as Retry-After says (up to 3 times), while the user and the MCP client wait
 * on a tool call that seems to hang. Answering at once, with the wait in the message, lets the
 * person or the model decide. https://learn.microsoft.com/graph/throttling
 */
export function createGraphClient(getAccessToken: () => Promise<string>): Client {
  const authentication = new AuthenticationHandler({ getAccessToken });
  const redirect = new RedirectHandler(new RedirectHandlerOptions());
  const telemetry = new TelemetryHandler();
  const http = new HTTPMessageHandler();
  authentication.setNext(redirect);
  redirect.setNext(telemetry);
  telemetry.setNext(http);
  return Client.initWithMiddleware({ middleware: authentication });
}

/**
 * A sentence a person can act on, for a failed Graph call: what happened, and what to do.
 * Status codes: https://learn.microsoft.com/graph/errors
 */
export function describeGraphError(error: unknown): string {
  if (!(error instanceof GraphError) || error.statusCode <= 0) {
    return `Could not reach Microsoft Graph: ${firstLine(error)}. Check your network connection and call the tool again.`;
  }
  const status = error.statusCode;
  const detail = `${status}${error.code ? ` ${error.code}` : ''}: ${firstLine(error)}`;
  if (status === 401) {
    return `Microsoft Graph refused the access token (${detail}). Call the tool again: the server then fetches a new token first.`;
  }
  if (status === 403) {
    return (
      `Microsoft Graph denied access (${detail}). The app needs the delegated permission User.Read, consented for you: ` +
      'ask an administrator to grant it under API permissions in the app registration.'
    );
  }
  const wait = retryAfterSeconds(error);
  const when = wait === undefined ? 'in a little while' : `in ${wait} seconds`;
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

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
