/**
 * Errors shaped like Entra ID's: an OAuth `error` code (RFC 6749 §5.2) plus Entra's own
 * `AADSTS…` number, trace and correlation IDs, so MSAL and learners see what real Entra would send.
 */
import { randomUUID } from 'node:crypto';
import { TENANT_ID } from './directory.ts';

/** An error the emulator answers with, as Entra would: thrown by handlers, turned into a response by the core. */
export class EntraError extends Error {
  constructor(
    /** OAuth error code, e.g. `invalid_grant`. */
    readonly error: string,
    /** Entra's AADSTS number, e.g. 54005. */
    readonly code: number,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`AADSTS${code}: ${description}`);
  }
}

/** `2026-11-26 07:33:21Z`, the format of Entra's `timestamp`. */
export function entraTimestamp(now: number): string {
  return new Date(now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/**
 * The JSON body of an Entra error response.
 *
 * @param now The time of the error, epoch milliseconds.
 * @param correlationId The client's `client-request-id`; a new one when omitted.
 */
export function errorBody(error: EntraError, now: number, correlationId: string = randomUUID()) {
  const traceId = randomUUID();
  const timestamp = entraTimestamp(now);
  return {
    error: error.error,
    error_description: `${error.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [error.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
  };
}

/** The error response itself: {@link errorBody}, the error's HTTP status, `cache-control: no-store`. */
export function errorResponse(error: EntraError, now: number, correlationId?: string | null): Response {
  return Response.json(errorBody(error, now, correlationId ?? undefined), {
    status: error.status,
    headers: { 'cache-control': 'no-store' },
  });
}

/** The errors the emulator raises, named after what went wrong. Codes are Entra's. */
export const Errors = {
  tenantNotFound: (tenant: string) =>
    new EntraError('invalid_tenant', 90002, `Tenant '${tenant}' not found. Check the tenant ID in the URL.`),
  missingParameter: (name: string) =>
    new EntraError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  unknownClient: (clientId: string) =>
    new EntraError(
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory. Check the client ID against the app registration.`,
    ),
  redirectMismatch: (redirectUri: string, clientId: string) =>
    new EntraError(
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    ),
  unsupportedResponseType: (type: string) =>
    new EntraError('unsupported_response_type', 9002325, `The response_type '${type}' is not supported. Use 'code'.`),
  unsupportedGrantType: (type: string) =>
    new EntraError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${type}'.`),
  invalidScope: (detail: string) =>
    new EntraError('invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. ${detail}`),
  multipleResources: () =>
    new EntraError(
      'invalid_scope',
      28000,
      "Provided value for the input parameter scope is not valid because it contains more than one resource. Request one resource's scopes at a time.",
    ),
  resourceNotFound: (resource: string) =>
    new EntraError(
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${TENANT_ID}. ` +
        'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
        'You might have sent your authentication request to the wrong tenant.',
    ),
  resourceMismatch: (resource: string, hint = '') =>
    new EntraError(
      'invalid_target',
      9010010,
      `The resource parameter provided in the request doesn't match with the requested scopes. resource='${resource}'.${hint ? ` ${hint}` : ''}`,
    ),
  clientCredentialsNeedDefault: () =>
    new EntraError(
      'invalid_scope',
      1002012,
      'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
    ),
  invalidSecret: (clientId: string) =>
    new EntraError('invalid_client', 7000215, `Invalid client secret provided for app '${clientId}'.`, 401),
  malformedBasicAuth: () =>
    new EntraError(
      'invalid_client',
      7000215,
      'The Authorization header is not valid HTTP Basic client authentication: send base64("client_id:client_secret"), each part form-URL-encoded (RFC 6749 section 2.3.1).',
      401,
    ),
  credentialsRequired: () =>
    new EntraError(
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      401,
    ),
  publicClientWithCredentials: () =>
    new EntraError(
      'invalid_client',
      700025,
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
      401,
    ),
  invalidClientAssertion: (why: string) =>
    new EntraError('invalid_client', 700027, `Client assertion failed signature validation: ${why}`, 401),
  noFederatedCredential: (issuer: string, subject: string, audience: string) =>
    new EntraError(
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'.`,
    ),
  federatedIssuerMismatch: (issuer: string) =>
    new EntraError(
      'invalid_client',
      700211,
      `No matching federated identity record found for presented assertion issuer '${issuer}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      401,
    ),
  federatedAudienceMismatch: (audience: string) =>
    new EntraError(
      'invalid_client',
      700212,
      `No matching federated identity record found for presented assertion audience '${audience}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      401,
    ),
  federatedSubjectMismatch: (subject: string) =>
    new EntraError(
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${subject}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      401,
    ),
  clientAssertionExpired: () => new EntraError('invalid_client', 700024, 'Client assertion is not within its valid time range.', 401),
  publicFlowsNotAllowed: (clientId: string) =>
    new EntraError(
      'unauthorized_client',
      7000218,
      `App '${clientId}' does not allow public client flows. Turn on "Allow public client flows" in its registration.`,
    ),
  codeInvalid: () =>
    new EntraError('invalid_grant', 70000, "The provided value for the 'code' parameter is not valid."),
  codeRedeemed: () =>
    new EntraError('invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  codeExpired: () =>
    new EntraError('invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request.'),
  codeForOtherClient: () =>
    new EntraError('invalid_grant', 70000, 'The provided authorization code was issued to a different client.'),
  replyAddressMismatch: (given: string, expected: string) =>
    new EntraError(
      'invalid_grant',
      500112,
      `The reply address '${given}' does not match the reply address '${expected}' provided when requesting Authorization code.`,
    ),
  pkceMismatch: () =>
    new EntraError('invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  pkceMethod: () =>
    new EntraError('invalid_request', 50148, "The code_challenge_method must be 'S256'. This emulator does not accept 'plain'."),
  refreshTokenInvalid: () =>
    new EntraError('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid: the refresh token is not valid.'),
  refreshTokenUsed: () =>
    new EntraError('invalid_grant', 70000, 'The refresh token was already used. Refresh tokens are single-use here: keep the newest one.'),
  refreshTokenRevoked: () =>
    new EntraError('invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user must sign in again.'),
  refreshTokenOtherClient: () =>
    new EntraError('invalid_grant', 70000, 'The refresh token was issued to a different client.'),
  assertionInvalid: (why: string) => new EntraError('invalid_grant', 50013, `Assertion failed signature validation. ${why}`),
  assertionAudience: () =>
    new EntraError(
      'invalid_grant',
      50013,
      'Assertion audience does not match the Client app presenting the assertion. An app can only exchange tokens issued to itself.',
    ),
  assertionExpired: () => new EntraError('invalid_grant', 500133, 'Assertion is not within its valid time range.'),
  assertionNotUser: () =>
    new EntraError('invalid_grant', 50013, 'On-Behalf-Of needs a user token; the assertion is an app-only token. Use client credentials instead.'),
  authorizationPending: () =>
    new EntraError('authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'),
  deviceCodeExpired: () => new EntraError('expired_token', 70019, 'Verification code expired. Start the sign-in again.'),
  deviceCodeDeclined: () =>
    new EntraError('authorization_declined', 65004, 'User declined to consent to access the app.'),
  userDeclined: () => new EntraError('access_denied', 65004, 'User declined to consent to access the app.'),
  loginRequired: () =>
    new EntraError('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.'),
  crossOriginRedemption: (origin: string) =>
    new EntraError(
      'invalid_request',
      9002326,
      `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin}'. ` +
        'This tenant registers no single-page application redirect URIs: redeem the code from a server or native app, not from a browser page.',
    ),
  adminConsentRequired: (client: string, resource: string, permissions: string[]) =>
    new EntraError(
      'consent_required',
      90094,
      `The grant requires admin permission. ${client} asks for ${permissions.join(', ')} on ${resource}, which no administrator consented to ` +
        "and for which the API does not pre-authorize it: users of this tenant cannot consent themselves (\"Need admin approval\").",
      403,
    ),
  consentMissing: (clientId: string, client: string, resource: string, permissions: string[]) =>
    new EntraError(
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named '${client}'. ` +
        `Send an interactive authorization request for this user and resource. Missing: ${permissions.join(', ')} on ${resource}.`,
    ),
  authRequestExpired: () =>
    new EntraError('invalid_request', 50000, 'The sign-in request is unknown or expired. Start the sign-in again from the app.'),
} as const;
