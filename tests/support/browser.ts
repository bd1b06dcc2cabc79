/**
 * A headless "browser" for tests: it follows redirects, keeps cookies, reads the forms on our
 * plain-HTML pages and submits them, as a person clicking through would. It goes through the global
 * fetch, so msw answers the emulator and loopback servers pass through.
 *
 * Where the flows depend on it, it sends what a real browser sends on a navigation, so a page that
 * fails in Chromium fails here too:
 * - `Origin` on every form POST, `null` when the form's page forbids referrers (`Referrer-Policy:
 *   no-referrer`), as the Fetch standard says (https://fetch.spec.whatwg.org/#append-a-request-origin-header);
 * - `Referer` as the page's Referrer-Policy allows (default `strict-origin-when-cross-origin`);
 * - `Sec-Fetch-Site`, `Sec-Fetch-Mode`, `Sec-Fetch-Dest` and `Sec-Fetch-User` (https://w3c.github.io/webappsec-fetch-metadata/);
 * - cookies per host (not per port, as browsers do), holding back `SameSite=Lax` (the default) and
 *   `Strict` cookies on cross-site POSTs, and `Strict` ones on any cross-site request (RFC 6265bis §5.2);
 * - a form that submits itself from a script (`response_mode=form_post`), unless scripts are off or
 *   the page's Content-Security-Policy forbids inline scripts.
 */
import { findUser } from '../../shared/emulator/directory.ts';

export interface Form {
  action: URL;
  method: string;
  id?: string;
  /** Hidden and text inputs with their values (checked ones only, for radio buttons and checkboxes). */
  fields: Record<string, string>;
  /** Submit buttons as name=value pairs, with their visible text. */
  buttons: Array<{ name: string; value: string; text: string }>;
  /** The page the form is on, and that page's Referrer-Policy: they decide `Origin` and `Referer`. */
  page: { url: URL; referrerPolicy: string };
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

export interface SubmitOptions extends NavigateOptions {
  /**
   * Post the form from another page than the one it came from, e.g. `https://attacker.example/` for a
   * cross-site request forgery: `Origin`, `Sec-Fetch-Site` and SameSite cookies then follow that page.
   * `null` posts it from an opaque origin (a sandboxed frame), which browsers send as `Origin: null`.
   */
  from?: string | URL | null;
}

export interface BrowserOptions {
  /** Run the one kind of script our pages have: a form that submits itself. Default true. */
  javascript?: boolean;
}

/** A request as the browser sent it, for tests to check headers. */
export interface SentRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: URLSearchParams;
  /** True for a form a script submitted (no user activation). */
  scripted: boolean;
}

type SameSite = 'strict' | 'lax' | 'none';

/** The document a navigation starts from; undefined when the user typed the URL. */
interface Initiator {
  /** Its origin, or 'null' for an opaque one. */
  origin: string;
  url?: URL;
  referrerPolicy: string;
}

const DEFAULT_REFERRER_POLICY = 'strict-origin-when-cross-origin';
const REFERRER_POLICIES = new Set(['no-referrer', 'no-referrer-when-downgrade', 'same-origin', 'origin', 'strict-origin', 'origin-when-cross-origin', 'strict-origin-when-cross-origin', 'unsafe-url']);

export class Browser {
  /** Cookies by host name: browsers do not separate cookies by port (RFC 6265 §8.5). */
  private readonly jar = new Map<string, Map<string, { value: string; sameSite: SameSite }>>();
  private readonly javascript: boolean;
  /** Every request this browser sent, in order. */
  readonly requests: SentRequest[] = [];

  constructor(options: BrowserOptions = {}) {
    this.javascript = options.javascript ?? true;
  }

  /** Types `url` into the address bar. */
  async open(url: string | URL, options: NavigateOptions = {}): Promise<Stop> {
    return this.navigate(new URL(url), { method: 'GET' }, undefined, true, options);
  }

