/**
 * The MCP server and its one tool: the caller's own Microsoft Graph profile.
 *
 * The tool learns who is calling from `extra.authInfo`, which requireBearerAuth filled in from the
 * verified token. It takes no user ID, e-mail or token as input: anything in the request body is
 * chosen by the client (or by a prompt injection), so it must never decide whose data is read.
 */
import {
  AuthenticationHandler,
  Client as GraphClient,
  GraphError,
  HTTPMessageHandler,
  RedirectHandler,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignInRequiredError } from './entra.ts';

export interface ToolDeps {
  /** Microsoft Graph's v1.0 endpoint (config.graphBaseUrl). */
  graphBaseUrl: string;
  /** A Graph access token for the user behind this request's token (see provider.graphTokenFor). */
  graphTokenFor(authInfo: AuthInfo): Promise<string>;
}

/** The profile fields the tool returns: enough to say who you are, nothing more. */
const PROFILE_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail', 'jobTitle', 'officeLocation'];

export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer({ name: 'contoso-profile', version: '1.0.0' });

  server.registerTool(
    'get_my_profile',
    {
      title: 'Get my profile',
      description: 'Returns the signed-in user\'s Microsoft 365 profile from Microsoft Graph: name, e-mail address, job title and office.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (_args, extra) => {
      // requireBearerAuth guarantees it on /mcp; without it there is nobody to look up.
      if (!extra.authInfo) return errorResult('This request is not signed in. Connect with OAuth and try again.');
      let token: string;
      try {
        token = await deps.graphTokenFor(extra.authInfo);
      } catch (error) {
        if (error instanceof SignInRequiredError) return errorResult(error.message);
        throw error;
      }
      try {
        const me = (await graphClient(token).api(`${deps.graphBaseUrl}/me`).select(PROFILE_FIELDS).get()) as Record<string, unknown>;
        return { content: [{ type: 'text', text: JSON.stringify(me, null, 2) }] };
      } catch (error) {
        // Answer at once with what to do (a 429 says when to retry), instead of waiting inside the call.
        return errorResult(describeGraphError(error));
      }
    },
  );

  return server;
}

/**
 * A Graph client that sends exactly this token. The middleware chain leaves out the default
 * RetryHandler, which sleeps on 429 and 503 for as long as Retry-After says: see lesson 2.
 */
function graphClient(token: string): GraphClient {
  const authentication = new AuthenticationHandler({ getAccessToken: async () => token });
  return GraphClient.initWithMiddleware({ middleware: [authentication, new RedirectHandler(), new TelemetryHandler(), new HTTPMessageHandler()] });
}

/**
 * A sentence a person can act on, for a failed Graph call, with the wait when Graph gives one. It
 * quotes Graph's status and message, never the token. https://learn.microsoft.com/graph/errors
 */
function describeGraphError(error: unknown): string {
  if (!(error instanceof GraphError) || error.statusCode <= 0) return `Could not reach Microsoft Graph: ${firstLine(error)}. Try again in a moment.`;
  const status = error.statusCode;
  const detail = `${status}${error.code ? ` ${error.code}` : ''}: ${firstLine(error)}`;
  if (status === 401) return `Microsoft Graph refused your sign-in (${detail}). Sign out in your MCP client and sign in again.`;
  if (status === 403) return `Microsoft Graph denied access (${detail}). The server's app registration needs the delegated permission User.Read, consented for you: ask an administrator.`;
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

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.trim().replace(/\.$/, '') || 'no details';
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
