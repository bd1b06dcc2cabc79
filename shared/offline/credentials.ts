/**
 * Offline stand-ins for what an administrator does once in a real tenant for lesson 5: make a
 * certificate for the MCP API, keep its private key private, and upload the certificate to the API's
 * app registration (Certificates & secrets). Here "uploading" is a copy into the emulator's folder of
 * registered certificates (`<stateDir>/emulator/certificates/<clientId>/`), which it reads on every
 * client assertion.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';
import type { WorkshopConfig } from '../config.ts';

/** Where a certificate and its private key are, as PEM files. */
export interface CertificateFiles {
  certificatePath: string;
  privateKeyPath: string;
}

/** A new self-signed certificate (RSA 2048, SHA-256) valid for `days` from now (a negative number: expired that long ago), in PEM. */
export async function makeCertificate(commonName = 'workshop-mcp-api', days = 365): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const day = 86_400_000;
  const notAfterDate = new Date(Date.now() + days * day);
  const notBeforeDate = new Date(Math.min(Date.now(), notAfterDate.getTime() - day));
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], { keySize: 2048, algorithm: 'sha256', notBeforeDate, notAfterDate });
  return { certificatePem: pems.cert, privateKeyPem: pems.private };
}

/** Writes a certificate and its private key; the key readable by its owner only (0600). */
export function writeCertificateFiles(files: CertificateFiles, pems: { certificatePem: string; privateKeyPem: string }): void {
  for (const file of [files.certificatePath, files.privateKeyPath]) mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(files.certificatePath, pems.certificatePem);
  writeFileSync(files.privateKeyPath, pems.privateKeyPem, { mode: 0o600 });
  chmodSync(files.privateKeyPath, 0o600); // `mode` applies only when the file is created
}

/**
 * Offline, lesson 5 with a certificate credential at the default paths: makes the certificate once,
 * and registers it on the emulated API app. Returns what it did, for the learner's console.
 */
export async function prepareOfflineCertificate(config: WorkshopConfig): Promise<string[]> {
  if (config.mode !== 'offline') return [];
  const credential = config.entra.apiCredential;
  if (credential.kind !== 'certificate') return [];
  const lines: string[] = [];
  if (!existsSync(credential.certificatePath) && !existsSync(credential.privateKeyPath)) {
    writeCertificateFiles(credential, await makeCertificate());
    lines.push(`made a certificate for the MCP API: ${credential.certificatePath} (private key ${credential.privateKeyPath}, mode 600)`);
  }
  if (!existsSync(credential.certificatePath)) return lines;
  const registered = path.join(config.stateDir, 'emulator', 'certificates', config.entra.apiClientId, 'lesson5.pem');
  mkdirSync(path.dirname(registered), { recursive: true });
  copyFileSync(credential.certificatePath, registered);
  lines.push(`registered it on the emulated API app (${config.entra.apiClientId}), as uploading it under Certificates & secrets would`);
  return lines;
}