  /** Submits a form, pressing the button `name=value` (if given) and overriding fields with `fields`. */
  async submit(form: Form, button?: { name: string; value: string }, fields: Record<string, string> = {}, options: SubmitOptions = {}): Promise<Stop> {
    return this.send(form, button, fields, options, true);
  }

  /** The cookies this browser holds for a host, by name. */
  cookies(host: string): Record<string, string> {
    return Object.fromEntries([...(this.jar.get(host) ?? new Map())].map(([name, cookie]) => [name, cookie.value]));
  }

  private send(form: Form, button: { name: string; value: string } | undefined, fields: Record<string, string>, options: SubmitOptions, user: boolean): Promise<Stop> {
    const body = new URLSearchParams({ ...form.fields, ...fields });
    if (button) body.set(button.name, button.value);
    const from = options.from === undefined ? form.page.url : options.from === null ? null : new URL(options.from);
    const initiator: Initiator = from
      ? { origin: from.origin, url: from, referrerPolicy: options.from === undefined ? form.page.referrerPolicy : DEFAULT_REFERRER_POLICY }
      : { origin: 'null', referrerPolicy: 'no-referrer' };
    if (form.method === 'get') {
      const target = new URL(form.action);
      target.search = body.toString();
      return this.navigate(target, { method: 'GET' }, initiator, user, options);
    }
    return this.navigate(form.action, { method: 'POST', body }, initiator, user, options);
  }

  private async navigate(url: URL, init: { method: string; body?: URLSearchParams }, initiator: Initiator | undefined, user: boolean, options: NavigateOptions): Promise<Stop> {
    let current = url;
    let request = init;
    let referrerPolicy = initiator?.referrerPolicy ?? DEFAULT_REFERRER_POLICY;
    const chain: URL[] = [];
    for (let hops = 0; hops < 20; hops++) {
      chain.push(current);
      const headers: Record<string, string> = {
        'sec-fetch-dest': 'document',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-site': fetchSite(initiator, chain),
        ...(user ? { 'sec-fetch-user': '?1' } : {}),
      };
      if (request.body) headers['content-type'] = 'application/x-www-form-urlencoded';
      if (request.method !== 'GET' && request.method !== 'HEAD' && initiator) {
        headers.origin = originHeader(initiator, current, referrerPolicy, chain);
      }
      const referer = initiator?.url ? refererHeader(initiator.url, current, referrerPolicy) : undefined;
      if (referer) headers.referer = referer;
      const cookie = this.cookieHeader(current, request.method, initiator);
      if (cookie) headers.cookie = cookie;
      this.requests.push({ method: request.method, url: current, headers, body: request.body, scripted: !user });

      const response = await fetch(current, { method: request.method, body: request.body, headers, redirect: 'manual' });
      this.storeCookies(current, response.headers);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, current);
        await response.body?.cancel();
        if (options.stopAt?.(next) || next.hash) return { kind: 'redirect', location: next, status: response.status };
        // A redirect may set a new policy for the rest of the chain (Fetch, HTTP-redirect fetch).
        referrerPolicy = parseReferrerPolicy(response.headers) ?? referrerPolicy;
        // 307 and 308 keep the method and body; the others turn a POST into a GET.
        if (response.status !== 307 && response.status !== 308) request = { method: 'GET' };
        current = next;
        continue;
      }
      const html = await response.text();
      const page: Page = { url: current, status: response.status, html, forms: parseForms(html, current, parseReferrerPolicy(response.headers)), headers: response.headers };
      const scripted = this.javascript ? selfSubmittingForm(page) : undefined;
      if (scripted) return this.send(scripted, undefined, {}, options, false);
      return { kind: 'page', page };
    }
    throw new Error(`Too many redirects starting at ${url.href}.`);
  }

  private cookieHeader(url: URL, method: string, initiator: Initiator | undefined): string {
    // A navigation the user typed is same-site; otherwise compare the sites (scheme and host).
    const sameSite = !initiator || (initiator.origin !== 'null' && siteOf(new URL(initiator.origin)) === siteOf(url));
    const safe = method === 'GET' || method === 'HEAD';
    return [...(this.jar.get(url.hostname) ?? new Map())]
      .filter(([, cookie]) => sameSite || cookie.sameSite === 'none' || (cookie.sameSite === 'lax' && safe))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  private storeCookies(url: URL, headers: Headers): void {
    for (const header of headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const cookies = this.jar.get(url.hostname) ?? new Map<string, { value: string; sameSite: SameSite }>();
      const sameSiteAttr = attributes.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('samesite='))?.slice('samesite='.length);
      // Browsers treat a cookie without SameSite as Lax (Chromium since 2020, RFC 6265bis §5.4.7).
      const sameSite: SameSite = sameSiteAttr === 'strict' || sameSiteAttr === 'none' ? sameSiteAttr : 'lax';
      if (/max-age=0/i.test(header) || value === '') cookies.delete(name);
      else cookies.set(name, { value, sameSite });
      this.jar.set(url.hostname, cookies);
    }
  }
}

