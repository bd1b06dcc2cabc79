/**
 * Microsoft Graph, on behalf of the caller. The token a client sent us is for *this* API: Graph must
 * never see it. We trade it at Entra ID for a Graph token of our own (On-Behalf-Of), with our API's
 * own client credential, and call Graph with that.
 *
 * OBO: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
 * MCP: https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough
 */
import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { describeEntraError } from '../../shared/entraErrors.ts';
import { describeGraphError, graphClient } from '../../shared/graph.ts';

/**
 * Delegated Graph permissions. Unqualified names mean Microsoft Graph, and Entra ID answers with them in
 * this short form; asking in the same form lets MSAL find its cached token again (it compares the
 * requested scopes with those of the response: `https://graph.microsoft.com/User.Read` would miss).
 */
export const GRAPH_SCOPES = {
  readProfile: 'User.Read',
  sendMail: 'Mail.Send',
} as const;

export interface GraphProfile {
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
  jobTitle: string | null;
  officeLocation: string | null;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
}

/** What the tools use. A failure is a GraphAccessError with a message meant for the caller. */
export interface GraphService {
  me(auth: AuthInfo): Promise<GraphProfile>;
  sendMail(auth: AuthInfo, mail: OutgoingMail): Promise<void>;
}

/** Graph or Entra ID refused; the message says why in words a caller (or a model) can act on. */
export class GraphAccessError extends Error {
  /** Stable, unlike the message (jose's style): what code that handles it can rely on. */
  readonly code = 'ERR_GRAPH_ACCESS';
  override name = 'GraphAccessError';
}

/** Make it once per process: MSAL caches the OBO tokens it gets, per incoming token. */
export function createGraphService(config: WorkshopConfig): GraphService {
  const msal = new ConfidentialClientApplication({
    auth: {
      // The API's own app registration: it is the "middle tier" that asks on the user's behalf.
      clientId: config.entra.apiClientId,
      clientSecret: config.entra.apiClientSecret,
      ...config.entra.msal,
    },
    // Warnings only, on stderr; never PII or tokens.
    system: { loggerOptions: { logLevel: LogLevel.Warning, piiLoggingEnabled: false, loggerCallback: (_level, message) => console.error(`[msal] ${message}`) } },
  });

  /** A Graph token for the caller, with one scope, obtained with On-Behalf-Of. */
  async function graphTokenFor(auth: AuthInfo, scope: string): Promise<string> {
    try {
      const result = await msal.acquireTokenOnBehalfOf({
        // The incoming token is the user's proof (its `aud` is our API, which OBO requires).
        oboAssertion: auth.token,
        scopes: [scope],
      });
      if (!result?.accessToken) throw new GraphAccessError('Entra ID returned no token for Microsoft Graph.');
      return result.accessToken;
    } catch (error) {
      if (error instanceof GraphAccessError) throw error;
      // Entra ID unreachable, or its refusal with the AADSTS code and the fix: never a wrong cause.
      throw new GraphAccessError(`No Microsoft Graph token on your behalf. ${describeEntraError(error, config, scope)}`);
    }
  }

  return {
    async me(auth) {
      const token = await graphTokenFor(auth, GRAPH_SCOPES.readProfile);
      return callGraph(GRAPH_SCOPES.readProfile, () =>
        graphClient(token).api('/me').select(['displayName', 'mail', 'userPrincipalName', 'jobTitle', 'officeLocation']).get(),
      ) as Promise<GraphProfile>;
    },
    async sendMail(auth, mail) {
      const token = await graphTokenFor(auth, GRAPH_SCOPES.sendMail);
      await callGraph(GRAPH_SCOPES.sendMail, () =>
        graphClient(token)
          .api('/me/sendMail')
          .post({
            message: {
              subject: mail.subject,
              body: { contentType: 'Text', content: mail.body },
              toRecipients: [{ emailAddress: { address: mail.to } }],
            },
            saveToSentItems: true,
          }),
      );
    },
  };
}

/** Runs one Graph call that needs `scope`; a failure becomes a GraphAccessError a person can act on. */
async function callGraph(scope: string, call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    throw new GraphAccessError(describeGraphError(error, scope));
  }
}
