/**
 * Client authentication at the token endpoint: none (a public client), a client secret (in the form,
 * `client_secret_post`, or in a Basic header, `client_secret_basic`), or a client assertion (RFC 7523):
 * signed with a registered certificate (`private_key_jwt`), or a workload's token that a federated
 * identity credential of the app trusts (federatedCredentials.ts).
 * https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { findApp, type AppRegistration } from './directory.ts';
import type { EmulatorContext } from './context.ts';
import { Errors } from './errors.ts';
import { verifyFederatedAssertion } from './federatedCredentials.ts';
import { ClientAuthMethod } from './tokens.ts';

/** The client a token request came from, and how it proved who it is. */
export interface AuthenticatedClient {
  app: AppRegistration;
  method: ClientAuthMethod;
}

/** A certificate as a client credential: the thumbprints that assertions name, and its public key. */
export interface CertificateCredential {
  /** Lower-case hex. */
  thumbprintSha256: string;
  /** Lower-case hex. */
  thumbprintSha1: string;
  publicKey: KeyObject;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far the assertion's `exp`/`nbf` may be off, in seconds (Entra allows five minutes of clock skew). */
const CLOCK_TOLERANCE_SECONDS = 300;

/**
 * The certificates of confidential clients: those registered in-process, then those uploaded to a folder.
 */
export class CertificateStore {
  readonly #registered = new Map<string, CertificateCredential[]>();

  /**
   * @param folder `<clientId>/<name>.pem` files, read at every client assertion, so that another process
   *   (a lesson's set-up step) can add one while the emulator runs, as uploading a certificate to the app
   *   registration in the Entra admin center does. None when omitted.
   */
  constructor(private readonly folder?: string) {}

  /**
   * Registers a certificate (PEM) as a credential of a confidential client.
   *
   * @throws Error when there is no such app, or the PEM is not a certificate.
   */
  register(clientId: string, certificatePem: string): CertificateCredential {
    if (!findApp(clientId)) throw new Error(`No app registration with client ID ${clientId}.`);
    const credential = certificateCredential(certificatePem);
    this.#registered.set(clientId, [...(this.#registered.get(clientId) ?? []), credential]);
    return credential;
  }

  /** The app's certificates: registered ones first, then the uploaded ones. */
  of(clientId: string): CertificateCredential[] {
    const registered = this.#registered.get(clientId) ?? [];
    const folder = this.folder && path.join(this.folder, clientId);
    if (!folder || !existsSync(folder)) return registered;
    const uploaded = readdirSync(folder)
      .filter((name) => name.endsWith('.pem'))
      .flatMap((name) => {
        try {
          return [certificateCredential(readFileSync(path.join(folder, name), 'utf8'))];
        } catch {
          return []; // Not a certificate (a private key, say): Entra would not accept it as a credential either.
        }
      });
    return [...registered, ...uploaded];
  }
}

/**
 * Authenticates the client of a token request. A public client must send no credential; a
 * confidential client must send a secret or a client assertion.
 *
 * @throws EntraError AADSTS900144 (no client_id), 700016 (unknown client), 700025 (a public client sent
 *   a credential), 7000215 (wrong secret or malformed Basic header), 700027 (bad assertion), 7000218 (no credential).
 *   A federated assertion: 70021, 700211, 700212, 700213 or 700024 (see federatedCredentials.ts).
 */
export async function authenticateClient(request: Request, form: URLSearchParams, emulator: EmulatorContext): Promise<AuthenticatedClient> {
  const basic = basicCredentials(request.headers.get('authorization'));
  const clientId = basic?.clientId ?? form.get('client_id');
  if (!clientId) throw Errors.missingParameter('client_id');
  const app = findApp(clientId);
  if (!app) throw Errors.unknownClient(clientId);
  const secret = basic?.secret ?? form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (app.kind === 'public') {
    if (secret || assertion) throw Errors.publicClientWithCredentials();
    return { app, method: ClientAuthMethod.none };
  }
  if (secret) {
    if (!app.secrets?.includes(secret)) throw Errors.invalidSecret(clientId);
    return { app, method: ClientAuthMethod.secret };
  }
  if (assertion) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) throw Errors.invalidClientAssertion(`client_assertion_type must be '${ASSERTION_TYPE}'.`);
    await verifyClientAssertion(app, assertion, emulator);
    return { app, method: ClientAuthMethod.certificate };
  }
  throw Errors.credentialsRequired();
}

/** RFC 6749 §2.3.1: base64 of "client_id:client_secret", each form-URL-encoded first. */
function basicCredentials(authorization: string | null): { clientId: string; secret: string } | undefined {
  if (!authorization?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString();
  const colon = decoded.indexOf(':');
  try {
    if (colon < 1) throw new URIError('no client_id:client_secret pair');
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    throw Errors.malformedBasicAuth();
  }
}

async function verifyClientAssertion(app: AppRegistration, assertion: string, emulator: EmulatorContext): Promise<void> {
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw Errors.invalidClientAssertion('the client assertion is not a JWT.');
  }
  const thumbprint = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64url').toString('hex') : undefined);
  const sha256 = thumbprint(header['x5t#S256']);
  const sha1 = thumbprint(header.x5t);
  const certificate = emulator.certificates
    .of(app.clientId)
    .find((candidate) => candidate.thumbprintSha256 === sha256 || candidate.thumbprintSha1 === sha1 || candidate.thumbprintSha256 === header.kid?.toLowerCase());
  // An assertion that names no certificate (no x5t or x5t#S256) is a workload's token from another
  // issuer: Entra ID checks it against the app's federated identity credentials instead.
  if (!certificate && sha256 === undefined && sha1 === undefined) return verifyFederatedAssertion(app, assertion, emulator);
  if (!certificate) {
    throw Errors.invalidClientAssertion(`the certificate used to sign the client assertion is not registered on application '${app.clientId}'.`);
  }
  try {
    await jwtVerify(assertion, certificate.publicKey, {
      algorithms: ['RS256', 'PS256'],
      issuer: app.clientId,
      subject: app.clientId,
      audience: [emulator.endpoints.token, emulator.endpoints.issuer],
      currentDate: new Date(emulator.now()),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    });
  } catch (error) {
    throw Errors.invalidClientAssertion((error as Error).message);
  }
}

function certificateCredential(certificatePem: string): CertificateCredential {
  const certificate = new X509Certificate(certificatePem);
  const hex = (fingerprint: string) => fingerprint.replace(/:/g, '').toLowerCase();
  return { thumbprintSha256: hex(certificate.fingerprint256), thumbprintSha1: hex(certificate.fingerprint), publicKey: certificate.publicKey };
}