/** `Sec-Fetch-Site`: how the request relates to the page that started it, over the whole redirect chain. */
function fetchSite(initiator: Initiator | undefined, chain: URL[]): string {
  if (!initiator) return 'none';
  if (initiator.origin === 'null') return 'cross-site';
  const origin = new URL(initiator.origin);
  if (chain.every((url) => url.origin === origin.origin)) return 'same-origin';
  if (chain.every((url) => siteOf(url) === siteOf(origin))) return 'same-site';
  return 'cross-site';
}

/** `Origin` on a form POST (Fetch, "append a request Origin header"): the page's own policy can make it `null`. */
function originHeader(initiator: Initiator, url: URL, policy: string, chain: URL[]): string {
  // A POST that a 307/308 carried to another origin has a "redirect-tainted" origin.
  const tainted = chain.some((hop, i) => i > 0 && hop.origin !== chain[i - 1]!.origin);
  if (initiator.origin === 'null' || tainted) return 'null';
  const origin = new URL(initiator.origin);
  switch (policy) {
    case 'no-referrer':
      return 'null';
    case 'no-referrer-when-downgrade':
    case 'strict-origin':
    case 'strict-origin-when-cross-origin':
      return origin.protocol === 'https:' && url.protocol !== 'https:' ? 'null' : origin.origin;
    case 'same-origin':
      return origin.origin === url.origin ? origin.origin : 'null';
    default:
      return origin.origin;
  }
}

/** `Referer` as the Referrer-Policy allows (https://w3c.github.io/webappsec-referrer-policy/#determine-requests-referrer). */
function refererHeader(from: URL, to: URL, policy: string): string | undefined {
  const full = new URL(from);
  full.hash = '';
  full.username = '';
  full.password = '';
  const origin = `${from.origin}/`;
  const downgrade = from.protocol === 'https:' && to.protocol !== 'https:';
  const sameOrigin = from.origin === to.origin;
  switch (policy) {
    case 'no-referrer':
      return undefined;
    case 'same-origin':
      return sameOrigin ? full.href : undefined;
    case 'origin':
      return origin;
    case 'strict-origin':
      return downgrade ? undefined : origin;
    case 'origin-when-cross-origin':
      return sameOrigin ? full.href : origin;
    case 'no-referrer-when-downgrade':
      return downgrade ? undefined : full.href;
    case 'unsafe-url':
      return full.href;
    default:
      return downgrade ? undefined : sameOrigin ? full.href : origin;
  }
}

/** The last policy the browser knows from a Referrer-Policy header, if any. */
function parseReferrerPolicy(headers: Headers): string | undefined {
  const tokens = (headers.get('referrer-policy') ?? '').split(',').map((t) => t.trim().toLowerCase());
  return tokens.filter((t) => REFERRER_POLICIES.has(t)).at(-1);
}

/**
 * The site of a URL for SameSite and Sec-Fetch-Site: its scheme and registrable domain. Without the
 * Public Suffix List we take the last two labels, which is right for the hosts tests use (localhost,
 * 127.0.0.1, login.microsoftonline.com, attacker.example).
 */
