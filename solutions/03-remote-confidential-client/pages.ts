/**
 * The two HTML pages a person sees on this server: the consent page and an error page. Plain HTML
 * with one form, so they work without JavaScript, and headers that keep them out of frames.
 */
import type { Response } from 'express';

export interface ConsentPageInput {
  /** The id of the pending authorization request, sent back by the form. */
  requestId: string;
  /** Where the form posts, e.g. /consent. */
  action: string;
  /** The MCP client's self-chosen name from its registration: a claim, not a fact. */
  clientName: string;
  clientId: string;
  /** Where the client will receive the authorization code, exactly as registered. */
  redirectUri: string;
  /** What the client asks this server for, with plain-words descriptions. */
  scopes: Array<{ name: string; description: string }>;
  /** What this server will ask Entra ID for on the user's behalf. */
  entraScopes: string[];
}

export function consentPage(input: ConsentPageInput): string {
  const redirect = new URL(input.redirectUri);
  const scopes = input.scopes.map((s) => `<li><strong>${escape(s.description)}</strong> <code>${escape(s.name)}</code></li>`).join('');
  return layout(
    'Allow access?',
    `
    <h1>Allow <span class="client">${escape(input.clientName)}</span> to use the Contoso profile server?</h1>
    <p class="note">The name above is what the application says about itself when it registered. This server cannot
    confirm it. Only continue if you just started this from an MCP client you trust.</p>
    <h2>It asks to</h2>
    <ul>${scopes}</ul>
    <h2>If you allow it</h2>
    <ol>
      <li>You sign in with Microsoft Entra ID. This server asks Entra ID for <code>${escape(input.entraScopes.join(' '))}</code>
      and keeps those tokens itself.</li>
      <li>The application receives a token for <em>this server only</em>, and is sent to
      <code class="redirect">${escape(input.redirectUri)}</code> (host <strong>${escape(redirect.host)}</strong>).</li>
    </ol>
    <p class="meta">Client ID <code>${escape(input.clientId)}</code></p>
    <form method="post" action="${escape(input.action)}">
      <input type="hidden" name="request" value="${escape(input.requestId)}">
      <button type="submit" name="decision" value="approve">Allow and sign in</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${escape(title)}</h1><p>${escape(message)}</p><p>You can close this window and start again from your MCP client.</p>`);
}

/**
 * Sends a page that no other site may frame (clickjacking) or cache, and that loads nothing from
 * anywhere. https://developer.mozilla.org/docs/Web/HTTP/Headers/Content-Security-Policy/frame-ancestors
 *
 * `Referrer-Policy: same-origin`: other sites (Entra ID, after the redirect) get no `Referer`, so the
 * consent page's address, which holds the client's state, stays here. Not `no-referrer`: with that
 * policy browsers send `Origin: null` on the page's own form POST, and checkOrigin rightly refuses it.
 * https://fetch.spec.whatwg.org/#append-a-request-origin-header
 */
export function sendPage(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'same-origin',
    })
    .send(html);
}

/** Escapes text for HTML content and attribute values. Client names come from strangers. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
  .client { color: #8a2be2; } .note { background: #fff6d6; padding: .5rem .75rem; border-radius: 4px; }
  .meta { color: #666; font-size: .9em; } button { font-size: 1rem; padding: .5rem 1rem; margin-right: .5rem; }
  code { background: #f2f2f2; padding: 0 .25rem; word-break: break-all; }
</style></head>
<body>${body}</body></html>`;
}
