/**
 * Step 2 of the sign-in: Entra ID sends the browser back to /auth/callback.
 *
 * This server redeems Entra's code as a confidential client (entra.ts) and hands the MCP client a
 * code of its own. The Entra tokens stay here; the client will only ever hold our opaque tokens.
 */
import type { Request, Response } from 'express';
import { firstLine } from '../../shared/errorText.ts';
import { redirectToClient } from './browser.ts';
import type { EntraSignIn } from './entra.ts';
import { errorPage, sendPage } from './pages.ts';
import { hash, randomToken, type FlowContext } from './records.ts';

export class CallbackStep {
  constructor(private readonly flow: FlowContext) {}

  /** GET /auth/callback: check state, redeem Entra's code, hand the MCP client a code of ours. */
  async completeSignIn(req: Request, res: Response): Promise<void> {
    const { signIns, codes, cookie, entra, clock, lifetimes } = this.flow;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const signIn = state ? await signIns.take(state) : undefined;
    // Without a known state we do not know whose request this is, so we redirect nowhere.
    if (!signIn) {
      return sendPage(res, 400, errorPage('Unknown sign-in', 'This sign-in response matches no sign-in this server started: its state is unknown, used or expired.'));
    }
    // Login CSRF: an attacker must not be able to finish their own sign-in in your browser.
    if (!cookie.isSameBrowser(req, signIn.browser)) {
      return sendPage(res, 403, errorPage('Sign-in refused', 'This sign-in was started in another browser.'));
    }
    if (typeof req.query.error === 'string') {
      const error = req.query.error === 'access_denied' ? 'access_denied' : 'server_error';
      return redirectToClient(res, signIn, { error, error_description: 'The sign-in at Microsoft Entra ID did not complete.' });
    }
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    let entraSignIn: EntraSignIn;
    try {
      entraSignIn = await entra.redeemCode({ code, codeVerifier: signIn.entraCodeVerifier });
    } catch (error) {
      console.error(`[auth] Entra ID did not accept the authorization code: ${firstLine(error)}`);
      return redirectToClient(res, signIn, { error: 'server_error', error_description: 'Microsoft Entra ID did not accept the sign-in.' });
    }
    const ourCode = randomToken();
    const expiresAt = clock.now() + lifetimes.codeSeconds * 1000;
    await codes.set(
      hash(ourCode),
      { clientId: signIn.clientId, redirectUri: signIn.redirectUri, codeChallenge: signIn.codeChallenge, scopes: signIn.scopes, resource: signIn.resource, expiresAt, signIn: entraSignIn },
      lifetimes.codeSeconds,
    );
    redirectToClient(res, signIn, { code: ourCode });
  }
}
