/**
 * The token endpoint, `POST /{tenant}/oauth2/v2.0/token`: authenticates the client (clientAuth.ts),
 * then runs the grant that `grant_type` names, each reading its own parameters through a schema.
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redeem-a-code-for-an-access-token
 */
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { authenticateClient, type AuthenticatedClient } from './clientAuth.ts';
import { requireConsent } from './consent.ts';
import type { CodeRecord, DeviceRecord, EmulatorContext, Exchange, RefreshRecord } from './context.ts';
import { TENANT_ID, findUser, type TestUser } from './directory.ts';
import { EntraError, Errors } from './errors.ts';
import { grantedPermissions, resolveScopes, responseScope } from './scopes.ts';
import { ClientAuthMethod, clientInfo, mintAccessToken, mintIdToken } from './tokens.ts';

/** What a grant issued: the token response's fields, and who and what for (for the `token-issued` event). */
interface IssuedTokens {
  /** The access token's resource (client ID). */
  resource: string;
  /** The user's UPN; absent for app-only tokens. */
  user?: string;
  response: Record<string, string | number>;
}

/** One grant type: the authenticated client and the request's form in, tokens (or an EntraError) out. */
type Grant = (client: AuthenticatedClient, form: URLSearchParams, emulator: EmulatorContext) => Promise<IssuedTokens>;

/** A parameter that must be present and not empty. */
const required = z.string().min(1);

/**
 * Reads a grant's parameters. A missing, empty or wrong required parameter is Entra's AADSTS900144,
 * naming the first such parameter in the schema's order.
 */
function parseForm<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, form: URLSearchParams): z.infer<z.ZodObject<Shape>> {
  // form.get(), not Object.fromEntries(form): a repeated parameter counts with its first value.
  const values = Object.fromEntries([...new Set(form.keys())].map((name) => [name, form.get(name)]));
  const result = schema.safeParse(values);
  if (!result.success) throw Errors.missingParameter(String(result.error.issues[0]!.path[0]));
  return result.data;
}

const authorizationCodeForm = z.object({
  code: required,
  // Checked after the code is used up (see below), so it is optional here.
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
});

const authorizationCodeGrant: Grant = async ({ app, method }, form, emulator) => {
  const params = parseForm(authorizationCodeForm, form);
  const record = emulator.store.get<CodeRecord>('codes', params.code);
  if (!record) throw Errors.codeInvalid();
  if (record.clientId !== app.clientId) throw Errors.codeForOtherClient();
  if (record.redeemed) throw Errors.codeRedeemed();
  if (emulator.now() > record.expiresAt) throw Errors.codeExpired();
  // Any redemption attempt uses the code up, so a wrong redirect URI or verifier cannot be retried.
  emulator.store.update('codes', params.code, { ...record, redeemed: true });
  if (!params.redirect_uri) throw Errors.missingParameter('redirect_uri');
  if (params.redirect_uri !== record.redirectUri) throw Errors.replyAddressMismatch(params.redirect_uri, record.redirectUri);
  if (record.codeChallenge) {
    const challenge = createHash('sha256').update(params.code_verifier ?? '').digest('base64url');
    if (challenge !== record.codeChallenge) throw Errors.pkceMismatch();
  }
  const user = findUser(record.userOid)!;
  return userTokens(emulator, { client: { app, method }, user, scope: record.scope, resource: record.resource, nonce: record.nonce });
};

const refreshTokenForm = z.object({ refresh_token: required, scope: z.string().optional(), resource: z.string().optional() });

const refreshTokenGrant: Grant = async ({ app, method }, form, emulator) => {
  const params = parseForm(refreshTokenForm, form);
  const record = emulator.store.get<RefreshRecord>('refreshTokens', params.refresh_token);
  if (!record) throw Errors.refreshTokenInvalid();
  if (record.clientId !== app.clientId) throw Errors.refreshTokenOtherClient();
  if (record.used) throw Errors.refreshTokenUsed();
  if (emulator.now() > record.expiresAt) throw Errors.codeExpired();
  if (record.revoked) throw Errors.refreshTokenRevoked();
  emulator.store.update('refreshTokens', params.refresh_token, { ...record, used: true });
  const user = findUser(record.userOid)!;
  // A refresh may ask for another resource (Entra refresh tokens are multi-resource); without `scope`, the original one.
  const scope = params.scope ?? record.scope;
  const resource = params.scope ? params.resource : record.resource;
  return userTokens(emulator, { client: { app, method }, user, scope, resource, forceRefreshToken: true });
};

const clientCredentialsForm = z.object({ scope: required, resource: z.string().optional() });

const clientCredentialsGrant: Grant = async ({ app, method }, form, emulator) => {
  if (method === ClientAuthMethod.none) throw Errors.credentialsRequired();
  const params = parseForm(clientCredentialsForm, form);
  const resolved = resolveScopes(params.scope, params.resource, emulator.identifierUris);
  if (!resolved.isDefault) throw Errors.clientCredentialsNeedDefault();
  const roles = app.appRoleAssignments?.[resolved.resource.clientId] ?? [];
  const accessToken = await mintAccessToken(
    { resource: resolved.resource, client: app, scopes: [], roles: [...roles], clientAuthMethod: method },
    emulator.tokenContext(),
    emulator.signingKeys(),
  );
  const lifetime = emulator.settings.accessTokenLifetimeSeconds;
  return {
    resource: resolved.resource.clientId,
    response: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
  };
};

const onBehalfOfForm = z.object({
  requested_token_use: z.literal('on_behalf_of'),
  assertion: required,
  scope: required,
  resource: z.string().optional(),
});

