/**
 * Connecting a real MCP client (the SDK's own) to the code under test.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface HttpClientOptions {
  authProvider?: OAuthClientProvider;
  /** Extra headers on every request, e.g. a hand-made `Authorization` header. */
  headers?: Record<string, string>;
}

/** Connects an MCP client over Streamable HTTP. Close it with `client.close()`. */
export async function connectHttpClient(url: URL | string, options: HttpClientOptions = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    authProvider: options.authProvider,
    requestInit: options.headers ? { headers: options.headers } : undefined,
  });
  const client = new Client({ name: 'workshop-tests', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** The text of a tool result's text blocks, joined. */
export function resultText(result: unknown): string {
  const content = (result as CallToolResult).content ?? [];
  return content
    .filter((block): block is { type: 'text'; text: string } => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
}

/**
 * What the code under test said, quoted inside a test's own sentence: on one line (the lab shows a
 * failure's first line, so a line break in a quote would hide the test's "See TODO N.M"), cut to `max`
 * characters, and without its closing full stop, so "it answered: ….  See TODO 1.1." never reads "…..".
 */
export function said(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return cut.trimEnd().replace(/(?<!\.)\.$/, '');
}
