/**
 * MCP Inspector 2.x against the reference solutions of lessons 1, 3, 4 and 6, following the lesson
 * READMEs step by step, with Inspector's page opened at `localhost` and at `127.0.0.1` (Inspector
 * 2.x itself prints and opens 127.0.0.1). As a learner does, one server entry ("workshop") serves
 * every lesson on the same URL, and one lesson's server replaces the previous one on the same port.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPS } from '../../shared/emulator/directory.ts';
import { INSPECTOR_VERSION, ROOT } from '../../shared/lab/lessons.ts';
import { launchBrowser, Shots, type Browser } from '../support/browser.ts';
import {
  addHttpServer,
  callTool,
  closeSettings,
  openOAuthSettings,
  showServers,
  startInspector,
  toggleConnection,
  waitForStatus,
  type Inspector,
} from '../support/inspector.ts';
import { freePort, startLab, startSolution, type Lab, type LessonServer } from '../support/servers.ts';

const ENTRY = 'workshop';

test('the READMEs and the lab tell learners to run the Inspector version this suite drives', () => {
  const installed = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'node_modules', '@modelcontextprotocol', 'inspector', 'package.json'), 'utf8')) as { version: string };
  expect(installed.version, 'e2e/package.json and INSPECTOR_VERSION (shared/lab/lessons.ts) must name the same Inspector').toBe(INSPECTOR_VERSION);
  const readmes = ['README.md', ...readdirSync(path.join(ROOT, 'lessons')).map((folder) => path.join('lessons', folder, 'README.md'))];
  for (const readme of readmes) {
    const commands = readFileSync(path.join(ROOT, readme), 'utf8').match(/^npx @modelcontextprotocol\/inspector\S*/gm) ?? [];
    for (const command of commands) expect(command, `${readme} starts a different Inspector than the one tested`).toBe(`npx @modelcontextprotocol/inspector@${INSPECTOR_VERSION}`);
  }
});

