/**
 * MSAL against the emulator, with only configuration changed: the promise that lesson code written
 * for real Entra ID runs offline unchanged.
 */
import { ConfidentialClientApplication, PublicClientApplication, type AuthenticationResult } from '@azure/msal-node';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { APPS, findUser } from '../../shared/emulator/directory.ts';
import { approveDeviceCode, signIn } from '../support/browser.ts';
import { emulator, graph, offlineConfig, recordEvents } from '../support/lab.ts';

const msalAuthority = offlineConfig.entra.msal;

function publicClient() {
  return new PublicClientApplication({ auth: { clientId: APPS.publicClient.clientId, ...msalAuthority } });
}

/** Signs in interactively, driving the sign-in page as the browser would. */
async function interactive(app: PublicClientApplication, user = 'ada'): Promise<AuthenticationResult> {
  return app.acquireTokenInteractive({
    scopes: ['User.Read'],
    openBrowser: async (url) => {
      await signIn(url, user);
    },
    successTemplate: 'Signed in. You can close this window.',
  });
}

describe('MSAL PublicClientApplication against the emulator', () => {
  it('signs in interactively (loopback, form_post, PKCE) and gets a Graph token for the chosen user', async () => {
    const app = publicClient();
    const result = await interactive(app, 'grace');
    expect(result.account?.username).toBe(findUser('grace')!.userPrincipalName);
    expect(decodeJwt(result.accessToken).aud).toBe('https://graph.microsoft.com');
    expect(result.scopes).toContain('User.Read');
  });

  it('then acquires silently from its cache, and refreshes when asked to', async () => {
    const app = publicClient();
    await interactive(app);
    const [account] = await app.getAllAccounts();
    expect(account, 'MSAL should have built an account from client_info and the ID token').toBeDefined();
    const cached = await app.acquireTokenSilent({ account, scopes: ['User.Read'] });
    expect(cached.fromCache).toBe(true);
    const seen = recordEvents();
    const refreshed = await app.acquireTokenSilent({ account, scopes: ['User.Read'], forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect(seen.filter((event) => event.code === 'token-issued' && event.grant === 'refresh_token')).toHaveLength(1);
  });

  it('signs in with the device code flow', async () => {
    const app = publicClient();
    const result = await app.acquireTokenByDeviceCode({
      scopes: ['User.Read'],
      deviceCodeCallback: (response) => {
        void approveDeviceCode(response.verificationUri, response.userCode, 'ada');
      },
    });
    expect(result?.account?.username).toBe('ada@contoso.test');
  });

  it('calls Graph /me with the token it got', async () => {
    const result = await interactive(publicClient(), 'ada');
    const me = await fetch('https://graph.microsoft.com/v1.0/me', { headers: { authorization: `Bearer ${result.accessToken}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { displayName: string }).displayName).toBe('Ada Lovelace');
    expect(graph.calls.at(-1)?.oid).toBe(findUser('ada')!.oid);
  });
});

describe('MSAL ConfidentialClientApplication against the emulator', () => {
  const api = () =>
    new ConfidentialClientApplication({
      auth: { clientId: APPS.mcpApi.clientId, clientSecret: offlineConfig.entra.apiClientSecret, ...msalAuthority },
    });

  it('gets an app-only token with client credentials (.default) that verifies against the JWKS', async () => {
    const daemon = new ConfidentialClientApplication({
      auth: { clientId: APPS.daemon.clientId, clientSecret: APPS.daemon.secrets[0], ...msalAuthority },
    });
    const result = await daemon.acquireTokenByClientCredential({ scopes: [`${offlineConfig.entra.apiAppIdUri}/.default`] });
    const { payload } = await jwtVerify(result!.accessToken, createRemoteJWKSet(new URL(offlineConfig.entra.jwksUri)), {
      issuer: offlineConfig.entra.issuer,
      audience: APPS.mcpApi.clientId,
    });
    expect(payload.roles).toEqual(['Tools.Read.All']);
    expect(payload.scp).toBeUndefined();
    // Entra adds idtyp only when the API configures it as an optional claim; ours does not.
    expect(payload.idtyp).toBeUndefined();
  });

  it('exchanges a user token for a Graph token On-Behalf-Of the user', async () => {
    const incoming = await emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'grace', scope: `${offlineConfig.entra.apiAppIdUri}/tools.read` });
    const result = await api().acquireTokenOnBehalfOf({ oboAssertion: incoming, scopes: ['https://graph.microsoft.com/User.Read'] });
    const claims = decodeJwt(result!.accessToken);
    expect(claims.aud).toBe('https://graph.microsoft.com');
    expect(claims.oid).toBe(findUser('grace')!.oid);
    expect(claims.appid).toBe(APPS.mcpApi.clientId);
  });

  it('refuses On-Behalf-Of for a token issued to another app (AADSTS50013)', async () => {
    const graphToken = await emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user: 'grace', scope: 'User.Read' });
    await expect(api().acquireTokenOnBehalfOf({ oboAssertion: graphToken, scopes: ['User.Read'] })).rejects.toThrow(/AADSTS50013/);
  });

  it('rejects a wrong client secret with AADSTS7000215', async () => {
    const wrong = new ConfidentialClientApplication({ auth: { clientId: APPS.daemon.clientId, clientSecret: 'nope', ...msalAuthority } });
    await expect(wrong.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })).rejects.toThrow(/AADSTS7000215/);
  });
});
