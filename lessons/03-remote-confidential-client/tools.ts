/**
 * The MCP server and its one tool: the caller's own Microsoft Graph profile.
 *
 * The tool learns who is calling from `extra.authInfo`, which requireBearerAuth filled in from the
 * verified token. It takes no user ID, e-mail or token as input: anything in the request body is
 * chosen by the client (or by a prompt injection), so it must never decide whose data is read.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeGraphError, graphClient } from '../../shared/graph.ts';
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

  // TODO 3.10: Register the tool `get_my_profile` (no input fields, readOnlyHint). In the handler, take
  // the caller from extra.authInfo (none: an error result), get a Graph token with
  // deps.graphTokenFor(extra.authInfo) (a SignInRequiredError becomes an error result), and return
  // GET ${deps.graphBaseUrl}/me, PROFILE_FIELDS only, as JSON text, with the given graphClient(token).
  // A failed Graph call becomes errorResult(describeGraphError(error, 'User.Read')), also given. See README, step 3.10.

  return server;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