/** On-Behalf-Of: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow */
const onBehalfOfGrant: Grant = async ({ app, method }, form, emulator) => {
  if (method === ClientAuthMethod.none) throw Errors.credentialsRequired();
  const params = parseForm(onBehalfOfForm, form);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(params.assertion, createLocalJWKSet(emulator.jwks()), {
      issuer: emulator.endpoints.issuer,
      algorithms: ['RS256'],
      currentDate: new Date(emulator.now()),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw Errors.assertionExpired();
    throw Errors.assertionInvalid((error as Error).message);
  }
  if (payload.aud !== app.clientId) throw Errors.assertionAudience();
  const user = typeof payload.oid === 'string' && payload.scp ? findUser(payload.oid) : undefined;
  if (!user) throw Errors.assertionNotUser();
  return userTokens(emulator, { client: { app, method }, user, scope: params.scope, resource: params.resource });
};

const deviceCodeForm = z.object({ device_code: required });

const deviceCodeGrant: Grant = async ({ app, method }, form, emulator) => {
  if (app.kind !== 'public' || !app.allowPublicClientFlows) throw Errors.publicFlowsNotAllowed(app.clientId);
  const { device_code: deviceCode } = parseForm(deviceCodeForm, form);
  const record = emulator.store.get<DeviceRecord>('deviceCodes', deviceCode);
  if (!record || record.clientId !== app.clientId || emulator.now() > record.expiresAt) throw Errors.deviceCodeExpired();
  if (record.status === 'pending') throw Errors.authorizationPending();
  emulator.store.delete('deviceCodes', deviceCode);
  if (record.status === 'declined') throw Errors.deviceCodeDeclined();
  const user = findUser(record.userOid!)!;
  return userTokens(emulator, { client: { app, method }, user, scope: record.scope });
};

/** The grants by `grant_type`. Entra accepts `device_code` (what MSAL sends) as well as RFC 8628's URN. */
const GRANTS: ReadonlyMap<string, Grant> = new Map([
  ['authorization_code', authorizationCodeGrant],
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
  ['urn:ietf:params:oauth:grant-type:jwt-bearer', onBehalfOfGrant],
  ['urn:ietf:params:oauth:grant-type:device_code', deviceCodeGrant],
  ['device_code', deviceCodeGrant],
]);

/** `POST /{tenant}/oauth2/v2.0/token`. */
export async function token({ request, emulator }: Exchange): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  const grantType = form.get('grant_type');
  if (!grantType) throw Errors.missingParameter('grant_type');
  const client = await authenticateClient(request, form, emulator);
  const grant = GRANTS.get(grantType);
  if (!grant) throw Errors.unsupportedGrantType(grantType);
  // A browser page sends Origin. Entra lets it redeem a code or refresh token only for a redirect URI
  // of the Single-page application platform, which no app of this tenant has.
  // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
  const origin = request.headers.get('origin');
  if (origin && (grantType === 'authorization_code' || grantType === 'refresh_token')) throw Errors.crossOriginRedemption(origin);
  const issued = await grant(client, form, emulator);
  emulator.emit({ code: 'token-issued', grant: grantType, clientId: client.app.clientId, user: issued.user, resource: issued.resource });
  return Response.json(issued.response, { headers: { 'cache-control': 'no-store', pragma: 'no-cache' } });
}

/** The token endpoint with any method but POST: Entra's AADSTS900561, HTTP 405. */
export function tokenMethodNotAllowed(): never {
  throw new EntraError('invalid_request', 900561, 'The endpoint only accepts POST requests.', 405);
}

/** A user token request, after the grant checked it. */
interface UserTokenRequest {
  client: AuthenticatedClient;
  user: TestUser;
  scope: string;
  resource?: string;
  nonce?: string;
  /** Issue a refresh token even without `offline_access` (a refresh always returns a new one). */
  forceRefreshToken?: boolean;
}

/** The token response for a user: access token, and ID token, refresh token and client_info as asked. */
async function userTokens(emulator: EmulatorContext, request: UserTokenRequest): Promise<IssuedTokens> {
  const { client, user } = request;
  const resolved = resolveScopes(request.scope, request.resource, emulator.identifierUris);
  requireConsent(client.app, resolved, request.scope);
  const granted = grantedPermissions(resolved, client.app);
  const roles = user.apiRoles.filter((role) => resolved.resource.api?.appRoles.includes(role));
  const tokenContext = emulator.tokenContext();
  const accessToken = await mintAccessToken(
    { resource: resolved.resource, client: client.app, user, scopes: granted, roles, clientAuthMethod: client.method },
    tokenContext,
    emulator.signingKeys(),
  );
  const lifetime = emulator.settings.accessTokenLifetimeSeconds;
  const response: Record<string, string | number> = {
    token_type: 'Bearer',
    scope: responseScope(resolved, granted),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: accessToken,
  };
  if (resolved.oidc.includes('offline_access') || request.forceRefreshToken) {
    response.refresh_token = storeRefreshToken(emulator, request);
  }
  if (resolved.oidc.includes('openid')) {
    response.id_token = await mintIdToken(user, client.app, tokenContext, emulator.signingKeys().tenant, request.nonce);
  }
  response.client_info = clientInfo(user, TENANT_ID);
  return { resource: resolved.resource.clientId, user: user.userPrincipalName, response };
}

function storeRefreshToken(emulator: EmulatorContext, request: UserTokenRequest): string {
  const refreshToken = randomBytes(48).toString('base64url');
  const lifetime = emulator.settings.refreshTokenLifetimeSeconds;
  const record: RefreshRecord = {
    clientId: request.client.app.clientId,
    userOid: request.user.oid,
    scope: request.scope,
    resource: request.resource,
    issuedAt: emulator.now(),
    expiresAt: emulator.now() + lifetime * 1000,
    used: false,
  };
  emulator.store.put('refreshTokens', refreshToken, record, lifetime + 3600);
  return refreshToken;
}
