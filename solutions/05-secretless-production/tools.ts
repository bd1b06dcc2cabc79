/**
 * The MCP server and its tools. By the time a tool runs, requireBearerAuth has verified the token
 * and the permission gate (scopes.ts) has checked the tool's scope or app role, so the tools only
 * read who the caller is from `extra.authInfo`.
 */
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CUSTOMERS, findCustomer, searchCustomers } from '../../shared/world/customers.ts';
import type { GraphService } from './graph.ts';
import { APP_ROLES } from './scopes.ts';
import { callerOf } from './verifier.ts';

export interface ToolDeps {
  graph: GraphService;
}

/** Builds the MCP server; cheap enough to build once per request (stateless transport). */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer({ name: 'contoso-crm', version: '5.0.0' });

  server.registerTool(
    'whoami',
    {
      title: 'Who am I?',
      description: 'Tells who this server thinks the caller is: user or app, object ID, tenant, scopes and app roles.',
      annotations: { readOnlyHint: true },
    },
    async (extra) => {
      const auth = extra.authInfo;
      if (!auth) return notAuthenticated();
      const caller = callerOf(auth);
      return textResult(
        JSON.stringify(
          {
            kind: caller.appOnly ? 'app' : 'user',
            name: caller.name ?? null,
            oid: caller.oid,
            tid: caller.tid,
            clientId: auth.clientId,
            scopes: auth.scopes,
            roles: caller.roles,
            expiresAt: auth.expiresAt ? new Date(auth.expiresAt * 1000).toISOString() : null,
          },
          null,
          2,
        ),
      );
    },
  );

  server.registerTool(
    'lookup_customer',
    {
      title: 'Look up a customer',
      description: 'Returns one customer by ID: contact details, tier, credit limit and internal account notes.',
      inputSchema: { customerId: z.string().trim().min(1).describe('The customer ID, e.g. C-1001') },
      annotations: { readOnlyHint: true },
    },
    async ({ customerId }) => {
      const customer = findCustomer(customerId);
      if (!customer) return errorResult(`No customer has the ID "${customerId}". Use search_customers to find one.`);
      return textResult(JSON.stringify(customer, null, 2));
    },
  );

  server.registerTool(
    'search_customers',
    {
      title: 'Search customers',
      description: 'Finds customers whose name or company contains the query (case-insensitive).',
      inputSchema: { query: z.string().trim().min(1).max(100).describe('Part of a name or company, e.g. "woodgrove"') },
      annotations: { readOnlyHint: true },
    },
    async ({ query }) => {
      const matches = searchCustomers(query).map(({ id, name, company, tier }) => ({ id, name, company, tier }));
      if (matches.length === 0) return textResult(`No customer matches "${query}".`);
      return textResult(JSON.stringify(matches, null, 2));
    },
  );

  server.registerTool(
    'my_profile',
    {
      title: 'My profile',
      description: "Reads the signed-in user's profile from Microsoft Graph (/me), on the user's behalf.",
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (extra) => {
      const auth = extra.authInfo;
      if (!auth) return notAuthenticated();
      try {
        return textResult(JSON.stringify(await deps.graph.me(auth), null, 2));
      } catch (error) {
        return errorResult((error as Error).message);
      }
    },
  );

  server.registerTool(
    'send_mail',
    {
      title: 'Send an e-mail',
      description: "Sends an e-mail from the signed-in user's own mailbox through Microsoft Graph.",
      inputSchema: {
        to: z.email().describe('One recipient address'),
        subject: z.string().trim().min(1, 'The subject must not be empty').max(200),
        body: z.string().max(20_000).describe('Plain text'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async ({ to, subject, body }, extra) => {
      const auth = extra.authInfo;
      if (!auth) return notAuthenticated();
      try {
        await deps.graph.sendMail(auth, { to, subject, body });
        return textResult(`Sent "${subject}" to ${to} from the mailbox of ${callerOf(auth).name ?? 'the signed-in user'}.`);
      } catch (error) {
        return errorResult((error as Error).message);
      }
    },
  );

  server.registerTool(
    'export_customers',
    {
      title: 'Export all customers (administrators)',
      description: 'Returns every customer record, with credit limits and internal notes. Needs the MCP.Admin app role.',
      annotations: { readOnlyHint: true },
    },
    async (extra) => {
      const auth = extra.authInfo;
      if (!auth) return notAuthenticated();
      // The permission gate (scopes.ts) already refused callers without the role; checking again
      // here keeps the tool safe if it is ever served without the gate.
      if (!callerOf(auth).roles.includes(APP_ROLES.admin)) {
        return errorResult(`Only administrators may export customers: the app role ${APP_ROLES.admin} is required. Ask a tenant administrator to assign it.`);
      }
      return textResult(JSON.stringify(CUSTOMERS, null, 2));
    },
  );

  return server;
}

function notAuthenticated(): CallToolResult {
  return errorResult('This request carries no verified caller: requireBearerAuth must run before the MCP handler (see app.ts).');
}

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
