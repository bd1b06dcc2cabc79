/**
 * The On-Behalf-Of token cache, shared by every replica of the server.
 *
 * Each OBO token is a round trip to Entra ID; behind a load balancer, a user's next request may land
 * on another replica, which would ask again. MSAL's DistributedCachePlugin keeps MSAL's cache in a
 * store all replicas share (Redis), one entry per caller ("partition"), so any replica serves the
 * token another one obtained. Without REDIS_URL the store is in this process's memory.
 *
 * The entries hold Graph access and refresh tokens: protect Redis like a credential store (TLS with
 * rediss://, a password or Entra authentication, a private network).
 *
 * https://learn.microsoft.com/entra/msal/javascript/node/caching#distributed-cache
 */
import { DistributedCachePlugin, type ICacheClient, type ICachePlugin, type IPartitionManager } from '@azure/msal-node';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { callerOf } from './verifier.ts';

/** How long an idle caller's cache entry lives. MSAL drops expired tokens itself; this bounds the store. */
export const ENTRY_TTL_SECONDS = 24 * 3600;
/** Longest we wait on Redis before carrying on without it: a slow cache must not make a slow server. */
export const REDIS_TIMEOUT_MS = 500;

/** Where MSAL's serialized cache lives, one string per partition key. */
export interface TokenStore extends ICacheClient {
  readonly kind: 'memory' | 'redis';
  close(): Promise<void>;
}

/** Redis could not be used at start-up; the message says where and what to do. */
export class TokenStoreError extends Error {
  override name = 'TokenStoreError';
}

/** The store the configuration asks for: Redis when `redisUrl` is set, else memory. */
export async function createTokenStore(redisUrl: URL | undefined, log: Logger): Promise<TokenStore> {
  return redisUrl ? connectRedisTokenStore(redisUrl, log) : memoryTokenStore();
}

/**
 * MSAL's cache plugin for one caller: it loads that caller's partition before MSAL looks for a token
 * and saves it after MSAL got a new one. Build one per request (it knows the caller).
 */
export function oboCachePlugin(store: TokenStore, auth: AuthInfo): ICachePlugin {
  return new DistributedCachePlugin(store, callerPartition(auth));
}

/**
 * The partition of one caller: `obo:<oid>.<tid>`. `getKey` reads it from the verified token when MSAL
 * loads the cache; `extractKey` reads it from the account MSAL stores after a new OBO token, whose
 * home account ID is `<oid>.<tid>` too. Both must agree, or a replica would never find what another
 * stored. One partition per caller also means one caller's entry is never handed to another.
 */
export function callerPartition(auth: AuthInfo): IPartitionManager {
  const caller = callerOf(auth);
  return {
    getKey: async () => `obo:${caller.oid}.${caller.tid}`,
    extractKey: async (account) => `obo:${account.homeAccountId}`,
  };
}

/** A bounded in-memory store: the default for one process, and what tests use without Redis. */
export function memoryTokenStore(maxEntries = 10_000): TokenStore {
  const entries = new Map<string, string>();
  return {
    kind: 'memory',
    async get(key) {
      return entries.get(key) ?? '';
    },
    async set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      // A Map keeps insertion order: the first key is the least recently written.
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return 'OK';
    },
    async close() {
      entries.clear();
    },
  };
}

/**
 * A Redis-backed store. An unreachable Redis at start-up is a TokenStoreError (one clear line). Once
 * running, a failing Redis is a cache miss: MSAL asks Entra ID again, and the caller never sees a 5xx.
 */
export async function connectRedisTokenStore(url: URL, log: Logger): Promise<TokenStore> {
  const where = `${url.protocol}//${url.host}`; // never the password
  let connected = false; // set once the first connect() succeeds
  const client = createClient({
    url: url.href,
    // Commands fail at once while disconnected instead of queueing until Redis is back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries, cause) => {
        // Lost while running: keep trying, backing off, while the tools fall back to Entra ID.
        if (connected) return Math.min(100 * 2 ** retries, 5000);
        // At start-up, three quick retries ride out a blip; still unreachable is a misconfiguration:
        // returning the cause makes connect() reject with it.
        return retries < 3 ? 100 * 2 ** retries : cause;
      },
    },
  });
  let healthy = true;
  const degraded = (error: unknown) => {
    // One line per outage, not one per request.
    if (healthy) log.warn({ redis: where, reason: (error as Error).message }, 'Redis is unavailable: OBO tokens are fetched from Entra ID until it is back');
    healthy = false;
  };
  // Without an error listener, a dropped connection would crash the process.
  client.on('error', degraded);
  client.on('ready', () => {
    if (!healthy) log.info({ redis: where }, 'Redis is back: the shared OBO token cache is in use again');
    healthy = true;
  });
  try {
    await withTimeout(client.connect(), 3000);
    connected = true;
  } catch (error) {
    client.destroy();
    throw new TokenStoreError(`Could not connect to Redis at ${where} (${(error as Error).message || 'timed out'}). Start Redis, fix REDIS_URL, or remove REDIS_URL to keep the token cache in memory.`);
  }
  return {
    kind: 'redis',
    async get(key) {
      try {
        return (await withTimeout(client.get(key), REDIS_TIMEOUT_MS)) ?? '';
      } catch (error) {
        degraded(error);
        return ''; // a miss: MSAL asks Entra ID
      }
    },
    async set(key, value) {
      try {
        await withTimeout(client.set(key, value, { expiration: { type: 'EX', value: ENTRY_TTL_SECONDS } }), REDIS_TIMEOUT_MS);
      } catch (error) {
        degraded(error); // the token was obtained; only sharing it failed
      }
      return 'OK';
    },
    async close() {
      // A clean QUIT when connected; while Redis is down there is nothing to wait for.
      if (client.isReady) await withTimeout(client.close(), REDIS_TIMEOUT_MS).catch(() => client.destroy());
      else client.destroy();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
