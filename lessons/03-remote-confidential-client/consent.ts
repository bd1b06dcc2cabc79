/**
 * Step 1 of the sign-in: an MCP client asks at /authorize, and the user is asked first.
 *
 * The SDK's `mcpAuthRouter` has already checked client_id, the exact redirect_uri and PKCE S256.
 * Here the request is checked against what this server offers, shown to the user on a consent page,
 * and only after their approval does the browser go on to Entra ID.
 */
import type { Request, Response } from 'express';
import type { AuthorizationParams } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { InvalidScopeError, InvalidTargetError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { redirectToClient } from './browser.ts';
import { GRAPH_SCOPES } from './entra.ts';
import { consentPage, errorPage, sendPage } from './pages.ts';
import { SCOPES, randomToken, type FlowContext } from './records.ts';

export class ConsentStep {
  constructor(private readonly flow: FlowContext) {}

  /** GET /authorize, after the SDK checked client_id, the exact redirect_uri and PKCE S256. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    const { consents, cookie, lifetimes } = this.flow;
    // TODO 3.3: Check the requested scopes (grantableScopes) and resource (checkResource), remember the
    // request in consents under a random ID for lifetimes.consentSeconds, tie it to this browser
    // (cookie.bindBrowser(res.req, res)), and answer with the consent page: sendPage(res, 200, consentPage({ … })).
    // See README, step 3.3.
    throw new Error('TODO 3.3: show the consent page (consent.ts, authorize)');
  }

  /** POST /consent: the user's answer. Approve leads to Entra ID; Deny goes back to the client. */
  async decideConsent(req: Request, res: Response): Promise<void> {
    const { consents, signIns, cookie, entra, lifetimes } = this.flow;
    // TODO 3.4: Take the pending consent named by req.body.request (single use). Unknown: error page 400.
    // From another browser (cookie.isSameBrowser): error page 403. Deny: redirectToClient with error=access_denied.
    // Approve: a new PKCE pair (entra.generatePkce) and a random state, remembered in signIns,
    // then a 303 redirect to entra.signInUrl(…). See README, step 3.4.
    throw new Error('TODO 3.4: answer the consent (consent.ts, decideConsent)');
  }

  /** The scopes to grant: those asked for (all of ours when none), refusing any we do not offer. */
  private grantableScopes(requested: string[] = []): string[] {
    // offline_access is implied: we always issue refresh tokens.
    const asked = requested.filter((scope) => scope && scope !== 'offline_access');
    if (asked.length === 0) return Object.keys(SCOPES);
    const unknown = asked.filter((scope) => !(scope in SCOPES));
    if (unknown.length > 0) throw new InvalidScopeError(`Unknown scope ${unknown.join(' ')}; this server offers ${Object.keys(SCOPES).join(' ')}.`);
    return [...new Set(asked)];
  }

  /** RFC 8707: tokens from here are for this MCP endpoint only. */
  private checkResource(resource: URL | undefined): string {
    const ours = this.flow.config.mcpUrl.href;
    if (resource && resource.href !== ours) throw new InvalidTargetError(`This server only issues tokens for ${ours}, not ${resource.href}.`);
    return ours;
  }
}
