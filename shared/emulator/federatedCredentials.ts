/**
 * Federated identity credentials: a client assertion that is not signed by one of the app's
 * certificates, but is a token another issuer gave a workload, which the app's registration trusts
 * (lesson 5: a managed identity's token for `api://AzureADTokenExchange`). Entra ID accepts it only when
 * one federated credential on the app names its issuer, its subject and one of its audiences, exactly,
 * and the token is valid now; otherwise it answers with the AADSTS code that names the mismatch.
 * https://learn.microsoft.com/entra/workload-id/workload-identity-federation
 */
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { EmulatorContext } from './context.ts';
import type { AppRegistration, FederatedCredential } from './directory.ts';
import { Errors } from './errors.ts';

/** How far the assertion's `exp`/`nbf` may be off, in seconds (as for certificate assertions). */
const CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Accepts `assertion` as `app`'s credential, or throws the EntraError Entra ID would answer.
 *
 * @throws EntraError AADSTS70021 (the app has no federated credential), 700211 (none for the issuer),
 *   700213 (none for the subject), 700212 (none for the audience), 700024 (expired or not yet valid),
 *   700027 (not a JWT, or a bad signature).
 */
export async function verifyFederatedAssertion(app: AppRegistration, assertion: string, emulator: EmulatorContext): Promise<void> {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw Errors.invalidClientAssertion('the client assertion is not a JWT.');
  }
  const issuer = String(claims.iss ?? '');
  const subject = String(claims.sub ?? '');
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  const credentials = app.federatedCredentials ?? [];
  const issuerOf = (credential: FederatedCredential) => (credential.issuer === 'tenant' ? emulator.endpoints.issuer : credential.issuer);

  if (credentials.length === 0) throw Errors.noFederatedCredential(issuer, subject, audiences.join(', '));
  const sameIssuer = credentials.filter((credential) => issuerOf(credential) === issuer);
  if (sameIssuer.length === 0) throw Errors.federatedIssuerMismatch(issuer);
  const sameSubject = sameIssuer.filter((credential) => credential.subject === subject);
  if (sameSubject.length === 0) throw Errors.federatedSubjectMismatch(subject);
  const match = sameSubject.find((credential) => audiences.some((audience) => credential.audiences.includes(audience)));
  if (!match) throw Errors.federatedAudienceMismatch(audiences.join(', '));

  // Only this tenant's own tokens (a managed identity's) can be checked offline: the emulator fetches
  // no other issuer's keys. A deviation, listed in the README.
  if (match.issuer !== 'tenant') throw Errors.invalidClientAssertion(`the emulator cannot fetch the signing keys of ${issuer}.`);
  try {
    await jwtVerify(assertion, createLocalJWKSet(emulator.jwks()), {
      algorithms: ['RS256'],
      issuer,
      currentDate: new Date(emulator.now()),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    });
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired || (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf')) throw Errors.clientAssertionExpired();
    throw Errors.invalidClientAssertion((error as Error).message);
  }
}