describe.each(['localhost', '127.0.0.1'])('MCP Inspector opened at http://%s', (host) => {
  let lab: Lab;
  let inspector: Inspector;
  let browser: Browser;
  let port: number;
  let server: LessonServer | undefined;

  beforeAll(async () => {
    [lab, inspector, browser, port] = await Promise.all([startLab(), startInspector(), launchBrowser(), freePort()]);
    await browser.page.goto(inspector.url(host));
  });
  afterAll(async () => {
    await server?.stop();
    await Promise.all([browser?.close(), inspector?.stop(), lab?.close()]);
  });

  /** Stops the previous lesson's server and starts lesson N's solution on the same port. */
  async function serve(lesson: number): Promise<URL> {
    await server?.stop();
    server = await startSolution(lab, lesson, port);
    return server.mcpUrl;
  }

  /** Disconnects the entry (when connected), so the next lesson starts from the server list. */
  async function disconnect(shots: Shots): Promise<void> {
    const { page } = browser;
    await shots.step(page, 'disconnect', async () => {
      await showServers(page);
      await toggleConnection(page, ENTRY);
      await waitForStatus(page, ENTRY, 'Disconnected');
    });
  }

  test('lesson 1: add the server, connect, call send_email with a bad address', async () => {
    const { page } = browser;
    const shots = new Shots(`inspector ${host} lesson 1`);
    const mcpUrl = await serve(1);
    await shots.step(page, 'add the server', () => addHttpServer(page, ENTRY, mcpUrl.href));
    await shots.step(page, 'connect', async () => {
      await toggleConnection(page, ENTRY);
      await waitForStatus(page, ENTRY, 'Connected');
    });
    const result = await shots.step(page, 'call send_email', () =>
      callTool(page, 'send_email', { to: 'not-an-address', subject: 'Hello', body: 'Hi' }, /Tool Error/),
    );
    expect(result).toMatch(/email/i);
    await disconnect(shots);
  });

  test('lesson 3: connect, allow on the consent page, sign in as Ada, call get_my_profile', async () => {
    const { page } = browser;
    const shots = new Shots(`inspector ${host} lesson 3`);
    await serve(3);
    await shots.step(page, 'connect: the consent page opens', async () => {
      await showServers(page);
      await toggleConnection(page, ENTRY);
      await page.getByRole('button', { name: 'Allow and sign in' }).waitFor();
    });
    await shots.step(page, 'allow: the sign-in page opens', async () => {
      await page.getByRole('button', { name: 'Allow and sign in' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
    await shots.step(page, 'pick Ada: back in Inspector, connected', async () => {
      await page.getByRole('button', { name: /Ada Lovelace/ }).click();
      await waitForStatus(page, ENTRY, 'Connected');
    });
    const result = await shots.step(page, 'call get_my_profile', () => callTool(page, 'get_my_profile', {}, /Ada Lovelace|Error/));
    expect(result).toContain('Ada Lovelace');
    await disconnect(shots);
  });

  test('lesson 4: clear the OAuth state, set client ID and scopes, sign in as Grace, call whoami', async () => {
    const { page } = browser;
    const shots = new Shots(`inspector ${host} lesson 4`);
    const mcpUrl = await serve(4);
    await shots.step(page, 'server settings: clear OAuth state, client ID, scopes', async () => {
      await showServers(page);
      const oauth = await openOAuthSettings(page, ENTRY);
      await oauth.getByRole('button', { name: 'Clear stored OAuth state' }).click();
      await oauth.getByRole('textbox', { name: 'Client ID' }).fill(APPS.mcpClient.clientId);
      await oauth.getByRole('textbox', { name: 'Scopes' }).fill(`${mcpUrl.href}/tools.read ${mcpUrl.href}/mail.send`);
      await closeSettings(page);
    });
    await shots.step(page, 'connect: the emulator\'s sign-in page opens', async () => {
      await toggleConnection(page, ENTRY);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
    await shots.step(page, 'pick Grace: back in Inspector, connected', async () => {
      await page.getByRole('button', { name: /Grace Hopper/ }).click();
      await waitForStatus(page, ENTRY, 'Connected');
    });
    const result = await shots.step(page, 'call whoami', () => callTool(page, 'whoami', {}, /Grace Hopper|Error/));
    expect(result).toContain('Grace Hopper');
    expect(result).toContain(APPS.mcpClient.clientId);
    await disconnect(shots);
  });

  test('lesson 6 (SDK v2): the same settings as lesson 4, sign in as Ada, call whoami', async () => {
    const { page } = browser;
    const shots = new Shots(`inspector ${host} lesson 6`);
    const mcpUrl = await serve(6);
    await shots.step(page, 'server settings: clear OAuth state, client ID, scopes', async () => {
      await showServers(page);
      const oauth = await openOAuthSettings(page, ENTRY);
      await oauth.getByRole('button', { name: 'Clear stored OAuth state' }).click();
      await oauth.getByRole('textbox', { name: 'Client ID' }).fill(APPS.mcpClient.clientId);
      await oauth.getByRole('textbox', { name: 'Scopes' }).fill(`${mcpUrl.href}/tools.read ${mcpUrl.href}/mail.send`);
      await closeSettings(page);
    });
    await shots.step(page, 'connect: the emulator\'s sign-in page opens', async () => {
      await toggleConnection(page, ENTRY);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
    await shots.step(page, 'pick Ada: back in Inspector, connected', async () => {
      await page.getByRole('button', { name: /Ada Lovelace/ }).click();
      await waitForStatus(page, ENTRY, 'Connected');
    });
    const result = await shots.step(page, 'call whoami', () => callTool(page, 'whoami', {}, /Ada Lovelace|Error/));
    expect(result).toContain('Ada Lovelace');
    expect(result).toContain(APPS.mcpClient.clientId);
  });

  test('back to lesson 3: clear the OAuth state, empty client ID and scopes, the consent page opens again', async () => {
    const { page } = browser;
    const shots = new Shots(`inspector ${host} lesson 4 to 3`);
    // Lesson 6 ran last, with lesson 4's OAuth settings: the same switch back to lesson 3.
    await shots.step(page, 'disconnect from lesson 6', async () => {
      await showServers(page);
      await toggleConnection(page, ENTRY);
      await waitForStatus(page, ENTRY, 'Disconnected');
    });
    await serve(3);
    await shots.step(page, 'server settings: clear OAuth state, empty client ID and scopes', async () => {
      const oauth = await openOAuthSettings(page, ENTRY);
      await oauth.getByRole('button', { name: 'Clear stored OAuth state' }).click();
      await oauth.getByRole('textbox', { name: 'Client ID' }).fill('');
      await oauth.getByRole('textbox', { name: 'Scopes' }).fill('');
      await closeSettings(page);
    });
    await shots.step(page, 'connect: lesson 3\'s consent page opens', async () => {
      await toggleConnection(page, ENTRY);
      await page.getByRole('button', { name: 'Allow and sign in' }).waitFor();
    });
    await shots.step(page, 'allow and pick Grace: back in Inspector, connected', async () => {
      await page.getByRole('button', { name: 'Allow and sign in' }).click();
      await page.getByRole('button', { name: /Grace Hopper/ }).click();
      await waitForStatus(page, ENTRY, 'Connected');
    });
    const result = await shots.step(page, 'call get_my_profile', () => callTool(page, 'get_my_profile', {}, /Grace Hopper|Error/));
    expect(result).toContain('Grace Hopper');
  });
});
