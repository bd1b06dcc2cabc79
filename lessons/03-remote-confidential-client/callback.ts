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
    // TODO 3.5: Take the pending sign-in named by req.query.state (single use); unknown: error page 400,
    // another browser: 403, and no redirect in either case. Entra sent ?error=…: redirect the error to the
    // client. Otherwise redeem ?code=… with entra.redeemCode, store one of our codes (hashed) in
    // codes for lifetimes.codeSeconds, and redirectToClient with { code }. See README, step 3.5.
    throw new Error('TODO 3.5: complete the sign-in (callback.ts, completeSignIn)');
  }
}
