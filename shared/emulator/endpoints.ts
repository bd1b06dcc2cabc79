/**
 * The URLs of one tenant's v2.0 endpoints, built in one place for both hosts that serve them: real
 * Entra ID (`https://login.microsoftonline.com`) and the emulator (`http://localhost:3100` by default).
 * The paths are Entra's; the emulator's router serves the same ones (see entra.ts).
 */
import { TENANT_ID } from './directory.ts';

/** Real Entra ID's sign-in host (the public cloud). */
export const ENTRA_HOST = 'https://login.microsoftonline.com';

/**
 * Each endpoint's path below `/{tenant}`, as on login.microsoftonline.com. The emulator's route table
 * is built from these, so a URL this module builds is always one the emulator serves.
 */
export const TENANT_PATHS = {
  openIdConfiguration: '/v2.0/.well-known/openid-configuration',
  jwks: '/discovery/v2.0/keys',
  authorize: '/oauth2/v2.0/authorize',
  token: '/oauth2/v2.0/token',
  deviceCode: '/oauth2/v2.0/devicecode',
  logout: '/oauth2/v2.0/logout',
} as const;

/** One tenant's endpoint URLs (absolute, no trailing slash). */
export interface TenantEndpoints {
  /** `{host}/{tenant}`: what MSAL calls the authority. */
  authority: string;
  /** `{host}/{tenant}/v2.0`: the `iss` of v2.0 tokens, and the OAuth authorization server's identifier. */
  issuer: string;
  /** The OpenID Connect discovery document, `{issuer}/.well-known/openid-configuration`. */
  openIdConfiguration: string;
  /** The tenant's signing keys (JWKS). */
  jwks: string;
  /** The authorization endpoint: the sign-in page. */
  authorize: string;
  /** The token endpoint. */
  token: string;
  /** The device authorization endpoint (RFC 8628). */
  deviceCode: string;
  /** The end-session endpoint (sign-out). */
  logout: string;
}

/**
 * Builds a tenant's endpoint URLs under a host. Only the host's origin counts: a path on it is ignored.
 *
 * @param host The origin that serves the endpoints, e.g. {@link ENTRA_HOST} or the emulator's URL.
 * @param tenant The tenant ID (or domain). Defaults to the emulated tenant's ID.
 *
 * @example
 * ```ts
 * tenantEndpoints('http://localhost:3100').token
 * // 'http://localhost:3100/7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c43/oauth2/v2.0/token'
 * tenantEndpoints(ENTRA_HOST, tenantId).issuer
 * // 'https://login.microsoftonline.com/<tenantId>/v2.0'
 * ```
 */
export function tenantEndpoints(host: string | URL, tenant: string = TENANT_ID): TenantEndpoints {
  const authority = `${new URL(host).origin}/${tenant}`;
  return {
    authority,
    issuer: `${authority}/v2.0`,
    openIdConfiguration: `${authority}${TENANT_PATHS.openIdConfiguration}`,
    jwks: `${authority}${TENANT_PATHS.jwks}`,
    authorize: `${authority}${TENANT_PATHS.authorize}`,
    token: `${authority}${TENANT_PATHS.token}`,
    deviceCode: `${authority}${TENANT_PATHS.deviceCode}`,
    logout: `${authority}${TENANT_PATHS.logout}`,
  };
}
