/**
 * MCP Inspector 2.x (the version pinned in e2e/package.json), started as a learner starts it
 * (`npx @modelcontextprotocol/inspector`, the web UI), but on free ports, with a scratch home
 * folder (its server catalog and OAuth state start empty) and without opening a browser of its own.
 * The page helpers click what the lesson READMEs tell a learner to click, by the names on screen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { stopChild } from '../../shared/lab/processes.ts';
import { withTimeout } from './flows.ts';
import { freePort } from './servers.ts';

const LAUNCHER = path.resolve(import.meta.dirname, '..', 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');

export interface Inspector {
  /** The page to open, at `host` (localhost or 127.0.0.1), with the per-launch token. */
  url(host: string): string;
  output(): string;
  stop(): Promise<void>;
}

export async function startInspector(): Promise<Inspector> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'e2e-inspector-'));
  const port = await freePort();
  const token = randomBytes(32).toString('hex');
  const child: ChildProcess = spawn(process.execPath, [LAUNCHER, '--web'], {
    env: {
      ...process.env,
      HOME: home,
      USERPROFILE: home,
      CLIENT_PORT: String(port),
      MCP_SANDBOX_PORT: String(await freePort()),
      MCP_AUTO_OPEN_ENABLED: 'false',
      MCP_INSPECTOR_API_TOKEN: token,
      // Tokens stay in this process: no keychain prompt, nothing written to disk.
      MCP_INSPECTOR_SECRET_STORE: 'memory',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const up = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Auth token:')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`Inspector exited (${code}) before it was up:\n${output}`)));
  });
  await withTimeout(up, 30_000, `MCP Inspector to start:\n${output}`);
  return {
    url: (host) => `http://${host}:${port}/?MCP_INSPECTOR_API_TOKEN=${token}`,
    output: () => output,
    async stop() {
      await stopChild(child);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The card of one server in the Servers list. */
export function serverCard(page: Page, name: string): Locator {
  return switchOf(page, name).locator('xpath=ancestor::*[.//button[normalize-space()="Settings"]][1]');
}

function switchOf(page: Page, name: string): Locator {
  return page.getByRole('switch', { name: `Connect or disconnect "${name}"` });
}

/** Add Servers → + Add manually → Server ID, Transport streamable-http, URL → Add. */
export async function addHttpServer(page: Page, name: string, url: string): Promise<void> {
  await page.getByRole('button', { name: 'Add Servers' }).click();
  await page.getByRole('menuitem', { name: '+ Add manually' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add server' });
  await dialog.getByRole('textbox', { name: 'Server ID' }).fill(name);
  await dialog.getByRole('textbox', { name: 'Transport' }).click();
  await page.getByRole('option', { name: 'streamable-http' }).click();
  await dialog.getByRole('textbox', { name: 'URL' }).fill(url);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await switchOf(page, name).waitFor();
}

/** Settings → OAuth Settings of one server: returns that region; Close with closeSettings(). */
export async function openOAuthSettings(page: Page, name: string): Promise<Locator> {
  await serverCard(page, name).getByRole('button', { name: 'Settings', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Server Settings' });
  await dialog.getByRole('button', { name: 'OAuth Settings' }).click();
  return dialog.getByRole('region', { name: 'OAuth Settings' });
}

export async function closeSettings(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Server Settings' });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Flips the server's switch on (the switch's own input is covered by its track, so by keyboard). */
export async function toggleConnection(page: Page, name: string): Promise<void> {
  const toggle = switchOf(page, name);
  await toggle.focus();
  await page.keyboard.press('Space');
}

export async function waitForStatus(page: Page, name: string, status: 'Connected' | 'Disconnected'): Promise<void> {
  await serverCard(page, name).getByText(status, { exact: true }).waitFor();
}

/**
 * Tools tab → pick the tool → fill its fields → Execute Tool → waits until the Results panel shows
 * `expected` (a tool error shows there too, as an alert). Returns the panel's text.
 */
export async function callTool(page: Page, tool: string, args: Record<string, string>, expected: RegExp): Promise<string> {
  await page.locator('label').filter({ hasText: /^Tools$/ }).click();
  await page.getByRole('button', { name: new RegExp(`${tool}$`) }).click();
  for (const [field, value] of Object.entries(args)) await page.getByRole('textbox', { name: field, exact: true }).fill(value);
  await page.getByRole('button', { name: 'Execute Tool' }).click();
  const results = page.getByRole('heading', { name: 'Results' }).locator('xpath=ancestor::*[contains(@class, "mantine-Card-root")][1]');
  const text = async () => ((await results.innerText().catch(() => '')) || '').replace(/\s+/g, ' ').trim();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const shown = await text();
    if (expected.test(shown)) return shown;
    await page.waitForTimeout(250);
  }
  throw new Error(`${tool}: the Results panel never showed ${expected}; it shows "${(await text()).slice(0, 300)}"`);
}

/** Back to the server list (the Servers tab exists only while connected). */
export async function showServers(page: Page): Promise<void> {
  const tab = page.locator('label').filter({ hasText: /^Servers$/ });
  if ((await tab.count()) > 0) await tab.click();
}
