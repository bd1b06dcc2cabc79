/**
 * Microsoft Graph, on behalf of the caller, as in lesson 4, with two production changes: the API
 * proves itself to Entra ID with a secretless credential (credentials.ts), and the OBO tokens live in
 * a cache all replicas share (tokenCache.ts).
 *
 * OBO: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
 * MCP: https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough
 */
import { AuthError, ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from 'pino';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { WorkshopConfig } from '../../shared/config.ts';
import { describeEntraError } from '../../shared/entraErrors.ts';
import { describeGraphError, graphClient } from '../../shared/graph.ts';
import { CredentialError, type ClientCredential } from './credentials.ts';
import { oboCachePlugin, type TokenStore } from './tokenCache.ts';

/**
 * Delegated Graph permissions. Unqualified names mean Microsoft Graph, and Entra ID answers with them
 * in this short form; asking in the same form lets MSAL find the cached token again (it compares the
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

export interface GraphServiceOptions {
  /** The API's credential: a certificate or a managed identity's assertion, never a secret. */
  credential: ClientCredential;
  /** Where OBO tokens are cached, one partition per caller. */
  tokenStore: TokenStore;
  log: Logger;
}

/** Make it once per process. */
export function createGraphService(config: WorkshopConfig, { credential, tokenStore, log }: GraphServiceOptions): GraphService {
  const msalConfig: Configuration = {
    auth: {
      // The API's own app registration: it is the "middle tier" that asks on the user's behalf.
      clientId: config.entra.apiClientId,
      ...credential,
      ...config.entra.msal,
    },
    // Warnings only, and never PII: MSAL's messages can name accounts.
    system: { loggerOptions: { logLevel: LogLevel.Warning, piiLoggingEnabled: false, loggerCallback: (_level, message) => log.warn({ msal: message }, 'MSAL') } },
  };

  /**
   * An MSAL client whose cache is the caller's partition of the shared store. Cheap to build: the
   * credential and the authority settings are shared; only the cache plugin differs per caller.
   */
  const msalFor = (auth: AuthInfo) => new ConfidentialClientApplication({ ...msalConfig, cache: { cachePlugin: oboCachePlugin(tokenStore, auth) } });

  /** A Graph token for the caller, with one scope, obtained with On-Behalf-Of. */
  async function graphTokenFor(auth: AuthInfo, scope: string): Promise<string> {
    try {
      const msal = msalFor(auth);
      // MSAL's OBO lookup reads only its in-memory cache; the plugin fills it when the cache is
      // read through TokenCache. Load the caller's partition first, or every call would miss.
      await msal.getTokenCache().getAllAccounts();
      const result = await msal.acquireTokenOnBehalfOf({
        // The incoming token is the user's proof (its `aud` is our API, which OBO requires).
        oboAssertion: auth.token,
        scopes: [scope],
      });
      if (!result?.accessToken) throw new GraphAccessError('Entra ID returned no token for Microsoft Graph.');
      return result.accessToken;
    } catch (error) {
      if (error instanceof GraphAccessError) throw error;
      const code = error instanceof AuthError ? error.errorCode : 'unknown_error';
      // Entra ID's reason (an AADSTS code and its description; never a token) is for the operator's log.
      const reason = error instanceof AuthError ? error.errorMessage : (error as Error).message;
      log.warn({ err: { code, message: reason } }, 'On-Behalf-Of failed');
      // The server's own credential refused (a certificate Entra does not know, a federated credential
      // that does not match, an expired assertion) is not the caller's fault: say so, without detail.
      if (code === 'invalid_client' || /AADSTS70021\b/.test(reason) || error instanceof CredentialError) {
        throw new GraphAccessError('The server could not prove its own identity to Entra ID. This is a server configuration problem: tell its operator.');
      }
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
