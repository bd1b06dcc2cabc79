/**
 * The hosting platform's managed identity endpoint, as App Service and Container Apps serve it to the
 * processes they run (lesson 5): `GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…&client_id=…`
 * with the header `X-IDENTITY-HEADER: $IDENTITY_HEADER`. The answer is an Entra-issued token for the
 * identity, which an app whose registration trusts that identity (a federated credential) can present
 * as its client assertion. MSAL's ManagedIdentityApplication finds this endpoint from the two variables.
 *
 * Offline the emulator serves it at `/msi/token` of its own origin; the offline bridge
 * (shared/offline/register.ts) sets the two variables, as the platform would.
 * https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
 * https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RouteHandler } from './context.ts';
import { MANAGED_IDENTITIES, OFFLINE_IDENTITY_HEADER, TENANT_ID, TOKEN_EXCHANGE_AUDIENCE, type ManagedIdentity } from './directory.ts';

/** Where the emulator serves the platform's identity endpoint (the value of IDENTITY_ENDPOINT is its URL). */
export const IDENTITY_ENDPOINT_PATH = '/msi/token';

/** The one API version of this endpoint that App Service and Container Apps document, and MSAL sends. */
const API_VERSION = '2019-08-01';

/**
 * Answers the platform's token request for one of the emulated platform's user-assigned identities.
 * Errors are the platform's (a status and `{ statusCode, message }`), not Entra's AADSTS ones.
 */
export const identityToken: RouteHandler = async ({ request, url, emulator }) => {
  // The header proves the caller runs inside the app's environment (it guards against SSRF: a request
  // forged through the app cannot set it).
  if (request.headers.get('x-identity-header') !== OFFLINE_IDENTITY_HEADER) {
    return platformError(401, 'The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.');
  }
  const query = url.searchParams;
  if (query.get('api-version') !== API_VERSION) return platformError(400, `Use api-version=${API_VERSION}.`);
  const resource = query.get('resource');
  if (!resource) return platformError(400, 'The resource parameter is required, e.g. resource=api://AzureADTokenExchange.');
  const identity = selectIdentity(query);
  if (identity === 'none') {
    return platformError(400, 'This app has no system-assigned identity: name its user-assigned identity with client_id (or principal_id, mi_res_id).');
  }
  if (!identity) return platformError(400, 'No user-assigned identity with that ID is attached to this app.');
  if (resource !== TOKEN_EXCHANGE_AUDIENCE) {
    // A deviation, listed in the README: the real endpoint issues tokens for any resource.
    return platformError(400, `The emulated platform issues tokens for ${TOKEN_EXCHANGE_AUDIENCE} only (a federated credential's audience).`);
  }

  const now = Math.floor(emulator.now() / 1000);
  const lifetime = emulator.settings.managedIdentityTokenLifetimeSeconds;
  const key = emulator.signingKeys().tenant;
  const accessToken = await new SignJWT({
    aud: TOKEN_EXCHANGE_AUDIENCE,
    iss: emulator.endpoints.issuer,
    // The identity's service principal: what a federated credential names as its subject.
    sub: identity.principalId,
    oid: identity.principalId,
    tid: TENANT_ID,
    azp: identity.clientId,
    appid: identity.clientId,
    idtyp: 'app',
    ver: '2.0',
    iat: now,
    nbf: now,
    exp: now + lifetime,
    uti: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
  emulator.emit({ code: 'managed-identity-token-issued', clientId: identity.clientId, resource });
  return Response.json(
    { access_token: accessToken, expires_on: String(now + lifetime), resource, token_type: 'Bearer', client_id: identity.clientId },
    { headers: { 'cache-control': 'no-store' } },
  );
};

/** The identity the query names; `'none'` when it names none (a system-assigned identity was asked for). */
function selectIdentity(query: URLSearchParams): ManagedIdentity | 'none' | undefined {
  const byClientId = query.get('client_id');
  const byPrincipalId = query.get('principal_id') ?? query.get('object_id');
  const byResourceId = query.get('mi_res_id');
  if (!byClientId && !byPrincipalId && !byResourceId) return 'none';
  return Object.values(MANAGED_IDENTITIES).find(
    (identity: ManagedIdentity) =>
      identity.clientId === byClientId || identity.principalId === byPrincipalId || (byResourceId !== null && byResourceId.endsWith(`/${identity.name}`)),
  );
}

function platformError(status: number, message: string): Response {
  return Response.json({ statusCode: status, message }, { status });
}
