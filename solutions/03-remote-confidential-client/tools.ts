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
        return errorResult(describeGraphError(error, 'User.Read'));
      }
    },
  );

  return server;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
