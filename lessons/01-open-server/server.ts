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

  // TODO 1.1: Register the `lookup_customer` tool with server.registerTool(): a title, a description,
  // and a zod input schema with one field, `customerId`. Return the customer from findCustomer() as
  // text, or an error result (errorResult) naming the unknown ID. See README, step 1.1.

  // TODO 1.2: Register the `search_customers` tool: input `query` (a non-empty string). Return the
  // matches from searchCustomers() as text; no match is a normal answer. See README, step 1.2.

  // TODO 1.3: Register the `send_email` tool: inputs `to` (an e-mail address), `subject` (not empty)
  // and `body`. Put the mail into deps.outbox and answer with its message ID. See README, step 1.3.

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

  // TODO 1.4: Serve POST /mcp statelessly: for each request build a new McpServer (createMcpServer)
  // and a new StreamableHTTPServerTransport({ sessionIdGenerator: undefined }), close both when the
  // response closes, connect them and let the transport handle the request. See README, step 1.4.

  // TODO 1.5: Answer GET and DELETE /mcp with methodNotAllowed (below). See README, step 1.5.

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
