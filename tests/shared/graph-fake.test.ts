/**
 * The Microsoft Graph fake at https://graph.microsoft.com: it answers as the token's user, checks
 * tokens the way Graph does (audience, signature, lifetime, then scopes), answers with Graph-shaped
 * errors, and fails on purpose when a test asks it to.
 */
import { describe, expect, it } from 'vitest';
import { APPS, findUser } from '../../shared/emulator/directory.ts';
import { clock, emulator, graph, offlineConfig } from '../support/lab.ts';

const ME = `${offlineConfig.graphBaseUrl}/me`;
const SEND_MAIL = `${offlineConfig.graphBaseUrl}/me/sendMail`;
const ada = findUser('ada')!;
const grace = findUser('grace')!;

/** A delegated Graph token, as the public client of lesson 2 would hold. */
function graphToken(user: string, scope = 'User.Read Mail.Send'): Promise<string> {
  return emulator.issueAccessToken({ client: APPS.publicClient.clientId, user, scope });
}

function getMe(token?: string, query = ''): Promise<Response> {
  return fetch(`${ME}${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

function sendMail(token: string, subject = 'Quarterly numbers', to = 'grace@contoso.test'): Promise<Response> {
  return fetch(SEND_MAIL, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      message: { subject, body: { contentType: 'Text', content: 'See attached.' }, toRecipients: [{ emailAddress: { address: to } }] },
    }),
  });
}

interface GraphErrorBody {
  error: { code: string; message: string; innerError: Record<string, string> };
}

async function graphError(response: Response): Promise<GraphErrorBody['error']> {
  const body = (await response.json()) as GraphErrorBody;
  expect(body.error, `Graph errors are { error: { code, message } }; got ${JSON.stringify(body)}`).toBeDefined();
  return body.error;
}

describe('GET /me', () => {
  it('returns the profile of the token\'s user (two users, two profiles)', async () => {
    for (const user of [ada, grace]) {
      const response = await getMe(await graphToken(user.givenName));
      expect(response.status, `/me with ${user.givenName}'s token should be 200`).toBe(200);
      const me = (await response.json()) as Record<string, unknown>;
      expect(me.id, '/me is the user the token was issued for').toBe(user.oid);
      expect(me.displayName, 'displayName of that user').toBe(user.displayName);
      expect(me.userPrincipalName, 'userPrincipalName of that user').toBe(user.userPrincipalName);
      expect(me.jobTitle, 'jobTitle of that user').toBe(user.jobTitle);
    }
  });

  it('honours $select', async () => {
    const response = await getMe(await graphToken('ada'), '?$select=displayName,jobTitle');
    const me = (await response.json()) as Record<string, unknown>;
    const fields = Object.keys(me).filter((key) => !key.startsWith('@odata'));
    expect(fields.sort(), '$select=displayName,jobTitle returns only those fields').toEqual(['displayName', 'jobTitle']);
  });

  it('answers 400 for an app-only token: /me needs a signed-in user', async () => {
    const appOnly = await emulator.issueAccessToken({ client: APPS.daemon.clientId, scope: 'https://graph.microsoft.com/.default' });
    const response = await getMe(appOnly);
    expect(response.status, '/me with an app-only token is a bad request').toBe(400);
    expect((await graphError(response)).code, 'Graph\'s code for it').toBe('BadRequest');
  });
});

describe('POST /me/sendMail', () => {
  it('stores the mail in graph.outbox, from the token\'s user', async () => {
    const response = await sendMail(await graphToken('grace'), 'Compilers');
    expect(response.status, 'sendMail answers 202 Accepted').toBe(202);
    expect(graph.outbox, 'one mail in the outbox').toHaveLength(1);
    expect(graph.outbox[0].from, 'the sender is the token\'s user, whatever the body says').toBe(grace.userPrincipalName);
    expect(graph.outbox[0].to, 'the recipients from toRecipients').toEqual(['grace@contoso.test']);
    expect(graph.outbox[0].subject, 'the subject').toBe('Compilers');
  });

  it('refuses a token without Mail.Send: 403 Authorization_RequestDenied, nothing sent', async () => {
    const response = await sendMail(await graphToken('ada', 'User.Read'));
    expect(response.status, 'a missing scope is 403').toBe(403);
    expect((await graphError(response)).code, 'Graph\'s code for missing permissions').toBe('Authorization_RequestDenied');
    expect(graph.outbox, 'nothing may be sent').toHaveLength(0);
  });

  it('refuses /me with a token that lacks User.Read (403)', async () => {
    const response = await getMe(await graphToken('ada', 'Mail.Send'));
    expect(response.status, '/me needs User.Read').toBe(403);
  });
});

