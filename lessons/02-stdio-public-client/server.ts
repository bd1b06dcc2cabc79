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
  // TODO 2.5: Create a Graph client with createGraphClient(), its tokens from deps.auth, and register
  // the tool PROFILE_TOOL with server.registerTool(): a title, a description, no input. The handler
  // gets a token first (a failed sign-in becomes a tool error), then GETs `${deps.graphBaseUrl}/me`
  // with $select PROFILE_FIELDS and returns the profile as JSON text. See README, step 2.5.

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
  // TODO 2.5: Chain AuthenticationHandler → RedirectHandler → TelemetryHandler → HTTPMessageHandler
  // (setNext) and pass the first to Client.initWithMiddleware({ middleware }). See README, step 2.5.
  throw new Error('TODO 2.5: implement createGraphClient() in server.ts.');
}

/**
 * A sentence a person can act on, for a failed Graph call: what happened, and what to do.
 * Status codes: https://learn.microsoft.com/graph/errors
 */
export function describeGraphError(error: unknown): string {
  // TODO 2.6: Turn the error into one sentence for a person: 401 (the token was refused: call again),
  // 403 (the app needs User.Read), 429 and 5xx (try again in retryAfterSeconds(error) seconds),
  // anything else, and errors without an HTTP status. Also, in the tool's handler: after a 401, ask
  // for the next token with forceRefresh: true instead of sending the refused one again. See README, step 2.6.
  throw new Error('TODO 2.6: implement describeGraphError() in server.ts.');
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
