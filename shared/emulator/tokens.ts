/**
 * Minting the tokens of the emulated tenant, with the claim names of real Entra ID.
 *
 * - Access tokens for our APIs are v2.0 JWTs (`aud` = the API's client ID), signed with a published key.
 *   https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * - Access tokens for Microsoft Graph are v1.0 JWTs with a `nonce` header, signed with a key that is
 *   published nowhere: only Graph (here: the Graph fake) can check them.
 * - ID tokens and `client_info` are what MSAL needs to build an account.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { GRAPH_APP_ID, GRAPH_RESOURCE, type AppRegistration, type TestUser } from './directory.ts';
import type { SigningKey } from './keys.ts';

/**
 * How the client authenticated at the token endpoint, as Entra writes it into `azpacr` (v2.0) and
 * `appidacr` (v1.0) tokens: `0` a public client (no credential), `1` a client secret, `2` a certificate
 * (a signed client assertion).
 */
export const ClientAuthMethod = { none: 0, secret: 1, certificate: 2 } as const;

/** One of the {@link ClientAuthMethod} values: `0`, `1` or `2`. */
export type ClientAuthMethod = (typeof ClientAuthMethod)[keyof typeof ClientAuthMethod];

/** What every new token of the tenant shares. */
export interface TokenContext {
  issuer: string;
  tenantId: string;
  /** Epoch seconds. */
  now: number;
  lifetimeSeconds: number;
}

/** What an access token is for, and for whom. */
export interface AccessTokenRequest {
  resource: AppRegistration;
  client: AppRegistration;
  /** The signed-in user; absent for app-only tokens. */
  user?: TestUser;
  /** Delegated scopes (`scp`), for user tokens. */
  scopes: string[];
  /** App roles (`roles`). */
  roles: string[];
  /** How the client authenticated (`azpacr`). */
  clientAuthMethod: ClientAuthMethod;
}

/** A stable per-app object ID for an app's service principal (the `oid` of app-only tokens). */
export function servicePrincipalId(clientId: string): string {
  const hex = createHash('sha256').update(`sp:${clientId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `sub` is pairwise: the same user has a different `sub` in every app. */
export function pairwiseSubject(oid: string, clientId: string): string {
  return createHash('sha256').update(`${oid}:${clientId}`).digest('base64url').slice(0, 43);
}

/** Signs an access token: a v1.0 Graph token with the Graph key, else a v2.0 token with the tenant key. */
export async function mintAccessToken(request: AccessTokenRequest, context: TokenContext, keys: { tenant: SigningKey; graph: SigningKey }) {
  return request.resource.clientId === GRAPH_APP_ID
    ? mintGraphToken(request, context, keys.graph)
    : mintApiToken(request, context, keys.tenant);
}

async function mintApiToken(request: AccessTokenRequest, context: TokenContext, key: SigningKey): Promise<string> {
  const { user, client, resource } = request;
  const claims: JWTPayload = {
    aud: resource.clientId,
    iss: context.issuer,
    iat: context.now,
    nbf: context.now,
    exp: context.now + context.lifetimeSeconds,
    azp: client.clientId,
    azpacr: String(request.clientAuthMethod),
    tid: context.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
  };
  if (user) {
    Object.assign(claims, {
      name: user.displayName,
      oid: user.oid,
      preferred_username: user.userPrincipalName,
      sub: pairwiseSubject(user.oid, resource.clientId),
      scp: request.scopes.join(' '),
    });
  } else {
    const sp = servicePrincipalId(client.clientId);
    Object.assign(claims, { oid: sp, sub: sp });
    // Only as a configured optional claim, as in Entra: https://learn.microsoft.com/entra/identity-platform/optional-claims-reference
    if (resource.api?.accessTokenOptionalClaims?.includes('idtyp')) claims.idtyp = 'app';
  }
  if (request.roles.length > 0) claims.roles = request.roles;
  return sign(claims, key, { typ: 'JWT' });
}

async function mintGraphToken(request: AccessTokenRequest, context: TokenContext, key: SigningKey): Promise<string> {
  const { user, client } = request;
  const claims: JWTPayload = {
    aud: GRAPH_RESOURCE,
    iss: `https://sts.windows.net/${context.tenantId}/`,
    iat: context.now,
    nbf: context.now,
    exp: context.now + context.lifetimeSeconds,
    app_displayname: client.displayName,
    appid: client.clientId,
    appidacr: String(request.clientAuthMethod),
    idtyp: user ? 'user' : 'app',
    tid: context.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
  };
  if (user) {
    Object.assign(claims, {
      name: user.displayName,
      oid: user.oid,
      scp: request.scopes.join(' '),
      sub: pairwiseSubject(user.oid, GRAPH_APP_ID),
      unique_name: user.userPrincipalName,
      upn: user.userPrincipalName,
    });
  } else {
    const sp = servicePrincipalId(client.clientId);
    Object.assign(claims, { oid: sp, sub: sp, roles: request.roles });
  }
  return sign(claims, key, { typ: 'JWT', nonce: randomBytes(32).toString('base64url') });
}

/** Signs an ID token for a user and an app, valid for an hour, with `nonce` when the sign-in had one. */
export async function mintIdToken(
  user: TestUser,
  client: AppRegistration,
  context: TokenContext,
  key: SigningKey,
  nonce?: string,
): Promise<string> {
  const claims: JWTPayload = {
    aud: client.clientId,
    iss: context.issuer,
    iat: context.now,
    nbf: context.now,
    exp: context.now + 3600,
    name: user.displayName,
    oid: user.oid,
    preferred_username: user.userPrincipalName,
    sub: pairwiseSubject(user.oid, client.clientId),
    tid: context.tenantId,
    uti: randomUUID(),
    ver: '2.0',
  };
  if (nonce) claims.nonce = nonce;
  return sign(claims, key, { typ: 'JWT' });
}

/** MSAL's `client_info`: base64url of `{ uid, utid }`, the user's home account. */
export function clientInfo(user: TestUser, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: user.oid, utid: tenantId })).toString('base64url');
}

function sign(claims: JWTPayload, key: SigningKey, header: Record<string, string>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header }).sign(key.privateKey);
}
