/**
 * Discovery and keys: the tenant's OpenID Connect configuration and its JWKS, as Entra serves them.
 * https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
 */
import type { Exchange } from './context.ts';
import type { TenantEndpoints } from './endpoints.ts';

/**
 * The OpenID Connect discovery document of the tenant whose endpoints these are. Like Entra's, it has
 * no `code_challenge_methods_supported` and no `registration_endpoint`.
 */
export function openIdConfiguration(endpoints: TenantEndpoints) {
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorize,
    token_endpoint: endpoints.token,
    device_authorization_endpoint: endpoints.deviceCode,
    end_session_endpoint: endpoints.logout,
    jwks_uri: endpoints.jwks,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'preferred_username', 'oid', 'tid', 'ver'],
    request_uri_parameter_supported: false,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    msgraph_host: 'graph.microsoft.com',
  };
}

/** `GET /{tenant}/v2.0/.well-known/openid-configuration`. */
export function serveOpenIdConfiguration({ emulator }: Exchange): Response {
  return Response.json(openIdConfiguration(emulator.endpoints));
}

/** `GET /{tenant}/discovery/v2.0/keys`: the JWKS, cacheable for a day as Entra's is. */
export function serveJwks({ emulator }: Exchange): Response {
  return Response.json(emulator.jwks(), { headers: { 'cache-control': 'max-age=86400' } });
}
