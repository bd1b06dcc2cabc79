/**
 * A headless "browser" for tests: it follows redirects, keeps cookies, reads the forms on our
 * plain-HTML pages and submits them, exactly as a person clicking through would. It goes through
 * the global fetch, so msw answers the emulator and loopback servers pass through.
 */
import { findUser } from '../../shared/emulator/directory.ts';

export interface Form {
  action: URL;
  method: string;
  /** Hidden and text inputs with their values. */
  fields: Record<string, string>;
  /** Submit buttons as name=value pairs, with their visible text. */
  buttons: Array<{ name: string; value: string; text: string }>;
}

export interface Page {
  url: URL;
  status: number;
  html: string;
  forms: Form[];
  headers: Headers;
}

/** Where a navigation stopped: at a page, or at a redirect into an app's redirect URI. */
export type Stop = { kind: 'page'; page: Page } | { kind: 'redirect'; location: URL; status: number };

export interface NavigateOptions {
  /** Stop before following a redirect to a URL for which this returns true (an app's redirect URI nobody serves). */
  stopAt?: (url: URL) => boolean;
}

export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  async open(url: string | URL, options: NavigateOptions = {}): Promise<Stop> {
    return this.navigate(new URL(url), { method: 'GET' }, options);
  }

  /** Submits a form, pressing the button `name=value` (if given) and overriding fields with `fields`. */
  async submit(form: Form, button?: { name: string; value: string }, fields: Record<string, string> = {}, options: NavigateOptions = {}): Promise<Stop> {
    const body = new URLSearchParams({ ...form.fields, ...fields });
    if (button) body.set(button.name, button.value);
    if (form.method === 'get') {
      const target = new URL(form.action);
      for (const [name, value] of body) target.searchParams.set(name, value);
      return this.navigate(target, { method: 'GET' }, options);
    }
    return this.navigate(form.action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, options);
  }

  private async navigate(url: URL, init: RequestInit, options: NavigateOptions): Promise<Stop> {
    let current = url;
    let request = init;
    for (let hops = 0; hops < 20; hops++) {
      const response = await fetch(current, {
        ...request,
        redirect: 'manual',
        headers: { ...(request.headers as Record<string, string>), cookie: this.cookieHeader(current) },
      });
      this.storeCookies(current, response.headers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, current);
        await response.body?.cancel();
        if (options.stopAt?.(next) || next.hash) return { kind: 'redirect', location: next, status: response.status };
        current = next;
        request = { method: 'GET' };
        continue;
      }
      const html = await response.text();
      return { kind: 'page', page: { url: current, status: response.status, html, forms: parseForms(html, current), headers: response.headers } };
    }
    throw new Error(`Too many redirects starting at ${url.href}.`);
  }

  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map())].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private storeCookies(url: URL, headers: Headers): void {
    for (const cookie of headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair.indexOf('=');
      const cookies = this.jar.get(url.host) ?? new Map<string, string>();
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(cookie) || value === '') cookies.delete(pair.slice(0, eq).trim());
      else cookies.set(pair.slice(0, eq).trim(), value);
      this.jar.set(url.host, cookies);
    }
  }
}

export function parseForms(html: string, base: URL): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = match[1];
    const inner = match[2];
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const name = attr(input[1], 'name');
      if (name) fields[name] = attr(input[1], 'value') ?? '';
    }
    const buttons = [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((b) => ({
      name: attr(b[1], 'name') ?? '',
      value: attr(b[1], 'value') ?? '',
      text: b[2].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim(),
    }));
    forms.push({
      action: new URL(decodeEntities(attr(attrs, 'action') ?? base.href), base),
      method: (attr(attrs, 'method') ?? 'get').toLowerCase(),
      fields,
      buttons,
    });
  }
  return forms;
}

function attr(attrs: string, name: string): string | undefined {
  const value = attrs.match(new RegExp(`\\b${name}="([^"]*)"`, 'i'))?.[1];
  return value === undefined ? undefined : decodeEntities(value);
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e as string]!);
}

export interface SignInOptions {
  /** Stop at redirects into this URI (e.g. an SDK client's redirect URI that nobody listens on). */
  redirectUri?: string | URL;
  /** Press Cancel instead of picking the user. */
  cancel?: boolean;
  /** For `response_mode=form_post`: post the result to the app, as the browser would (default true). */
  deliverFormPost?: boolean;
  browser?: Browser;
}

export interface SignInResult {
  /** Query (or fragment) parameters the app received: code, state, or error. */
  params: URLSearchParams;
  /** Where the result went. */
  url: URL;
  /** The app's answer, when the result was posted or followed to a live page. */
  page?: Page;
}

/**
 * Signs `user` (name, UPN or oid of a test user) in at the emulator, starting from an authorize URL
 * (or any URL that redirects there), and returns what the app received.
 */
export async function signIn(startUrl: string | URL, user: string, options: SignInOptions = {}): Promise<SignInResult> {
  const browser = options.browser ?? new Browser();
  const redirectUri = options.redirectUri ? new URL(options.redirectUri) : undefined;
  const stopAt = (url: URL) => !!redirectUri && url.origin === redirectUri.origin && url.pathname === redirectUri.pathname;
  let stop = await browser.open(startUrl, { stopAt });
  if (stop.kind === 'page') {
    const form = stop.page.forms.find((f) => f.buttons.some((b) => b.name === 'user'));
    if (!form) {
      throw new Error(`Expected the emulator's sign-in page at ${stop.page.url.href}, got HTTP ${stop.page.status}: ${textOf(stop.page.html)}`);
    }
    const account = findUser(user);
    if (!account) throw new Error(`No test user "${user}".`);
    const button = options.cancel ? { name: 'action', value: 'cancel' } : { name: 'user', value: account.oid };
    stop = await browser.submit(form, button, {}, { stopAt });
  }
  if (stop.kind === 'redirect') {
    const params = stop.location.hash ? new URLSearchParams(stop.location.hash.slice(1)) : stop.location.searchParams;
    return { params, url: stop.location };
  }
  // form_post: the page carries the result to the app.
  const result = stop.page.forms.find((f) => 'code' in f.fields || 'error' in f.fields);
  if (!result) return { params: new URL(stop.page.url).searchParams, url: stop.page.url, page: stop.page };
  const params = new URLSearchParams(result.fields);
  if (options.deliverFormPost === false) return { params, url: result.action };
  const delivered = await browser.submit(result, undefined, {}, { stopAt });
  return { params, url: result.action, page: delivered.kind === 'page' ? delivered.page : undefined };
}

/** Approves (or declines) a device code on the emulator's device login page. */
export async function approveDeviceCode(verificationUri: string, userCode: string, user: string, decline = false): Promise<Page> {
  const browser = new Browser();
  const stop = await browser.open(verificationUri);
  if (stop.kind !== 'page' || !stop.page.forms[0]) throw new Error(`Expected the device login page at ${verificationUri}.`);
  const account = findUser(user);
  if (!account) throw new Error(`No test user "${user}".`);
  const button = decline ? { name: 'action', value: 'decline' } : { name: 'user', value: account.oid };
  const result = await browser.submit(stop.page.forms[0], button, { user_code: userCode });
  if (result.kind !== 'page') throw new Error('The device login page redirected unexpectedly.');
  return result.page;
}

function textOf(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}
