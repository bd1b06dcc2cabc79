/**
 * Lesson 3's consent page in a real Chromium, with JavaScript on and off, by mouse and by keyboard
 * only: a client registered by dynamic client registration asks to sign in; allowing leads through
 * the emulator's sign-in page back to the client with a code that redeems for a token; denying
 * sends the client `access_denied`. A real browser sends `Origin` (and Sec-Fetch-*) on the form
 * POST, so this proves the page passes its own CSRF check.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, Shots, type Browser } from '../support/browser.ts';
import { catchRedirect, pkce, tabTo } from '../support/flows.ts';
import { freePort, startLab, startSolution, type Lab, type LessonServer } from '../support/servers.ts';

let lab: Lab;
let server: LessonServer;

beforeAll(async () => {
  lab = await startLab();
  server = await startSolution(lab, 3, await freePort());
});
afterAll(async () => {
  await server?.stop();
  await lab?.close();
});

/** Registers a client the way an MCP client does (RFC 7591) and builds its authorization request. */
async function newClient(): Promise<{ authorizeUrl: string; redirectUri: string; clientId: string; verifier: string }> {
  const redirectUri = `http://localhost:${await freePort()}/callback`;
  const response = await fetch(new URL('/register', server.mcpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'E2E desktop client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id: clientId } = (await response.json()) as { client_id: string };
  const { verifier, challenge } = pkce();
  const authorize = new URL('/authorize', server.mcpUrl);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'e2e-state',
    scope: 'profile.read',
    resource: server.mcpUrl.href,
  }).toString();
  return { authorizeUrl: authorize.href, redirectUri, clientId, verifier };
}

/** Presses a button by mouse, or reaches it with Tab and presses Enter. */
async function press(browser: Browser, name: RegExp, input: 'mouse' | 'keyboard'): Promise<void> {
  const { page } = browser;
  if (input === 'mouse') await page.getByRole('button', { name }).click();
  else {
    await tabTo(page, name);
    await page.keyboard.press('Enter');
  }
}

describe.each([{ js: true }, { js: false }])('lesson 3 consent page (JavaScript $js)', ({ js }) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ javaScriptEnabled: js });
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const input of ['mouse', 'keyboard'] as const) {
    test(`allow (${input}): sign in as Ada, the client gets a code that redeems for a token`, async () => {
      const { page } = browser;
      const shots = new Shots(`consent js-${js ? 'on' : 'off'} allow ${input}`);
      const client = await newClient();
      const back = await catchRedirect(page, new URL(client.redirectUri).origin);
      await shots.step(page, 'consent page', async () => {
        await page.goto(client.authorizeUrl);
        await page.getByRole('button', { name: 'Allow and sign in' }).waitFor();
      });
      await shots.step(page, 'allow: the emulator\'s sign-in page', async () => {
        await press(browser, /Allow and sign in/, input);
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      });
      await shots.step(page, 'pick Ada: back at the client', async () => {
        await press(browser, /Ada Lovelace/, input);
        await page.getByRole('heading', { name: 'Back at the client' }).waitFor();
      });
      const params = await back();
      expect(params.get('state')).toBe('e2e-state');
      const code = params.get('code');
      expect(code, `no code came back (error: ${params.get('error')} ${params.get('error_description')})`).toBeTruthy();
      const token = await fetch(new URL('/token', server.mcpUrl), {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          code_verifier: client.verifier,
          client_id: client.clientId,
          redirect_uri: client.redirectUri,
          resource: server.mcpUrl.href,
        }),
      });
      const body = (await token.json()) as { access_token?: string; error_description?: string };
      expect(body.access_token, `the code did not redeem: ${body.error_description}`).toBeTruthy();
    });
  }

  test('deny (keyboard): the client gets access_denied, and nobody is asked to sign in', async () => {
    const { page } = browser;
    const shots = new Shots(`consent js-${js ? 'on' : 'off'} deny keyboard`);
    const client = await newClient();
    const back = await catchRedirect(page, new URL(client.redirectUri).origin);
    await shots.step(page, 'consent page', async () => {
      await page.goto(client.authorizeUrl);
      await page.getByRole('button', { name: 'Deny' }).waitFor();
    });
    await shots.step(page, 'deny: back at the client', async () => {
      await press(browser, /^Deny$/, 'keyboard');
      await page.getByRole('heading', { name: 'Back at the client' }).waitFor();
    });
    const params = await back();
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('e2e-state');
  });
});
