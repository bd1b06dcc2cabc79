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
  // The private key is the whole credential: on a shared machine, a key that the group or others may
  // read is a leaked key. (Windows has no POSIX mode bits; protect the file with its ACL there.)
  const mode = statOrThrow(privateKeyPath, 'private key').mode;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CredentialError(
      `The private key ${privateKeyPath} can be read by other users (mode ${(mode & 0o777).toString(8)}). Make it readable by you only: chmod 600 ${privateKeyPath}`,
    );
  }
  const certificatePem = readOrThrow(certificatePath, 'certificate');
  const privateKey = readOrThrow(privateKeyPath, 'private key');

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw new CredentialError(`${certificatePath} is not a PEM certificate (-----BEGIN CERTIFICATE-----).`);
  }
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    throw new CredentialError(`${privateKeyPath} is not a PEM private key (-----BEGIN PRIVATE KEY-----), or it is encrypted.`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new CredentialError(`The private key ${privateKeyPath} does not belong to the certificate ${certificatePath}.`);
  }
  if (new Date(certificate.validTo) <= now) {
    throw new CredentialError(`The certificate ${certificatePath} expired on ${certificate.validTo}. Make a new one and upload it to the app registration.`);
  }
  return {
    clientCertificate: {
      // The assertion's header names the certificate by its SHA-256 thumbprint (x5t#S256), so Entra
      // ID knows which of the app's certificates to check the signature with. SHA-1 is legacy.
      thumbprintSha256: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
      privateKey,
      // The certificate itself in the header (x5c): needed for subject name/issuer authentication
      // (certificate rotation without re-uploading); harmless otherwise, it is public.
      x5c: certificatePem,
    },
  };
}

/**
 * A managed identity used as a federated identity credential. MSAL's ManagedIdentityApplication asks
 * the platform's local identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER, set by App Service
 * and Container Apps) for a token for `api://AzureADTokenExchange`; that token is the client
 * assertion of the API's ConfidentialClientApplication.
 *
 * MSAL calls the `clientAssertion` callback for every token request. The managed identity's token is
 * cached by MSAL and fetched anew before it expires, so the assertion is never stale.
 */
export function managedIdentityCredential(managedIdentityClientId: string): ClientCredential {
  const identity = new ManagedIdentityApplication({
    // A user-assigned identity: it outlives the app, can be shared by all replicas, and can be
    // trusted by the API app before the app is even deployed.
    managedIdentityIdParams: { userAssignedClientId: managedIdentityClientId },
  });
  return {
    clientAssertion: async () => {
      try {
        const result = await identity.acquireToken({ resource: TOKEN_EXCHANGE_RESOURCE });
        return result.accessToken;
      } catch (error) {
        const code = error instanceof AuthError ? error.errorCode : (error as Error).message;
        throw new CredentialError(
          `The managed identity ${managedIdentityClientId} got no token for ${TOKEN_EXCHANGE_RESOURCE} (${code}). ` +
            'Is it attached to this app, and do IDENTITY_ENDPOINT and IDENTITY_HEADER reach the platform\'s identity endpoint?',
        );
      }
    },
  };
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
