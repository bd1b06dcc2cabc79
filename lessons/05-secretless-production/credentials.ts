/**
 * How the MCP API proves to Entra ID that it is itself when it asks for On-Behalf-Of tokens, without
 * a client secret. Both credentials end up as a signed client assertion (RFC 7523 §2.2) on every
 * token request; what differs is who signs it.
 *
 * - A certificate: MSAL signs a short-lived assertion with the private key. Entra ID checks it with
 *   the certificate uploaded to the app registration. The key never leaves this machine.
 *   https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 * - A managed identity as a federated identity credential: the hosting platform (App Service,
 *   Container Apps) hands the server a token for `api://AzureADTokenExchange`; the API app trusts that
 *   identity's tokens as its assertion. There is no key at all to leak or rotate.
 *   https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { AuthError, ManagedIdentityApplication, type NodeAuthOptions } from '@azure/msal-node';
import type { ApiCredentialSettings } from '../../shared/config.ts';

/** The audience of tokens a workload exchanges at Entra ID; a federated credential names it. */
export const TOKEN_EXCHANGE_RESOURCE = 'api://AzureADTokenExchange';

/** The part of MSAL's `auth` configuration that proves who the app is: never a `clientSecret`. */
export type ClientCredential = Pick<NodeAuthOptions, 'clientCertificate' | 'clientAssertion'>;

/** A credential that cannot be used as configured; the message says what to fix. */
export class CredentialError extends Error {
  override name = 'CredentialError';
}

/** The credential `settings` choose (ENTRA_API_CREDENTIAL). Checked at start-up, so a mistake is one line. */
export function createClientCredential(settings: ApiCredentialSettings): ClientCredential {
  return settings.kind === 'certificate'
    ? certificateCredential(settings.certificatePath, settings.privateKeyPath)
    : managedIdentityCredential(settings.managedIdentityClientId);
}

/**
 * A certificate credential for MSAL. Refuses a private key that other users can read, a key that
 * does not belong to the certificate, and a certificate that has expired: each would otherwise
 * surface later as an opaque AADSTS error on the first tool call.
 */
export function certificateCredential(certificatePath: string, privateKeyPath: string, now = new Date()): ClientCredential {
  // TODO 5.1: Refuse a private key file that group or others may read ((stat.mode & 0o077) !== 0, not on
  // Windows) with a CredentialError that says "chmod 600 <file>". Read both files (readOrThrow), parse them
  // (new X509Certificate, createPrivateKey), refuse a key that does not belong to the certificate
  // (certificate.checkPrivateKey) and an expired certificate. Return { clientCertificate: {
  // thumbprintSha256 (fingerprint256 without colons, lower case), privateKey (the PEM), x5c (the certificate PEM) } }.
  // See README, step 5.1.
  void now;
  throw new CredentialError(`TODO 5.1: build the certificate credential from ${certificatePath} and ${privateKeyPath} (README, step 5.1).`);
}

/**
 * A managed identity used as a federated identity credential. MSAL's ManagedIdentityApplication asks
 * the platform's local identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER, set by App Service
 * and Container Apps) for a token for `api://AzureADTokenExchange`; that token is the client
 * assertion of the API's ConfidentialClientApplication.
 */
export function managedIdentityCredential(managedIdentityClientId: string): ClientCredential {
  // TODO 5.2: Create a ManagedIdentityApplication for the user-assigned identity ({ managedIdentityIdParams:
  // { userAssignedClientId } }) once, here. Return { clientAssertion: async () => … }: a callback that asks it
  // for a token for TOKEN_EXCHANGE_RESOURCE (acquireToken({ resource })) on every call and returns the
  // access token. Turn a failure into a CredentialError that names the identity. See README, step 5.2.
  throw new CredentialError(`TODO 5.2: use the managed identity ${managedIdentityClientId} as a federated credential (README, step 5.2).`);
}

/** Which file a helper reads: it decides the setting a "missing file" error names. */
type CredentialFile = 'certificate' | 'private key';

function statOrThrow(file: string, what: CredentialFile) {
  try {
    return statSync(file);
  } catch {
    throw new CredentialError(`The ${what} file ${file} does not exist. Check ENTRA_API_${what === 'certificate' ? 'CERTIFICATE' : 'PRIVATE_KEY'}_PATH.`);
  }
}

function readOrThrow(file: string, what: CredentialFile): string {
  statOrThrow(file, what);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CredentialError(`The ${what} file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}
