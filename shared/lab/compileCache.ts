/**
 * Node's compile cache, for this process and every Node process it starts (vitest and its workers,
 * lesson servers): V8 keeps the compiled code of vitest, vite, the MCP SDK and the rest between runs,
 * so each test run starts about a third of a second sooner. It lives in node_modules/.cache, so a fresh
 * install starts with a fresh cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 * https://nodejs.org/api/module.html#module-compile-cache
 *
 * Sandboxed runs of untrusted code do without it (cleanTestEnv drops the variable): they must not
 * write into the grader's node_modules.
 */
import module from 'node:module';
import path from 'node:path';

process.env.NODE_COMPILE_CACHE ??= path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'node-compile-cache');
module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
