/**
 * Lesson 2's demo, run by `npm run lesson:2`: an MCP client spawns the learner's stdio server, as
 * VS Code or Claude Desktop would, and calls get_my_profile twice. The server's stderr is shown
 * (indented), so the sign-in prompt is visible. Then it prints how to connect real MCP clients.
 *
 * It never throws for a learner's mistake: when a step fails it names the TODO to finish.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DemoContext } from '../shared/lab/demo.ts';
import { INSPECTOR_COMMAND, ROOT } from '../shared/lab/lessons.ts';
import { bold, dim, say } from '../shared/lab/output.ts';
import { GRAPH_BRIDGE } from '../shared/lab/processes.ts';

const TOOL = 'get_my_profile';
/** A person may take a while on the sign-in page; the SDK's default of 60 s is too short for that. */
const SIGN_IN_TIMEOUT_MS = 10 * 60_000;
const SERVER_NAME = 'workshop-graph-profile';

export async function demo(ctx: DemoContext): Promise<void> {
  const { log } = ctx;
  const lessonFolder = path.dirname(ctx.server.args.at(-1)!);
  const where = path.relative(ROOT, lessonFolder).split(path.sep).join('/');
  const stuck = (what: string, error: unknown, todo: string) =>
    log(`${what} (${reason(error)}). Finish ${todo} in ${where}, then run: npm run check:2`);
  const runAgain = where.startsWith('solutions/') ? 'npm run solution:2' : 'npm run lesson:2';
  // The offline cache file (main.ts names a tenant's differently): a sign-in saved by an earlier run.
  const savedCache = ctx.config.mode === 'offline' && existsSync(path.join(ctx.config.stateDir, 'lesson-02', 'token-cache.json'));

  const transport = new StdioClientTransport({
    command: ctx.server.command,
    args: ctx.server.args,
    cwd: ctx.server.cwd,
    env: ctx.server.env,
    stderr: 'pipe',
  });
  showServerLog(transport);
  const client = new Client({ name: 'lesson-2-demo', version: '1.0.0' });
  try {
    log(`Starting the server as a child process; we talk JSON-RPC over its stdin and stdout. Its log (stderr) is shown indented.`);
    try {
      await client.connect(transport);
    } catch (error) {
      return stuck('The server did not start', error, 'the TODO named in its log above (2.1 first)');
    }

    let tools: string[] = [];
    try {
      tools = (await client.listTools()).tools.map((tool) => tool.name);
    } catch {
      // No tools registered yet: reported below.
    }
    if (!tools.includes(TOOL)) return log(`The server does not offer ${TOOL} yet. Finish TODO 2.5 in ${where}, then run: npm run check:2`);

    log(`Calling ${TOOL}. If nobody is signed in yet, the server opens your browser, or prints a device code in its log: sign in there.`);
    const first = await timedCall(client);
    if (first.error) return stuck(`${TOOL} failed`, first.error, 'TODOs 2.1–2.5');
    if (first.isError) return log(`${TOOL} answered with an error: ${first.text}  (see TODOs 2.3–2.6, or npm run check:2)`);
    log(`Answered in ${seconds(first.ms)}. Your Microsoft Graph profile:`);
    printProfile(first.text);

    log(`Calling ${TOOL} again…`);
    const second = await timedCall(client);
    if (second.error || second.isError) return stuck(`The second call failed`, second.error ?? second.text, 'TODO 2.3');
    log(`Answered in ${seconds(second.ms)}, with no sign-in: MSAL served the token from its cache (TODO 2.3).`);
    if (savedCache) {
      log('A token cache from an earlier run was there: if the first call asked for no sign-in, that was the cache at work (TODO 2.2). Delete the file the server named above to sign in again.');
    } else {
      log(`Run ${runAgain} again: even the first call is silent then, because the token cache in the state folder survived (TODO 2.2).`);
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  printClientConfigs(ctx);
}

/** Shows every line the server writes to stderr, indented, as it arrives. */
function showServerLog(transport: StdioClientTransport): void {
  let rest = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) say(`      ${dim('server ›')} ${line.trimEnd()}`);
  });
}

