/**
 * Lesson 1: an MCP server with tools that touch sensitive things, served over Streamable HTTP.
 *
 * It works, and that is the problem: nothing here asks who is calling.
 */
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { findCustomer, searchCustomers } from '../../shared/world/customers.ts';
import type { Outbox } from '../../shared/world/outbox.ts';

/** What the tools work on. Passed in, so tests can look inside the outbox. */
export interface ServerDeps {
  outbox: Outbox;
}

/**
 * Builds the MCP server and its tools. Cheap enough to build once per HTTP request, which is what
 * the stateless transport needs.
 */
export function createMcpServer(deps: ServerDeps): McpServer {
  const server = new McpServer({ name: 'contoso-crm', version: '1.0.0' });

  server.registerTool(
    'lookup_customer',
    {
      title: 'Look up a customer',
      description: 'Returns one customer by ID: contact details, tier, credit limit and internal account notes.',
      inputSchema: {
        customerId: z.string().trim().min(1).describe('The customer ID, e.g. C-1001'),
      },
      // A hint for clients, not a permission: hints never replace access control.
      annotations: { readOnlyHint: true },
    },
    async ({ customerId }) => {
      const customer = findCustomer(customerId);
      // An unknown ID is the caller's mistake, not ours: answer with a tool error the model can
      // read and correct, instead of throwing a protocol error.
      if (!customer) {
        return errorResult(
          `No customer has the ID "${customerId}". IDs look like C-1001; use search_customers to find one by name or company.`,
        );
      }
      return textResult(JSON.stringify(customer, null, 2));
    },
  );

  server.registerTool(
    'search_customers',
    {
      title: 'Search customers',
      description: 'Finds customers whose name or company contains the query (case-insensitive).',
      inputSchema: {
        query: z.string().trim().min(1).max(100).describe('Part of a person\'s or a company\'s name, e.g. "woodgrove"'),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ query }) => {
      const matches = searchCustomers(query).map(({ id, name, company, tier }) => ({ id, name, company, tier }));
      // No match is a normal answer, not an error.
      if (matches.length === 0) return textResult(`No customer matches "${query}".`);
      return textResult(JSON.stringify(matches, null, 2));
    },
  );

  server.registerTool(
    'send_email',
    {
      title: 'Send an e-mail',
      description: 'Sends an e-mail on behalf of Contoso. Returns the message ID.',
      // The schema is the validation: the SDK checks it before our code runs and turns a failure
      // into a tool error the client sees.
      inputSchema: {
        to: z.email().describe('One recipient address'),
        subject: z.string().trim().min(1, 'The subject must not be empty').max(200),
        body: z.string().max(20_000).describe('Plain text'),
      },
      // It reaches the outside world: clients should ask the user before calling it.
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async ({ to, subject, body }) => {
      const sent = deps.outbox.send({ to, subject, body });
      return textResult(`Sent message ${sent.id} to ${sent.to} at ${sent.sentAt}.`);
    },
  );

  return server;
}

/**
 * The HTTP app: stateless Streamable HTTP at `/mcp`.
 * Transport spec: https://modelcontextprotocol.io/specification/2025-11-25/basic/transports
 */
export function createApp(deps: ServerDeps): Express {
  // Checks the Host header (a DNS-rebinding defence for localhost) and parses JSON bodies.
  // It does not check who is calling.
  const app = createMcpExpressApp();

  app.post('/mcp', async (req: Request, res: Response) => {
    // Stateless: a fresh server and transport for every request, so no state leaks between callers.
    const server = createMcpServer(deps);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // Reply with plain JSON: our tools send nothing mid-call, so a stream adds nothing.
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      console.error('MCP request failed:', error);
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'Internal server error'));
    }
  });

  app.get('/mcp', methodNotAllowed);
  app.delete('/mcp', methodNotAllowed);

  return app;
}

/**
 * A stateless server has no stream to open (GET) and no session to end (DELETE); the transport
 * spec says to answer 405 Method Not Allowed.
 */
function methodNotAllowed(_req: Request, res: Response): void {
  res
    .status(405)
    .set('Allow', 'POST')
    .json(jsonRpcError(-32000, 'Method not allowed: this stateless server only accepts POST /mcp.'));
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
