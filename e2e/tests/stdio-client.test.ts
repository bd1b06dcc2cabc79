/**
 * Lesson 2's solution started by the MCP SDK's client from the Claude Desktop configuration that
 * `npm run lesson:2` prints (the VS Code entry runs the same command): from a folder of the client's
 * own, with the client's default environment plus the entry's `env`. No DISPLAY reaches it, so it
 * signs in with a device code, which a real Chromium enters on the emulator's page. Then a second
 * call and a call after a restart must not ask anyone to sign in.
 */
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { claudeDesktopConfig, clientConfigs, vscodeConfig, type StdioServerConfig } from '../../demos/02-stdio-public-client.ts';
import { findLesson, ROOT } from '../../shared/lab/lessons.ts';
import { GRAPH_BRIDGE, tsNodeArgs } from '../../shared/lab/processes.ts';
import { launchBrowser, Shots, type Browser } from '../support/browser.ts';
import { withTimeout } from '../support/flows.ts';
import { startLab, type Lab } from '../support/servers.ts';

const DEVICE_PROMPT = /open the page (\S+) and enter the code (\S+)/;

let lab: Lab;
let browser: Browser;
let entry: StdioServerConfig;

beforeAll(async () => {
  [lab, browser] = await Promise.all([startLab(), launchBrowser()]);
  // What `npm run solution:2` runs, and from it the configuration it prints.
  const config = loadConfig(lab.env as Record<string, string>);
  const main = path.join(findLesson('2').solutionDir, 'main.ts');
  const server = { command: process.execPath, args: tsNodeArgs(main, [GRAPH_BRIDGE]), cwd: ROOT, env: {} };
  const desktop = claudeDesktopConfig(clientConfigs({ server, config }).offline);
  entry = Object.values(desktop.mcpServers)[0]!;
});
afterAll(async () => {
  await Promise.all([browser?.close(), lab?.close()]);
});

/** Starts the server as a desktop client does: the entry's command, args and env, from another folder. */
async function connect(): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: entry.env, cwd: os.tmpdir(), stderr: 'pipe' });
  let log = '';
  transport.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const client = new Client({ name: 'e2e-desktop-client', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => log };
}

async function profile(client: Client): Promise<string> {
  const result = (await client.callTool({ name: 'get_my_profile', arguments: {} }, undefined, { timeout: 60_000 })) as CallToolResult;
  const text = result.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
  if (result.isError) throw new Error(`get_my_profile answered with an error: ${text}`);
  return text;
}

async function waitForPrompt(stderr: () => string): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = DEVICE_PROMPT.exec(stderr());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The server printed no device code within 30 s. Its log:\n${stderr()}`);
}

describe('lesson 2 over stdio, started from the Claude Desktop configuration', () => {
  test('the VS Code entry runs the same command with the same environment', () => {
    const vscode = vscodeConfig(entry) as { servers: Record<string, StdioServerConfig & { type: string }> };
    const [server] = Object.values(vscode.servers);
    expect(server).toEqual({ type: 'stdio', ...entry });
  });

  test('device code sign-in, then a silent second call, then a silent call after a restart', async () => {
    const { page } = browser;
    const shots = new Shots('stdio lesson 2 device code');
    const first = await connect();
    try {
      const call = profile(first.client);
      const [, verificationUri, userCode] = await waitForPrompt(first.stderr);
      await shots.step(page, 'device code page', async () => {
        await page.goto(verificationUri!);
        await page.getByRole('textbox', { name: /code/i }).fill(userCode!);
        await page.getByRole('button', { name: 'Next', exact: true }).click();
      });
      await shots.step(page, 'choose Ada', async () => {
        await page.getByRole('button', { name: /Ada Lovelace/ }).click();
        await page.getByText(/Ada Lovelace is signed in/).waitFor();
      });
      expect(await withTimeout(call, 30_000, 'the first get_my_profile after the sign-in')).toContain('Ada Lovelace');

      const before = first.stderr().length;
      expect(await profile(first.client)).toContain('Ada Lovelace');
      expect(first.stderr().slice(before), 'the second call must come from the token cache, with no new sign-in').not.toMatch(DEVICE_PROMPT);
    } finally {
      await first.client.close();
    }

    const second = await connect();
    try {
      expect(await profile(second.client)).toContain('Ada Lovelace');
      expect(second.stderr(), 'after a restart the token cache file must sign the user in silently').not.toMatch(DEVICE_PROMPT);
    } finally {
      await second.client.close();
    }
  });
});
