/**
 * A persistent token cache for MSAL: one JSON file that only its owner can read.
 *
 * MSAL keeps tokens in memory and calls a cache plugin around every cache access: before, to load
 * the latest state, and after, to save it when it changed. The file holds a refresh token, which is
 * as good as a signed-in session for as long as it lives, so treat it like a password.
 * https://learn.microsoft.com/entra/msal/javascript/node/caching
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';

export type Log = (line: string) => void;

/** Owner may read and write; nobody else may do anything (POSIX; Windows ignores the mode). */
const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;

/** An MSAL cache plugin that keeps the token cache in `file`. */
export function createFileCachePlugin(file: string, log: Log): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
      // TODO 2.2: Read the file (none yet: nothing to load). If it holds valid JSON, hand it to
      // context.tokenCache.deserialize(); if it is damaged, log a line and load nothing. See README, step 2.2.
      throw new Error('TODO 2.2: implement beforeCacheAccess() in tokenCache.ts.');
    },

    async afterCacheAccess(context: TokenCacheContext): Promise<void> {
      // TODO 2.2: When context.cacheHasChanged, write context.tokenCache.serialize() to the file:
      // create the folder, write a temporary file with mode FILE_MODE, then rename it over the file.
      // See README, step 2.2.
      throw new Error('TODO 2.2: implement afterCacheAccess() in tokenCache.ts.');
    },
  };
}
