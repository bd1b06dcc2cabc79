/**
 * Consent, as in a tenant where users may not consent for themselves: a client gets a delegated
 * permission on a resource only when the resource pre-authorizes the client (Expose an API →
 * Authorized client applications) or an administrator consented for the client (API permissions →
 * Grant admin consent). Otherwise Entra ID shows "Need admin approval" (AADSTS90094) at sign-in and
 * answers AADSTS65001 to a token request that cannot show a prompt (a refresh, On-Behalf-Of).
 *
 * https://learn.microsoft.com/entra/identity/enterprise-apps/configure-user-consent
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow#gaining-consent-for-the-middle-tier-application
 */
import type { AppRegistration } from './directory.ts';
import { Errors } from './errors.ts';
import { grantedPermissions, OIDC_SCOPES, type ResolvedScopes } from './scopes.ts';

/**
 * The permissions of `resolved` that `client` may not have: neither pre-authorized nor consented.
 * Sign-in alone (only OpenID Connect scopes) and `.default` (exactly what was consented) need nothing.
 *
 * @param scopeParam The request's `scope`, to tell an explicit permission from the Graph `User.Read`
 *   that `resolveScopes` assumes for a sign-in without one.
 */
export function unconsentedPermissions(client: AppRegistration, resolved: ResolvedScopes, scopeParam: string): string[] {
  const asksForPermissions = scopeParam.split(/\s+/).some((scope) => scope && !OIDC_SCOPES.includes(scope.toLowerCase()));
  if (!asksForPermissions || resolved.isDefault) return [];
  if (resolved.resource.preAuthorizedClientIds?.includes(client.clientId)) return [];
  const consented = client.adminConsent?.[resolved.resource.clientId] ?? [];
  return grantedPermissions(resolved, client).filter((permission) => !consented.some((name) => name.toLowerCase() === permission.toLowerCase()));
}

/**
 * Throws AADSTS65001 when a token request (no prompt possible) asks for a permission without consent.
 *
 * @throws EntraError `invalid_grant`, AADSTS65001.
 */
export function requireConsent(client: AppRegistration, resolved: ResolvedScopes, scopeParam: string): void {
  const missing = unconsentedPermissions(client, resolved, scopeParam);
  if (missing.length > 0) throw Errors.consentMissing(client.clientId, client.displayName, resolved.resource.displayName, missing);
}
