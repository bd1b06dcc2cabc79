/**
 * The emulator as lesson 5's hosting platform and as Entra ID checking a federated credential: the
 * platform's identity endpoint (App Service / Container Apps style), and the token endpoint accepting
 * a managed identity's token as the MCP API's client assertion only when issuer, subject and audience
 * match the API app's federated credential, with Entra's AADSTS code for each mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { APPS, MANAGED_IDENTITIES, OFFLINE_IDENTITY_HEADER, TOKEN_EXCHANGE_AUDIENCE, type ManagedIdentity } from '../../shared/emulator/directory.ts';
import { clock, emulator } from '../support/lab.ts';

const IDENTITY_ENDPOINT = `${emulator.origin}/msi/token`;

/** A request to the identity endpoint; `header` null sends no X-IDENTITY-HEADER. */
function askPlatform(query: Record<string, string>, header: string | null = OFFLINE_IDENTITY_HEADER): Promise<Response> {
  const url = new URL(IDENTITY_ENDPOINT);
  for (const [name, value] of Object.entries({ 'api-version': '2019-08-01', resource: TOKEN_EXCHANGE_AUDIENCE, ...query })) url.searchParams.set(name, value);
  return fetch(url, { headers: header === null ? {} : { 'x-identity-header': header } });
}

async function identityToken(identity: ManagedIdentity = MANAGED_IDENTITIES.mcpServer): Promise<string> {
  const response = await askPlatform({ client_id: identity.clientId });
  expect(response.status, `the identity endpoint should answer 200: ${await response.clone().text()}`).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A client credentials request of `clientId` with `assertion` as its client assertion. */
interface TokenReply {
  status: number;
  body: { access_token?: string; error?: string; error_codes?: number[]; error_description?: string };
}

async function tokenRequest(assertion: string, clientId: string = APPS.mcpApi.clientId): Promise<TokenReply> {
  const response = await fetch(emulator.endpoints.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  return { status: response.status, body: (await response.json()) as TokenReply['body'] };
}

describe('the platform identity endpoint (App Service / Container Apps style)', () => {
  it('issues a user-assigned identity a token for api://AzureADTokenExchange: sub and oid are its principal ID, signed by the tenant', async () => {
    const response = await askPlatform({ client_id: MANAGED_IDENTITIES.mcpServer.clientId });
    const body = (await response.json()) as { access_token: string; expires_on: string; resource: string; token_type: string; client_id: string };
    expect(response.status).toBe(200);
    expect(body.resource).toBe(TOKEN_EXCHANGE_AUDIENCE);
    expect(body.client_id).toBe(MANAGED_IDENTITIES.mcpServer.clientId);
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(emulator.jwks()), { issuer: emulator.endpoints.issuer, audience: TOKEN_EXCHANGE_AUDIENCE });
    expect(payload.sub, 'a federated credential names the identity by its object (principal) ID').toBe(MANAGED_IDENTITIES.mcpServer.principalId);
    expect(Number(body.expires_on), 'expires_on is the token\'s exp, in epoch seconds').toBe(payload.exp);
  });

  it('refuses a request without the right X-IDENTITY-HEADER (401), a missing api-version, a system-assigned identity, an unknown one, and other resources (400)', async () => {
    expect((await askPlatform({ client_id: MANAGED_IDENTITIES.mcpServer.clientId }, null)).status, 'no header').toBe(401);
    expect((await askPlatform({ client_id: MANAGED_IDENTITIES.mcpServer.clientId }, 'guessed')).status, 'a wrong header').toBe(401);
    expect((await askPlatform({ client_id: MANAGED_IDENTITIES.mcpServer.clientId, 'api-version': '2017-09-01' })).status, 'an old API version').toBe(400);
    expect((await askPlatform({})).status, 'no user-assigned identity named (the app has no system-assigned one)').toBe(400);
    expect((await askPlatform({ client_id: APPS.mcpApi.clientId })).status, 'an app registration is not a managed identity').toBe(400);
    expect((await askPlatform({ client_id: MANAGED_IDENTITIES.mcpServer.clientId, resource: 'https://graph.microsoft.com' })).status, 'only the token exchange audience').toBe(400);
  });
});

describe('a managed identity as a federated identity credential', () => {
  it('accepts the trusted identity\'s token as the MCP API\'s client assertion', async () => {
    const { status, body } = await tokenRequest(await identityToken());
    expect(status, JSON.stringify(body)).toBe(200);
    expect(decodeJwt(body.access_token!).appid, 'the token is issued to the MCP API, whose credential the identity stood in for').toBe(APPS.mcpApi.clientId);
  });

  it('refuses an identity the app does not trust (AADSTS700213: subject)', async () => {
    const { status, body } = await tokenRequest(await identityToken(MANAGED_IDENTITIES.reportJob));
    expect([status, body.error, body.error_codes]).toEqual([401, 'invalid_client', [700213]]);
    expect(body.error_description).toContain(MANAGED_IDENTITIES.reportJob.principalId);
  });

  it('refuses another issuer (AADSTS700211) and another audience (AADSTS700212)', async () => {
    const base = { client: APPS.daemon.clientId, scope: `${APPS.mcpApi.clientId}/.default` };
    const otherIssuer = await emulator.issueAccessToken({ ...base, claims: { iss: 'https://token.actions.githubusercontent.com', sub: MANAGED_IDENTITIES.mcpServer.principalId, aud: TOKEN_EXCHANGE_AUDIENCE } });
    const issuerReply = await tokenRequest(otherIssuer);
    expect([issuerReply.status, issuerReply.body.error_codes]).toEqual([401, [700211]]);
    const otherAudience = await emulator.issueAccessToken({ ...base, claims: { sub: MANAGED_IDENTITIES.mcpServer.principalId, aud: 'api://somewhere-else' } });
    const audienceReply = await tokenRequest(otherAudience);
    expect([audienceReply.status, audienceReply.body.error_codes]).toEqual([401, [700212]]);
  });

  it('refuses an expired assertion (AADSTS700024), and any assertion for an app without federated credentials (AADSTS70021)', async () => {
    const token = await identityToken();
    expect((await tokenRequest(token, APPS.daemon.clientId)).body.error_codes, 'the daemon trusts no identity').toEqual([70021]);
    clock.advance(emulator.settings.managedIdentityTokenLifetimeSeconds + 600);
    const expired = await tokenRequest(token);
    expect([expired.status, expired.body.error, expired.body.error_codes]).toEqual([401, 'invalid_client', [700024]]);
  });
});
