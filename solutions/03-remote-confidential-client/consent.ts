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
    // Errors thrown here go back to the (registered) redirect URI as ?error=…, which is allowed now.
    const scopes = this.grantableScopes(params.scopes);
    const resource = this.checkResource(params.resource);
    const requestId = randomToken();
    const browser = cookie.bindBrowser(res.req, res);
    await consents.set(
      requestId,
      { clientId: client.client_id, redirectUri: params.redirectUri, state: params.state, codeChallenge: params.codeChallenge, scopes, resource, browser },
      lifetimes.consentSeconds,
    );
    // Consent before any redirect to Entra ID: otherwise any registered client could ride on the
    // user's Entra session and this server's client ID (the confused deputy).
    // https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem
    sendPage(
      res,
      200,
      consentPage({
        requestId,
        action: '/consent',
        clientName: client.client_name ?? 'An unnamed application',
        clientId: client.client_id,
        redirectUri: params.redirectUri,
        scopes: scopes.map((name) => ({ name, description: SCOPES[name]! })),
        entraScopes: GRAPH_SCOPES,
      }),
    );
  }

  /** POST /consent: the user's answer. Approve leads to Entra ID; Deny goes back to the client. */
  async decideConsent(req: Request, res: Response): Promise<void> {
    const { consents, signIns, cookie, entra, lifetimes } = this.flow;
    const requestId = typeof req.body?.request === 'string' ? req.body.request : '';
    // take(): a consent page can be answered once.
    const consent = requestId ? await consents.take(requestId) : undefined;
    if (!consent) {
      return sendPage(res, 400, errorPage('This request has expired', 'A consent page can be answered once, within ten minutes.'));
    }
    // CSRF: the answer must come from the browser that was shown the page, not from a form on another site.
    if (!cookie.isSameBrowser(req, consent.browser)) {
      return sendPage(res, 403, errorPage('Consent refused', 'This answer did not come from the browser that was shown the consent page.'));
    }
    if (req.body.decision !== 'approve') {
      return redirectToClient(res, consent, { error: 'access_denied', error_description: 'The user denied the request.' });
    }
    // Our own request to Entra ID gets its own single-use state and PKCE pair, created only now, after consent.
    const { verifier, challenge } = await entra.generatePkce();
    const state = randomToken();
    await signIns.set(state, { ...consent, entraCodeVerifier: verifier }, lifetimes.consentSeconds);
    res.redirect(303, await entra.signInUrl({ state, codeChallenge: challenge }));
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
