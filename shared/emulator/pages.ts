/**
 * The emulator's browser pages: plain HTML forms that work without JavaScript, so a learner can
 * use them in any browser and a test can drive them as a browser would (fetch the page, submit the form).
 */
import type { AppRegistration, TestUser } from './directory.ts';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f3f2f1; margin: 0; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; box-shadow: 0 2px 6px #0002; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  .note { color: #605e5c; font-size: .9rem; }
  .error { color: #a4262c; }
  button { display: block; width: 100%; text-align: left; padding: .75rem 1rem; margin: .5rem 0; font-size: 1rem;
           border: 1px solid #8a8886; background: #fff; cursor: pointer; }
  button:hover { background: #edebe9; }
  button.primary { background: #0067b8; color: #fff; border-color: #0067b8; text-align: center; }
  button.secondary { text-align: center; }
  ul { padding-left: 1.2rem; }
  input[type=text] { font-size: 1.2rem; padding: .5rem; width: 100%; box-sizing: border-box; letter-spacing: .1em; }
  small { color: #605e5c; }
  label.field { display: block; font-weight: 600; margin-bottom: .25rem; }
  :focus-visible { outline: 3px solid #0067b8; outline-offset: 2px; }
</style>
</head>
<body><main>
<p class="note">Contoso (workshop emulator) — an offline stand-in for Microsoft Entra ID</p>
${body}
</main></body>
</html>`;
}

/** An HTML response that is never cached or framed. */
export function htmlResponse(html: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The sign-in page must never be framed (clickjacking).
      'x-frame-options': 'DENY',
      'content-security-policy': "frame-ancestors 'none'",
      ...headers,
    },
  });
}

function userButtons(users: readonly TestUser[], hintedOid?: string): string {
  const ordered = [...users].sort((first, second) => Number(second.oid === hintedOid) - Number(first.oid === hintedOid));
  return ordered
    .map(
      (user) =>
        `<button type="submit" name="user" value="${user.oid}">${escapeHtml(user.displayName)}` +
        `${user.oid === hintedOid ? ' <small>(suggested)</small>' : ''}<br><small>${escapeHtml(user.userPrincipalName)}</small></button>`,
    )
    .join('\n');
}

/** What the sign-in page shows. */
export interface SignInPageOptions {
  action: string;
  requestId: string;
  client: AppRegistration;
  resourceName: string;
  scopes: string[];
  users: readonly TestUser[];
  hintedOid?: string;
}

/** The sign-in page: the app, what it asks for, one button per test user, and Cancel. */
export function signInPage(options: SignInPageOptions): string {
  const scopes = options.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('');
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p><strong>${escapeHtml(options.client.displayName)}</strong> wants to sign you in and use ${escapeHtml(options.resourceName)} as you:</p>
<ul>${scopes}</ul>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="request" value="${escapeHtml(options.requestId)}">
<p>Pick an account:</p>
${userButtons(options.users, options.hintedOid)}
<button type="submit" name="action" value="cancel" class="secondary">Cancel</button>
</form>
<p class="note">Test users only. Nothing here leaves your machine.</p>`,
  );
}

/** The `form_post` response mode: a form that posts the result to the app (auto-submitted when scripts run). */
export function formPostPage(redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return page(
    'Signing you in',
    `<h1>Almost done</h1>
<form method="post" action="${escapeHtml(redirectUri)}" id="result">
${inputs}
<button type="submit" class="primary">Continue to the app</button>
</form>
<script>document.getElementById('result').submit()</script>`,
  );
}

/** A page that shows an error to the user (and never redirects). Default status 400. */
export function errorPage(title: string, message: string, status = 400): Response {
  return htmlResponse(
    page(title, `<h1>${escapeHtml(title)}</h1><p class="error">${escapeHtml(message)}</p>`),
    status,
  );
}

/**
 * The device code page, step 1: the code alone. Its only button is Next, so Enter in the code field
 * sends the code and signs nobody in. The accounts come on the next page, after the code is known.
 */
export function deviceLoginPage(action: string, message?: string, userCode = ''): string {
  return page(
    'Enter code',
    `<h1>Enter code</h1>
<p>Enter the code shown by the app that wants to sign you in.</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
<p><label for="user_code" class="field">Code</label>
<input type="text" id="user_code" name="user_code" value="${escapeHtml(userCode)}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus></p>
<button type="submit" class="primary">Next</button>
</form>`,
  );
}

/** What the second step of the device code page shows. */
export interface DeviceConfirmPageOptions {
  action: string;
  userCode: string;
  /** The display name of the app the code was issued to. */
  clientName: string;
  scopes: string[];
  users: readonly TestUser[];
}

/**
 * The device code page, step 2: which app is asking (a person who did not start this can stop here),
 * then an explicit choice of account. Nothing has focus, so a second Enter does nothing; Tab goes
 * through the accounts, then Decline.
 */
export function deviceConfirmPage(options: DeviceConfirmPageOptions): string {
  const scopes = options.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('');
  return page(
    'Sign in',
    `<h1>Sign in to ${escapeHtml(options.clientName)}?</h1>
<p>Continue only if you started this on a device or in an app you trust. It asks to:</p>
<ul>${scopes}</ul>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="user_code" value="${escapeHtml(options.userCode)}">
<p>Choose the account to sign in with:</p>
${userButtons(options.users)}
<button type="submit" name="action" value="decline" class="secondary">Decline</button>
</form>`,
  );
}

/** A page with a title and one sentence. */
export function messagePage(title: string, message: string): Response {
  return htmlResponse(page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`));
}

/** The emulator's home page: its issuer, test users and app registrations. */
export function homePage(users: readonly TestUser[], apps: readonly AppRegistration[], issuer: string): Response {
  const userRows = users.map((user) => `<li>${escapeHtml(user.displayName)} — ${escapeHtml(user.userPrincipalName)}</li>`).join('');
  const appRows = apps.map((app) => `<li>${escapeHtml(app.displayName)}<br><small>${app.clientId}</small></li>`).join('');
  return htmlResponse(
    page(
      'Workshop tenant',
      `<h1>The workshop tenant is running</h1>
<p>Issuer: <code>${escapeHtml(issuer)}</code></p>
<h2>Test users</h2><ul>${userRows}</ul>
<h2>App registrations</h2><ul>${appRows}</ul>`,
    ),
  );
}
