/**
 * Signing keys of the emulated tenant.
 *
 * - Tenant keys sign ID tokens and access tokens for our own APIs; their public halves are published
 *   in the JWKS, as Entra publishes its keys.
 * - The Graph key signs tokens for Microsoft Graph and is published nowhere: like real Graph tokens,
 *   nobody but the Graph fake can verify them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** An RSA signing key: its `kid`, its private key, its public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** The emulator's keys. */
export interface KeySet {
  /** Published in the JWKS. The last one signs new tokens. */
  tenant: SigningKey[];
  graph: SigningKey;
}

/** A new RS256 key whose `kid` is its JWK thumbprint (RFC 7638). */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  // Like Entra's JWKS, no `alg` on the keys: a resource server must pin the algorithm itself (RS256).
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, use: 'sig' } };
}

/** A new key set: one tenant key and the Graph key (generated side by side, on libuv's thread pool). */
export async function generateKeySet(): Promise<KeySet> {
  const [tenant, graph] = await Promise.all([generateSigningKey(), generateSigningKey()]);
  return { tenant: [tenant], graph };
}

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Loads the key set from `file`, creating it on first use, so tokens stay valid across restarts. */
export async function loadOrCreateKeySet(file: string): Promise<KeySet> {
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { tenant: StoredKey[]; graph: StoredKey };
      return { tenant: await Promise.all(stored.tenant.map(revive)), graph: await revive(stored.graph) };
    } catch {
      // Unreadable keys: make new ones (old tokens become invalid, which the lessons handle).
    }
  }
  const keys = await generateKeySet();
  await saveKeySet(file, keys);
  return keys;
}

/** Writes a key set to `file` (private keys included, mode 0600), for {@link loadOrCreateKeySet}. */
export async function saveKeySet(file: string, keys: KeySet): Promise<void> {
  const store = async (key: SigningKey): Promise<StoredKey> => ({
    kid: key.kid,
    privateJwk: await exportJWK(key.privateKey),
    publicJwk: key.publicJwk,
  });
  const stored = { tenant: await Promise.all(keys.tenant.map(store)), graph: await store(keys.graph) };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
}

async function revive(stored: StoredKey): Promise<SigningKey> {
  const privateKey = (await importJWK(stored.privateJwk, 'RS256', { extractable: true })) as CryptoKey;
  return { kid: stored.kid, privateKey, publicJwk: stored.publicJwk };
}