function siteOf(url: URL): string {
  const host = url.hostname;
  const domain = /^[\d.]+$/.test(host) || host.startsWith('[') ? host : host.split('.').slice(-2).join('.');
  return `${url.protocol}//${domain}`;
}

/** The form a page's inline script submits (`document.getElementById('x').submit()`), when scripts may run. */
function selfSubmittingForm(page: Page): Form | undefined {
  const csp = page.headers.get('content-security-policy') ?? '';
  const directive = (name: string) => csp.split(';').map((d) => d.trim()).find((d) => d.toLowerCase().startsWith(`${name} `));
  const scriptSrc = directive('script-src') ?? directive('default-src');
  if (scriptSrc && !scriptSrc.includes("'unsafe-inline'")) return undefined;
  for (const script of page.html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    const id = script[1]!.match(/getElementById\(['"]([^'"]+)['"]\)\.submit\(\)/)?.[1];
    const form = id ? page.forms.find((f) => f.id === id) : undefined;
    if (form) return form;
  }
  return undefined;
}

export function parseForms(html: string, base: URL, referrerPolicy = DEFAULT_REFERRER_POLICY): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = match[1];
    const inner = match[2];
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const name = attr(input[1], 'name');
      const type = (attr(input[1], 'type') ?? 'text').toLowerCase();
      if (!name || ((type === 'radio' || type === 'checkbox') && !/\bchecked\b/i.test(input[1]))) continue;
      fields[name] = attr(input[1], 'value') ?? '';
    }
    const buttons = [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map((b) => ({
      name: attr(b[1], 'name') ?? '',
      value: attr(b[1], 'value') ?? '',
      text: b[2].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim(),
    }));
    forms.push({
      action: new URL(decodeEntities(attr(attrs, 'action') ?? base.href), base),
      method: (attr(attrs, 'method') ?? 'get').toLowerCase(),
      id: attr(attrs, 'id'),
      fields,
      buttons,
      page: { url: base, referrerPolicy },
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
  const sent = browser.requests.length;
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
  // form_post: the page's script posted the result to the app (or, with scripts off, the person presses Continue).
  const posted = browser.requests.slice(sent).findLast((r) => r.scripted && r.body);
  if (posted) return { params: posted.body!, url: posted.url, page: stop.page };
  const result = stop.page.forms.find((f) => 'code' in f.fields || 'error' in f.fields);
  if (!result) return { params: new URL(stop.page.url).searchParams, url: stop.page.url, page: stop.page };
  const delivered = await browser.submit(result, undefined, {}, { stopAt });
  return { params: new URLSearchParams(result.fields), url: result.action, page: delivered.kind === 'page' ? delivered.page : undefined };
}

/** Approves (or declines) a device code on the emulator's device login page: the code, Next, then the account. */
export async function approveDeviceCode(verificationUri: string, userCode: string, user: string, decline = false): Promise<Page> {
  const browser = new Browser();
  const stop = await browser.open(verificationUri);
  if (stop.kind !== 'page' || !stop.page.forms[0]) throw new Error(`Expected the device login page at ${verificationUri}.`);
  const account = findUser(user);
  if (!account) throw new Error(`No test user "${user}".`);
  const next = await browser.submit(stop.page.forms[0], undefined, { user_code: userCode });
  if (next.kind !== 'page') throw new Error('The device login page redirected unexpectedly.');
  // A wrong code stays on the first page, with its error.
  const choice = next.page.forms[0];
  if (next.page.status !== 200 || !choice?.buttons.some((b) => b.name === 'user')) return next.page;
  const button = decline ? { name: 'action', value: 'decline' } : { name: 'user', value: account.oid };
  const result = await browser.submit(choice, button);
  if (result.kind !== 'page') throw new Error('The device login page redirected unexpectedly.');
  return result.page;
}

function textOf(html: string): string {
  return html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}
