/**
 * The browser's part of the flow: a cookie that ties the consent page, the user's answer and Entra's
 * callback to one browser (against CSRF and login CSRF), and the redirect back to the MCP client.
 */
import type { Request, Response } from 'express';
import { hash, randomToken } from './records.ts';

/** The cookie that ties a flow to one browser: given with the consent page, checked at each later step. */
export class FlowCookie {
  private readonly name: string;
  private readonly attributes: string;

  /**
   * @param baseUrl the server's own URL: https gets a `__Host-` cookie
   * @param maxAgeSeconds how long the cookie lives: as long as a consent page and its sign-in
   */
  constructor(baseUrl: URL, private readonly maxAgeSeconds: number) {
    // `__Host-` cookies must be Secure, which needs https; on http://localhost the cookie is plain
    // (still HttpOnly and SameSite=Lax). https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2
    const secure = baseUrl.protocol === 'https:';
    this.name = secure ? '__Host-mcp_auth' : 'mcp_auth';
    this.attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** Gives the browser its flow cookie (keeping the one it has) and returns the value's hash, to store with the flow. */
  bindBrowser(req: Request, res: Response): string {
    const current = readCookie(req, this.name);
    const value = current && /^[\w-]{43}$/.test(current) ? current : randomToken();
    res.append('Set-Cookie', `${this.name}=${value}; ${this.attributes}; Max-Age=${this.maxAgeSeconds}`);
    return hash(value);
  }

  /** Whether this request comes from the browser whose cookie hash is `expected`. */
  isSameBrowser(req: Request, expected: string): boolean {
    const value = readCookie(req, this.name);
    return value !== undefined && hash(value) === expected;
  }
}

/** Sends the browser to the client's redirect URI, which always comes from our own records, never from the request. */
export function redirectToClient(res: Response, to: { redirectUri: string; state?: string }, params: Record<string, string>): void {
  const url = new URL(to.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (to.state !== undefined) url.searchParams.set('state', to.state);
  res.set('Cache-Control', 'no-store').redirect(302, url.href);
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