describe('token checks', () => {
  it('refuses a call without a token: 401 InvalidAuthenticationToken with WWW-Authenticate', async () => {
    const response = await getMe();
    expect(response.status, 'no token is 401').toBe(401);
    expect(response.headers.get('www-authenticate'), 'a 401 names the scheme in WWW-Authenticate').toMatch(/^Bearer /);
    expect((await graphError(response)).code, 'Graph\'s code for token problems').toBe('InvalidAuthenticationToken');
  });

  it('refuses a token for our API (wrong audience) with 401', async () => {
    const apiToken = await emulator.issueAccessToken({
      client: APPS.mcpClient.clientId,
      user: 'ada',
      scope: `${offlineConfig.entra.apiAppIdUri}/tools.read`,
    });
    const response = await getMe(apiToken);
    expect(response.status, 'passing the caller\'s API token through to Graph must fail').toBe(401);
    expect((await graphError(response)).code, 'an audience problem is InvalidAuthenticationToken').toBe('InvalidAuthenticationToken');
  });

  it('refuses a token with Graph\'s audience that the tenant did not sign for Graph (401)', async () => {
    // Signed with a published tenant key, audience rewritten to Graph: only the Graph key is trusted.
    const forged = await emulator.issueAccessToken({
      client: APPS.mcpClient.clientId,
      user: 'ada',
      scope: `${offlineConfig.entra.apiAppIdUri}/tools.read`,
      claims: { aud: 'https://graph.microsoft.com', scp: 'User.Read' },
    });
    expect((await getMe(forged)).status, 'a token not signed with Graph\'s key is refused').toBe(401);
  });

  it('refuses an expired Graph token with 401', async () => {
    const token = await graphToken('ada');
    clock.advance(3600 + 60);
    const response = await getMe(token);
    expect(response.status, 'an expired token is 401').toBe(401);
    expect((await graphError(response)).message, 'the message says the lifetime failed').toMatch(/expired/i);
  });
});

describe('failNext: a throttled or sick Graph', () => {
  it('answers 429 with Retry-After, then the next call works', async () => {
    const token = await graphToken('ada');
    graph.failNext({ status: 429, retryAfterSeconds: 7 });
    const throttled = await getMe(token);
    expect(throttled.status, 'the injected failure is a 429').toBe(429);
    expect(throttled.headers.get('retry-after'), 'Retry-After says how long to wait').toBe('7');
    expect((await graphError(throttled)).code, 'Graph\'s throttling code').toBe('TooManyRequests');
    expect((await getMe(token)).status, 'the call after the failure works').toBe(200);
  });

  it('answers 503 and 500 when asked, each once', async () => {
    const token = await graphToken('ada');
    for (const status of [503, 500] as const) {
      graph.failNext({ status });
      expect((await getMe(token)).status, `failNext({ status: ${status} })`).toBe(status);
      expect((await getMe(token)).status, `only one call fails after failNext({ status: ${status} })`).toBe(200);
    }
  });

  it('fails several calls with times', async () => {
    const token = await graphToken('ada');
    graph.failNext({ status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await getMe(token)).status);
    expect(statuses, 'times: 2 fails two calls').toEqual([503, 503, 200]);
  });
});

describe('graph.calls', () => {
  it('records who called, with what token, and the outcome', async () => {
    const adaToken = await graphToken('ada');
    await getMe(adaToken);
    await getMe(await graphToken('grace', 'Mail.Send'));
    await getMe();
    expect(graph.calls, 'three calls recorded').toHaveLength(3);
    const [first, second, third] = graph.calls;
    expect(first, 'the first call: Ada, the public client, 200').toMatchObject({
      method: 'GET',
      path: '/v1.0/me',
      status: 200,
      oid: ada.oid,
      appid: APPS.publicClient.clientId,
      aud: 'https://graph.microsoft.com',
      token: adaToken,
    });
    expect(second, 'the second call: Grace without User.Read, 403').toMatchObject({ oid: grace.oid, status: 403, scp: 'Mail.Send' });
    expect(third.status, 'the third call had no token').toBe(401);
    expect(third.token, 'no token recorded for an anonymous call').toBeUndefined();
  });
});
