/**
 * Application ID URIs match exactly, as in Entra ID: a scope prefix or a `resource` (RFC 8707) finds
 * an API only by one of its identifier URIs character for character, never by the same path on another
 * port, with a trailing slash or in another case. Servers on free ports register the URI they serve.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { APPS, TENANT_ID } from '../../shared/emulator/directory.ts';
import { createEntraEmulator } from '../../shared/emulator/entra.ts';
import { emulator, offlineConfig } from '../support/lab.ts';
import { authorizeUrl, expectEntraError, pkce, postForm, tenantEndpoints, type TokenReply } from '../support/oauth.ts';

const endpoints = tenantEndpoints(offlineConfig.emulatorUrl);
/** The MCP API's Application ID URI in the test tenant, http://localhost:3001/mcp. */
const API_URI = APPS.mcpApi.api.identifierUris[0];
const OTHER_PORT = 'http://localhost:3002/mcp';

/** The daemon's client credentials request, with `extra` parameters (a `resource`). */
function daemonToken(scope: string, extra: Record<string, string> = {}): Promise<TokenReply> {
  return postForm(endpoints.token, { grant_type: 'client_credentials', client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope, ...extra });
}

/** Where the authorization endpoint sends the browser: the error a client gets, or none. */
async function authorizeError(params: Record<string, string>): Promise<{ error: string | null; description: string | null }> {
  const url = authorizeUrl(endpoints.authorize, {
    client_id: APPS.mcpClient.clientId,
    response_type: 'code',
    redirect_uri: 'http://localhost:49152/callback',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...params,
  });
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (!location) return { error: null, description: null };
  const query = new URL(location).searchParams;
  return { error: query.get('error'), description: query.get('error_description') };
}

describe('Application ID URIs match exactly, as in Entra ID', () => {
  it('issues a token for the exact identifier URI, as a scope prefix and as resource', async () => {
    const reply = await daemonToken(`${API_URI}/.default`, { resource: API_URI });
    expect(reply.status, `${API_URI}/.default with resource=${API_URI}: ${JSON.stringify(reply.body)}`).toBe(200);
    expect(decodeJwt(reply.body.access_token!).aud, 'a v2 token for the API names its client ID').toBe(APPS.mcpApi.clientId);
  });

  it('refuses the same path on another port: AADSTS500011 as a scope prefix, AADSTS9010010 as resource', async () => {
    const byScope = await daemonToken(`${OTHER_PORT}/.default`);
    expectEntraError(byScope, { status: 400, error: 'invalid_resource', code: 500011 }, 'a scope for an identifier URI no app has');
    expect(byScope.body.error_description, 'Entra names the principal it did not find and the tenant').toContain(`resource principal named ${OTHER_PORT} was not found in the tenant named ${TENANT_ID}`);

    const byResource = await daemonToken(`${API_URI}/.default`, { resource: OTHER_PORT });
    expectEntraError(byResource, { status: 400, error: 'invalid_target', code: 9010010 }, 'a resource that is no identifier URI of the scopes\' app');

    const signIn = await authorizeError({ scope: `${API_URI}/tools.read openid`, resource: OTHER_PORT });
    expect(signIn.error, 'the sign-in for a resource on another port is refused before any page').toBe('invalid_target');
    expect(signIn.description).toMatch(/^AADSTS9010010:/);
  });

  it('refuses a trailing slash and another case (Entra compares character for character)', async () => {
    // The trailing slash: what MCP clients that send new URL(resource).href get from Entra (AADSTS9010010).
    expectEntraError(await daemonToken(`${API_URI}/.default`, { resource: `${API_URI}/` }), { error: 'invalid_target', code: 9010010 }, 'resource with a trailing slash');
    expectEntraError(await daemonToken(`${API_URI}//.default`), { error: 'invalid_resource', code: 500011 }, 'scope prefix with a trailing slash');
    // Case: strict, as the lesson text asks (same lower-case host); see the README's deviations.
    const upper = API_URI.replace('localhost', 'LOCALHOST').replace('/mcp', '/MCP');
    expectEntraError(await daemonToken(`${upper}/.default`), { error: 'invalid_resource', code: 500011 }, 'scope prefix in another case');
    expectEntraError(await daemonToken(`${API_URI}/.default`, { resource: upper }), { error: 'invalid_target', code: 9010010 }, 'resource in another case');
  });

  it('still finds an API by its client ID and its api:// URI', async () => {
    for (const scope of [`${APPS.mcpApi.clientId}/.default`, `api://${APPS.mcpApi.clientId}/.default`]) {
      const reply = await daemonToken(scope);
      expect(reply.status, `${scope}: ${JSON.stringify(reply.body)}`).toBe(200);
    }
  });
});

describe('registering the URI a run serves', () => {
  it('addApiAppIdUri: a server on a free port gets tokens for its own URL until it stops', async () => {
    const own = 'http://localhost:49321/mcp';
    expectEntraError(await daemonToken(`${own}/.default`), { error: 'invalid_resource', code: 500011 }, 'before it is registered');
    const unregister = emulator.addApiAppIdUri(new URL(own));
    try {
      const reply = await daemonToken(`${own}/.default`, { resource: own });
      expect(reply.status, `registered ${own}: ${JSON.stringify(reply.body)}`).toBe(200);
      expect((await daemonToken(`${API_URI}/.default`)).status, 'the tenant\'s own URI stays registered').toBe(200);
    } finally {
      unregister();
    }
    expectEntraError(await daemonToken(`${own}/.default`), { error: 'invalid_resource', code: 500011 }, 'after it is removed');
  });

  it('apiAppIdUri: an emulator for a lesson on another port registers that MCP URL instead of port 3001', async () => {
    const lesson = await createEntraEmulator({ url: 'http://localhost:4399', apiAppIdUri: new URL('http://localhost:4321/mcp') });
    const token = (scope: string) =>
      lesson.handle(
        new Request(tenantEndpoints(new URL(lesson.origin)).token, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: APPS.daemon.clientId, client_secret: APPS.daemon.secrets[0], scope }),
        }),
      );
    expect((await token('http://localhost:4321/mcp/.default')).status, 'the run\'s MCP URL').toBe(200);
    const old = (await (await token(`${API_URI}/.default`)).json()) as { error_codes?: number[] };
    expect(old.error_codes, 'port 3001 is not this run\'s URI').toEqual([500011]);
  });
});
