/**
 * The emulator's own pages in a real Chromium: the sign-in page and the device code page, with
 * JavaScript on and off, by mouse and by keyboard only. Each flow ends with a token that names the
 * user picked, so a page that looks right but signs in the wrong person fails.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPS } from '../../shared/emulator/directory.ts';
import { tenantEndpoints } from '../../shared/emulator/endpoints.ts';
import { launchBrowser, Shots, type Browser } from '../support/browser.ts';
import { catchRedirect, claims, pkce, tabTo } from '../support/flows.ts';
import { freePort, startLab, type Lab } from '../support/servers.ts';

const client = APPS.publicClient.clientId;
let lab: Lab;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

function endpoint(name: 'authorize' | 'token' | 'deviceCode'): string {
  return tenantEndpoints(lab.emulatorUrl)[name];
}

async function redeemCode(code: string, verifier: string, redirectUri: string): Promise<Record<string, unknown>> {
  const response = await fetch(endpoint('token'), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: client, code, code_verifier: verifier, redirect_uri: redirectUri, scope: 'User.Read openid profile' }),
  });
  const body = (await response.json()) as { id_token?: string; error_description?: string };
  if (!body.id_token) throw new Error(`The code from the sign-in page was not redeemed: ${body.error_description}`);
  return claims(body.id_token);
}

describe.each([
  { js: true, mode: 'query' },
  { js: false, mode: 'query' },
  { js: true, mode: 'form_post' },
  { js: false, mode: 'form_post' },
])('sign-in page (JavaScript $js, response_mode $mode)', ({ js, mode }) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ javaScriptEnabled: js });
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const input of ['mouse', 'keyboard'] as const) {
    test(`signs in the user picked with the ${input}`, async () => {
      const { page } = browser;
      const shots = new Shots(`sign-in js-${js ? 'on' : 'off'} ${mode} ${input}`);
      const redirectUri = `http://localhost:${await freePort()}`; // registered as http://localhost, any port
      const { verifier, challenge } = pkce();
      const back = await catchRedirect(page, new URL(redirectUri).origin);
      const authorize = new URL(endpoint('authorize'));
      authorize.search = new URLSearchParams({
        client_id: client,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'User.Read openid profile',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'e2e-state',
        response_mode: mode,
      }).toString();

      await shots.step(page, 'sign-in page', async () => {
        await page.goto(authorize.href);
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      });
      await shots.step(page, 'pick Grace', async () => {
        if (input === 'mouse') {
          await page.getByRole('button', { name: /Grace Hopper/ }).click();
        } else {
          await tabTo(page, /Grace Hopper/);
          await page.keyboard.press('Enter');
        }
        // Without JavaScript the form_post page waits for a press of its button, as in a real browser.
        if (mode === 'form_post' && !js) {
          const proceed = page.getByRole('button', { name: 'Continue to the app' });
          await proceed.waitFor();
          if (input === 'mouse') await proceed.click();
          else {
            await tabTo(page, /Continue to the app/);
            await page.keyboard.press('Enter');
          }
        }
      });
      const params = await back();
      expect(params.get('state'), 'the sign-in page must hand back the client\'s state').toBe('e2e-state');
      const code = params.get('code');
      expect(code, `the client got no code (error: ${params.get('error_description')}); screenshots in e2e/report`).toBeTruthy();
      const idToken = await redeemCode(code!, verifier, redirectUri);
      expect(idToken.preferred_username, 'the token must name the user picked on the page').toBe('grace@contoso.test');
    });
  }
});

describe.each([{ js: true }, { js: false }])('device code page (JavaScript $js)', ({ js }) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ javaScriptEnabled: js });
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function deviceCode(): Promise<{ user_code: string; device_code: string; verification_uri: string }> {
    const response = await fetch(endpoint('deviceCode'), { method: 'POST', body: new URLSearchParams({ client_id: client, scope: 'User.Read openid profile' }) });
    return (await response.json()) as { user_code: string; device_code: string; verification_uri: string };
  }

  async function tokenFor(device: string): Promise<Record<string, unknown>> {
    const response = await fetch(endpoint('token'), {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: client, device_code: device }),
    });
    const body = (await response.json()) as { id_token?: string; error?: string };
    if (!body.id_token) throw new Error(`No token after the device code sign-in: ${body.error}`);
    return claims(body.id_token);
  }

  test('the code field has a visible label', async () => {
    const { page } = browser;
    const shots = new Shots(`device-code js-${js ? 'on' : 'off'} label`);
    const { verification_uri } = await deviceCode();
    await shots.step(page, 'device code page', async () => {
      await page.goto(verification_uri);
      const field = page.getByRole('textbox', { name: /code/i });
      await field.waitFor();
      const id = await field.getAttribute('id');
      const label = id ? page.locator(`label[for="${id}"]`) : page.locator('label').filter({ has: field });
      if (!(await label.first().isVisible())) throw new Error('the code field has no visible <label> (an aria-label is read out but not seen)');
    });
  });

  test('keyboard only: type the code, press Enter (nobody is signed in), choose an account', async () => {
    const { page } = browser;
    const shots = new Shots(`device-code js-${js ? 'on' : 'off'} keyboard`);
    const { user_code, device_code, verification_uri } = await deviceCode();
    await shots.step(page, 'device code page', async () => {
      await page.goto(verification_uri);
      await page.getByRole('textbox', { name: /code/i }).waitFor();
    });
    await shots.step(page, 'type the code and press Enter', async () => {
      // The field has focus when the page opens, so a keyboard user just types.
      await page.keyboard.type(user_code);
      await page.keyboard.press('Enter');
      await page.waitForLoadState();
      const text = await page.locator('body').innerText();
      if (/is signed in/i.test(text)) throw new Error(`Enter in the code field signed someone in without a choice: "${text.replace(/\s+/g, ' ').slice(0, 160)}"`);
      await page.getByText(/Choose the account to sign in with/).waitFor();
    });
    await shots.step(page, 'choose Grace with the keyboard', async () => {
      await tabTo(page, /Grace Hopper/);
      await page.keyboard.press('Enter');
      await page.getByText(/Grace Hopper is signed in/).waitFor();
    });
    expect((await tokenFor(device_code)).preferred_username).toBe('grace@contoso.test');
  });

  test('mouse: enter the code, Next, choose an account', async () => {
    const { page } = browser;
    const shots = new Shots(`device-code js-${js ? 'on' : 'off'} mouse`);
    const { user_code, device_code, verification_uri } = await deviceCode();
    await shots.step(page, 'device code page', async () => {
      await page.goto(verification_uri);
      await page.getByRole('textbox', { name: /code/i }).fill(user_code);
      await page.getByRole('button', { name: 'Next', exact: true }).click();
    });
    await shots.step(page, 'choose Ada', async () => {
      await page.getByRole('button', { name: /Ada Lovelace/ }).click();
      await page.getByText(/Ada Lovelace is signed in/).waitFor();
    });
    expect((await tokenFor(device_code)).preferred_username).toBe('ada@contoso.test');
  });
});
