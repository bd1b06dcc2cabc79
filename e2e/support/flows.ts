/** Small pieces the page tests share: PKCE, reading a JWT's claims, keyboard-only navigation, waiting for a redirect. */
import { createHash, randomBytes } from 'node:crypto';
import type { Page, Request } from 'playwright-core';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The claims of a JWT, unverified: the tests only read who it names. */
export function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

/**
 * Presses Tab until the focused element's text matches `target`, as a keyboard-only user would, and
 * returns the texts focused on the way (the focus order). Fails after `max` presses.
 */
export async function tabTo(page: Page, target: RegExp, max = 15): Promise<string[]> {
  const visited: string[] = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const text = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return '';
      // A form control is known by its label, as a screen reader announces it.
      const label = el instanceof HTMLInputElement ? el.labels?.[0]?.innerText : undefined;
      return (label || el.innerText || el.getAttribute('aria-label') || el.tagName).replace(/\s+/g, ' ').trim();
    });
    visited.push(text);
    if (target.test(text)) return visited;
  }
  throw new Error(`Tab never reached ${target} in ${max} presses; focus went: ${visited.map((t) => `"${t}"`).join(' → ')}`);
}

/**
 * Answers every request to `origin` (a client's redirect URI nobody listens on) with a small page,
 * and resolves with the first one: the browser's arrival at the client, with its query or form body.
 */
export async function catchRedirect(page: Page, origin: string): Promise<() => Promise<URLSearchParams>> {
  let arrived!: (params: URLSearchParams) => void;
  const arrival = new Promise<URLSearchParams>((resolve) => (arrived = resolve));
  await page.route(`${origin}/**`, async (route, request: Request) => {
    const url = new URL(request.url());
    arrived(request.method() === 'POST' ? new URLSearchParams(request.postData() ?? '') : url.searchParams);
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Client</title><h1>Back at the client</h1>' });
  });
  return async () => {
    const params = await withTimeout(arrival, 15_000, `the browser never came back to ${origin}`);
    // Wait until the client's page has loaded too: a next page.goto() would otherwise interrupt this
    // navigation and fail with "interrupted by another navigation".
    await page.waitForURL((url) => url.origin === origin, { timeout: 15_000 });
    return params;
  };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out after ${ms / 1000} s: ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

