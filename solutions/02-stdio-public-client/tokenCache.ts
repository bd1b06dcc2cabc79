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
      let contents: string;
      try {
        contents = await readFile(file, 'utf8');
      } catch (error) {
        // No file yet: nobody has signed in on this machine. Anything else is worth a line.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log(`Could not read the token cache ${file}: ${(error as Error).message}`);
        return;
      }
      try {
        // Check before handing it over: MSAL keeps the text it is given and merges it back in when
        // it saves, so a damaged file would break every later save too.
        JSON.parse(contents);
      } catch (error) {
        // A damaged cache costs one sign-in, never a crash. The next save replaces it.
        log(`Ignoring the damaged token cache ${file} (${(error as Error).message}); you will be asked to sign in again.`);
        return;
      }
      // Load what the file holds now, so another process's newer tokens (a rotated refresh token) win.
      context.tokenCache.deserialize(contents);
    },

    async afterCacheAccess(context: TokenCacheContext): Promise<void> {
      if (!context.cacheHasChanged) return;
      await mkdir(path.dirname(file), { recursive: true, mode: DIRECTORY_MODE });
      // Write a private temporary file, then rename it over the cache: a reader (another server
      // process) never sees half a file, and the file is never readable by others, not even briefly.
      const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(temporary, context.tokenCache.serialize(), { mode: FILE_MODE, flag: 'wx' });
        // `mode` only applies to new files and the umask could narrow it, never widen it; set it anyway.
        await chmod(temporary, FILE_MODE);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
  };
}
