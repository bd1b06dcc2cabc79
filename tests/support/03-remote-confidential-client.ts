/**
 * Lesson 3's test helpers: an MCP client's side of OAuth (the SDK's OAuthClientProvider, kept in
 * memory), and a person's side of the browser (consent page, then the emulator's sign-in page).
 */
import { findUser } from '../../shared/emulator/directory.ts';
import { MemoryOAuthClient } from './memoryOAuthClient.ts';
import type { Browser, Form, Page, Stop } from './browser.ts';

/** Where test clients want their codes. Nobody listens there: the browser stops before following. */
export const CLIENT_REDIRECT_URI = 'http://localhost:8976/oauth/callback';

/** An MCP client's OAuth state, as a desktop app would keep it; it registers itself (DCR). */
export class TestOAuthClient extends MemoryOAuthClient {
  constructor(clientName = 'Workshop Test Client', redirectUrl: string = CLIENT_REDIRECT_URI) {
    super({ clientName, redirectUrl });
  }
}

/** The consent page's form and its two buttons, or undefined when the page has none. */
export function consentForm(page: Page): { form: Form; approve: Form['buttons'][number]; deny: Form['buttons'][number] } | undefined {
  for (const form of page.forms) {
    const approve = form.buttons.find((b) => b.name === 'decision' && b.value === 'approve');
    const deny = form.buttons.find((b) => b.name === 'decision' && b.value === 'deny');
    if (approve && deny) return { form, approve, deny };
  }
  return undefined;
}

/** The emulator's sign-in form, or undefined when this is not the emulator's sign-in page. */
export function entraSignInForm(page: Page): Form | undefined {
  return page.forms.find((form) => form.buttons.some((b) => b.name === 'user'));
}

/** Picks a test user on the emulator's sign-in page. */
export function pickUser(browser: Browser, form: Form, user: string, stopAt: (url: URL) => boolean): Promise<Stop> {
  const account = findUser(user);
  if (!account) throw new Error(`No test user "${user}".`);
  return browser.submit(form, { name: 'user', value: account.oid }, {}, { stopAt });
}

/** Visible text of a page, for messages. */
export function pageText(page: Page): string {
  return page.html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** One line about where a browser stopped, for messages. */
export function describeStop(stop: Stop): string {
  return stop.kind === 'redirect'
    ? `a redirect (${stop.status}) to ${stop.location.href}`
    : `a page at ${stop.page.url.href} (HTTP ${stop.page.status}): "${pageText(stop.page).slice(0, 160)}"`;
}