async function timedCall(client: Client): Promise<{ ms: number; isError?: boolean; text: string; error?: unknown }> {
  const started = Date.now();
  try {
    const result = (await client.callTool({ name: TOOL, arguments: {} }, undefined, { timeout: SIGN_IN_TIMEOUT_MS })) as CallToolResult;
    const text = result.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
    return { ms: Date.now() - started, isError: result.isError === true, text };
  } catch (error) {
    return { ms: Date.now() - started, text: '', error };
  }
}

function printProfile(text: string): void {
  try {
    const profile = JSON.parse(text) as Record<string, unknown>;
    for (const [name, value] of Object.entries(profile)) say(`      ${dim(name.padEnd(18))} ${String(value)}`);
  } catch {
    say(`      ${text}`);
  }
}

/** One MCP server entry in a client's configuration: what the client runs, and with which variables. */
export interface StdioServerConfig {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The server entries `npm run lesson:2` prints for Inspector, VS Code and Claude Desktop: offline
 * (Graph bridge preloaded, this emulator) and with a tenant. Absolute paths and explicit `env`, because
 * those clients start the server from a working directory of their own. The e2e suite starts lesson 2
 * from the offline entry, exactly as printed.
 */
export function clientConfigs(ctx: Pick<DemoContext, 'server' | 'config'>): { offline: StdioServerConfig; tenant: StdioServerConfig } {
  const entry = ctx.server.args.at(-1)!;
  const tsx = ctx.server.args[ctx.server.args.indexOf('--import') + 1]!;
  const bridge = pathToFileURL(GRAPH_BRIDGE).href;
  const stateDir = ctx.config.stateDir;
  const tenantId = ctx.config.mode === 'tenant' ? ctx.config.entra.tenantId : '<your Directory (tenant) ID>';
  const clientId = ctx.config.mode === 'tenant' ? safe(() => ctx.config.entra.publicClientId) : undefined;
  return {
    offline: {
      command: ctx.server.command,
      args: ['--import', tsx, '--import', bridge, entry],
      env: { LAB_STATE_DIR: stateDir, EMULATOR_URL: ctx.config.emulatorUrl.origin },
    },
    tenant: {
      command: ctx.server.command,
      args: ['--import', tsx, entry],
      env: { LAB_STATE_DIR: stateDir, ENTRA_TENANT_ID: tenantId, ENTRA_PUBLIC_CLIENT_ID: clientId ?? '<your Application (client) ID>' },
    },
  };
}

/** VS Code's `.vscode/mcp.json` and Claude Desktop's `claude_desktop_config.json` for one server entry. */
export function vscodeConfig(server: StdioServerConfig): unknown {
  return { servers: { [SERVER_NAME]: { type: 'stdio', ...server } } };
}
export function claudeDesktopConfig(server: StdioServerConfig): { mcpServers: Record<string, StdioServerConfig> } {
  return { mcpServers: { [SERVER_NAME]: server } };
}

/** How to connect Inspector, VS Code and Claude Desktop to this server. */
function printClientConfigs(ctx: DemoContext): void {
  const { offline, tenant } = clientConfigs(ctx);
  say();
  say(bold('Connect your own MCP client to this server'));
  say(dim('  Offline, the emulator must be running while you do: keep this command running, or start it with npm run emulator.'));
  for (const [label, server] of [
    ['offline (the emulator and the Graph fake)', offline],
    ['with your tenant (no Graph bridge: real Microsoft Graph)', tenant],
  ] as const) {
    say();
    say(bold(`  ${label}`));
    say(`  ${dim('MCP Inspector:')}`);
    const envFlags = Object.entries(server.env).map(([name, value]) => `-e ${name}=${shellQuote(value)}`);
    say(`    ${INSPECTOR_COMMAND} ${envFlags.join(' ')} -- ${[server.command, ...server.args].map(shellQuote).join(' ')}`);
    say(`  ${dim('VS Code, .vscode/mcp.json:')}`);
    printJson(vscodeConfig(server));
    say(`  ${dim('Claude Desktop, claude_desktop_config.json (Settings → Developer → Edit Config):')}`);
    printJson(claudeDesktopConfig(server));
  }
}

function printJson(value: unknown): void {
  for (const line of JSON.stringify(value, null, 2).split('\n')) say(`    ${line}`);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function reason(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
