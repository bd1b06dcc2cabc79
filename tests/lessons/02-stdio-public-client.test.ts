/**
 * Lesson 2: a local stdio MCP server that signs the user in with an MSAL public client.
 *
 * In-process tests build the learner's AuthenticationService and MCP server against the emulator
 * (through msw) with a headless "browser" that signs a test user in. The last tests spawn the server
 * as a real child process over stdio, against the emulator over HTTP.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { http, HttpResponse } from 'msw';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { APPS, findUser } from '../../shared/emulator/directory.ts';
import type { EmulatorEvent } from '../../shared/emulator/events.ts';
import { startEmulatorServer, type RunningEmulator } from '../../shared/emulator/server.ts';
import { hurryMsalLoopbackPolling, isolatedEnv, nonProtocolLines, StdioChild, type JsonRpcResponse } from '../support/02-stdio-public-client.ts';
import { approveDeviceCode, signIn } from '../support/browser.ts';
import { shortPath } from '../support/harness.ts';
import { emulator, graph, offlineConfig, recordEvents } from '../support/lab.ts';
import { resultText, said } from '../support/mcp.ts';
import { network } from '../support/network.ts';
import { importLesson, lessonDir, requireExport } from '../support/target.ts';

const DIR = lessonDir(2);
const FILES = {
  auth: shortPath(path.join(DIR, 'authService.ts')),
  cache: shortPath(path.join(DIR, 'tokenCache.ts')),
  server: shortPath(path.join(DIR, 'server.ts')),
};
/** Which file holds each TODO. */
const TODO_FILE: Record<string, string> = {
  'TODO 2.1': FILES.auth,
  'TODO 2.2': FILES.cache,
  'TODO 2.3': FILES.auth,
  'TODO 2.4': FILES.auth,
  'TODO 2.5': FILES.server,
  'TODO 2.6': FILES.server,
};
/** "TODO 2.3 in lessons/02-stdio-public-client/authService.ts" */
const at = (todo: keyof typeof TODO_FILE & string) => `${todo} in ${TODO_FILE[todo]}`;

const TOOL = 'get_my_profile';
const PUBLIC_CLIENT = APPS.publicClient.clientId;
const ADA = findUser('ada')!;
const GRACE = findUser('grace')!;
const DEFAULT_LIFETIME = emulator.settings.accessTokenLifetimeSeconds;
/** MSAL renews access tokens that expire within 5 minutes: a 60 s lifetime makes every silent call a refresh. */
const SHORT_LIFETIME = 60;


// ---------------------------------------------------------------- the code under test

interface AuthOptions {
  clientId: string;
  msal: typeof offlineConfig.entra.msal;
  cachePath: string;
  openBrowser?: (url: string) => Promise<void>;
  deviceCode?: boolean;
  log?: (line: string) => void;
}
interface AuthService {
  acquireToken(options?: { forceRefresh?: boolean }): Promise<string>;
}
type AuthServiceClass = new (options: AuthOptions) => AuthService;
type CreateMcpServer = (deps: { auth: AuthService; graphBaseUrl: string }) => McpServer;

/** One AuthenticationService with a recorded log and a headless browser that signs `user` in. */
interface Harness {
  service: AuthService;
  log: string[];
  /** Sign-in URLs the service asked the "browser" to open. */
  opened: string[];
  cachePath: string;
}

await hurryMsalLoopbackPolling();

let tmp: string;
const clients: Client[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lesson-02-'));
});

// The stdio scenario (two child processes, a device code sign-in, a restart) spends seconds waiting for
// other processes, with its own emulator over HTTP and its own folders: it starts before any test and
// runs beside the in-process tests; its test, the last one, reports how it went.
let stdioScenario: Promise<void> | undefined;
beforeAll(() => {
  stdioScenario = signInAndRestartOverStdio();
  stdioScenario.catch(() => undefined); // reported by the stdio test
});
afterAll(() => stdioScenario?.catch(() => undefined)); // never leave its processes behind

afterEach(async () => {
  emulator.settings.accessTokenLifetimeSeconds = DEFAULT_LIFETIME;
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await rm(tmp, { recursive: true, force: true });
});

async function newService(
  options: { user?: string; cachePath?: string; openBrowser?: (url: string) => Promise<void>; cancel?: () => boolean } = {},
): Promise<Harness> {
  const module = await importLesson(2, 'authService.ts');
  const AuthenticationService = requireExport<AuthServiceClass>(module, 'AuthenticationService', FILES.auth);
  const log: string[] = [];
  const opened: string[] = [];
  const cachePath = options.cachePath ?? path.join(tmp, 'token-cache.json');
  const openBrowser =
    options.openBrowser ??
    (async (url: string) => {
      opened.push(url);
      await signIn(url, options.user ?? 'ada', { cancel: options.cancel?.() ?? false });
    });
  let service: AuthService;
  try {
    service = new AuthenticationService({
      clientId: offlineConfig.entra.publicClientId,
      msal: offlineConfig.entra.msal,
      cachePath,
      openBrowser,
      log: (line) => log.push(line),
    });
  } catch (error) {
    throw new Error(`new AuthenticationService(…) failed: ${firstLine(error)}. Create the PublicClientApplication (${at('TODO 2.1')}).`);
  }
  return { service, log, opened, cachePath };
}

/** Calls acquireToken(); a failure becomes a message that says what was expected and where to look. */
async function acquire(h: Harness, expected: string, todo: keyof typeof TODO_FILE & string): Promise<string> {
  try {
    return await h.service.acquireToken();
  } catch (error) {
    throw new Error(
      `acquireToken() should ${expected}, but it failed: ${firstLine(error)}. See ${at(todo)}.` + logTail(h),
    );
  }
}

/** Connects an MCP client to the learner's server (in memory) with `service` as its token source. */
async function connect(service: AuthService): Promise<Client> {
  const module = await importLesson(2, 'server.ts');
  const createMcpServer = requireExport<CreateMcpServer>(module, 'createMcpServer', FILES.server);
  const server = createMcpServer({ auth: service, graphBaseUrl: offlineConfig.graphBaseUrl });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'lesson-2-tests', version: '1.0.0' });
  await client.connect(clientTransport);
  clients.push(client);
  return client;
}

/** Calls get_my_profile. A protocol error, or no answer within `timeoutMs`, fails with the TODO to look at. */
async function callProfile(client: Client, timeoutMs = 10_000): Promise<{ isError: boolean; text: string }> {
  let result: CallToolResult;
  try {
    result = (await client.callTool({ name: TOOL, arguments: {} }, undefined, { timeout: timeoutMs })) as CallToolResult;
  } catch (error) {
    const message = firstLine(error);
    if (/timed out/i.test(message)) {
      throw new Error(
        `${TOOL} did not answer within ${timeoutMs / 1000} s (${message}). A tool call should not sleep: build the Graph client ` +
          `without the RetryHandler, which waits out Retry-After (${at('TODO 2.5')}).`,
      );
    }
    throw new Error(`Calling ${TOOL} failed with a protocol error instead of a tool result: ${message}. Register the tool (${at('TODO 2.5')}).`);
  }
  return { isError: result.isError === true, text: resultText(result) };
}

// ---------------------------------------------------------------- what the emulator saw

/** Counts the public client's traffic among events recorded with recordEvents() (sign-ins, redemptions…). */
function tally(events: readonly EmulatorEvent[]) {
  const count = (predicate: (event: EmulatorEvent) => boolean) =>
    events.filter((event) => 'clientId' in event && event.clientId === PUBLIC_CLIENT && predicate(event)).length;
  return {
    signIns: count((event) => event.code === 'signed-in'),
    codesRedeemed: count((event) => event.code === 'token-issued' && event.grant === 'authorization_code'),
    refreshes: count((event) => event.code === 'token-issued' && event.grant === 'refresh_token'),
    deviceCodes: count((event) => event.code === 'device-code-issued'),
    revokedRefusals: events.filter((event) => event.code === 'request-refused' && event.aadsts === 50173).length,
  };
}

// ---------------------------------------------------------------- small helpers

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.replace(/\.$/, '');
}

function logTail(h: Harness): string {
  return h.log.length ? ` The service logged: ${h.log.slice(-4).join(' | ')}` : '';
}

function claims(token: string, todo: keyof typeof TODO_FILE & string): Record<string, unknown> {
  try {
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    throw new Error(`acquireToken() should return the access token (a JWT), but returned "${String(token).slice(0, 40)}". Return result.accessToken (${at(todo)}).`);
  }
}

async function waitFor<T>(read: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The verification URL and user code in a device code prompt ("…open the page <url> and enter the code <CODE>…"). */
function parsePrompt(text: string): { url: string; code: string } | undefined {
  const url = text.match(/https?:\/\/[^\s"']+\/devicelogin/)?.[0];
  const line = text.split('\n').find((l) => l.includes('/devicelogin'));
  const code = line?.match(/\b[A-HJ-NP-Z2-9]{9}\b/)?.[0];
  return url && code ? { url, code } : undefined;
}

const noStackTrace = (text: string) => !/\n\s+at .+:\d+:\d+/.test(text);

// ================================================================ the AuthenticationService

describe('lesson 2: AuthenticationService signs the user in with a public client', () => {
  it('acquireToken() signs the user in once, in the browser, and returns an access token for Microsoft Graph', async () => {
    const h = await newService({ user: 'ada' });
    const seen = recordEvents();
    const token = await acquire(h, 'sign Ada in (no account is cached yet) and return an access token', 'TODO 2.4');
    expect(h.opened, `The first acquireToken() has no cached account, so it should open the browser exactly once (acquireTokenInteractive with openBrowser). See ${at('TODO 2.4')}.`).toHaveLength(1);
    expect(tally(seen).codesRedeemed, `Signing in should redeem exactly one authorization code. See ${at('TODO 2.4')}.`).toBe(1);
    const c = claims(token, 'TODO 2.3');
    expect(c.aud, `The access token is for Microsoft Graph: request the scope User.Read (its aud is https://graph.microsoft.com). See ${at('TODO 2.4')}.`).toBe('https://graph.microsoft.com');
    expect(c.oid, `The token should belong to the user who signed in (Ada). See ${at('TODO 2.4')}.`).toBe(ADA.oid);
    expect(c.appid, `The token should be issued to the public client ${PUBLIC_CLIENT}: pass config.entra.publicClientId as clientId. See ${at('TODO 2.1')}.`).toBe(PUBLIC_CLIENT);
  });

  it('a second acquireToken() is silent: no browser, no sign-in, no new authorization code', async () => {
    const h = await newService();
    await acquire(h, 'sign Ada in', 'TODO 2.4');
    const seen = recordEvents();
    const token = await acquire(h, 'return the cached token silently', 'TODO 2.3');
    const after = tally(seen);
    // MSAL reloads the cache from the file before each access, so a cache that is never saved forgets the sign-in.
    const saved = await readFile(h.cachePath, 'utf8').then((text) => text.includes('"RefreshToken"'), () => false);
    expect(
      h.opened,
      saved
        ? `The second acquireToken() should not open the browser again: try acquireTokenSilent with the cached account first. See ${at('TODO 2.3')}.`
        : `The second acquireToken() opened the browser again, and the cache file holds no refresh token: MSAL reloads the cache in beforeCacheAccess before every access, so save it in afterCacheAccess whenever cacheHasChanged (${at('TODO 2.2')}).`,
    ).toHaveLength(1);
    expect(after.signIns, `No new sign-in should happen on the second call. See ${at('TODO 2.3')}.`).toBe(0);
    expect(after.codesRedeemed, `No new authorization code should be redeemed on the second call. See ${at('TODO 2.3')}.`).toBe(0);
    expect(claims(token, 'TODO 2.3').oid, `The silent token should still be Ada's. See ${at('TODO 2.3')}.`).toBe(ADA.oid);
  });

  it('callers that arrive during a sign-in share it: one browser tab, one sign-in', async () => {
    const h = await newService();
    const seen = recordEvents();
    const call = () => Promise.resolve().then(() => h.service.acquireToken());
    const results = await Promise.allSettled([call(), call(), call()]);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed, `Three concurrent acquireToken() calls should all succeed; one failed: ${failed ? firstLine(failed.reason) : ''}. See ${at('TODO 2.3')}.`).toBeUndefined();
    expect(h.opened.length, `Three concurrent first calls opened the browser ${h.opened.length} times; they should share one sign-in (keep the promise of the sign-in in progress and return it). See ${at('TODO 2.3')}.`).toBe(1);
    expect(tally(seen).signIns, `Concurrent callers should cause exactly one sign-in. See ${at('TODO 2.3')}.`).toBe(1);
  });

  it('renews an expired access token silently with the refresh token', async () => {
    emulator.settings.accessTokenLifetimeSeconds = SHORT_LIFETIME;
    const h = await newService();
    const first = await acquire(h, 'sign Ada in', 'TODO 2.4');
    const seen = recordEvents();
    const second = await acquire(h, 'renew the (nearly) expired access token silently', 'TODO 2.3');
    const after = tally(seen);
    expect(after.refreshes, `The access token expires within MSAL's 5-minute margin, so the second call should redeem the refresh token once (acquireTokenSilent does it). See ${at('TODO 2.3')}.`).toBe(1);
    expect(after.signIns + (h.opened.length - 1), `Renewing an expired access token must not ask the user to sign in again. See ${at('TODO 2.3')}.`).toBe(0);
    expect(second, `The renewed token should be a new one. See ${at('TODO 2.3')}.`).not.toBe(first);
  });

  it('after the refresh token is revoked, signs the user in again exactly once (no error, no loop)', async () => {
    emulator.settings.accessTokenLifetimeSeconds = SHORT_LIFETIME;
    const h = await newService();
    await acquire(h, 'sign Ada in', 'TODO 2.4');
    emulator.revokeUserSessions('ada');
    const seen = recordEvents();
    const token = await acquire(
      h,
      'sign the user in again when Entra refuses the refresh token (invalid_grant, AADSTS50173: MSAL throws a ServerError, not an InteractionRequiredAuthError)',
      'TODO 2.3',
    );
    const after = tally(seen);
    expect(after.revokedRefusals, `The revoked refresh token should be tried once, not over and over. See ${at('TODO 2.3')}.`).toBe(1);
    expect(after.signIns, `A revoked refresh token should lead to exactly one new sign-in. See ${at('TODO 2.3')}.`).toBe(1);
    expect(claims(token, 'TODO 2.3').oid, 'The new token should be Ada\'s.').toBe(ADA.oid);
    const seenAgain = recordEvents();
    await acquire(h, 'be silent again after the new sign-in', 'TODO 2.3');
    expect(tally(seenAgain).signIns, `After signing in again, the next call should be silent (it uses the new refresh token). See ${at('TODO 2.3')}.`).toBe(0);
  });

  it('when no browser can be opened, prints the device code prompt to its log and completes the sign-in there', async () => {
    const h = await newService({
      openBrowser: async () => {
        throw new Error('no browser on this machine (test)');
      },
    });
    const seen = recordEvents();
    const pending = Promise.resolve().then(() => h.service.acquireToken()).then(
      (token) => ({ token }),
      (error: unknown) => ({ error }),
    );
    const prompt = await waitFor(() => parsePrompt(h.log.join('\n')), 5000);
    if (!prompt) {
      const early = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve(undefined), 10))]);
      const why = early && 'error' in (early as object) ? ` acquireToken() failed: ${firstLine((early as { error: unknown }).error)}.` : '';
      throw new Error(
        `When openBrowser fails, the service should fall back to the device code flow (acquireTokenByDeviceCode) and log the prompt ` +
          `(response.message, with the URL and the code) within 5 s.${why} See ${at('TODO 2.4')}.` + logTail(h),
      );
    }
    await approveDeviceCode(prompt.url, prompt.code, 'grace');
    const outcome = await pending;
    if ('error' in outcome) throw new Error(`After approving the device code, acquireToken() failed: ${firstLine(outcome.error)}. See ${at('TODO 2.4')}.`);
    expect(claims(outcome.token, 'TODO 2.4').oid, `The device code was approved by Grace, so the token should be hers. See ${at('TODO 2.4')}.`).toBe(GRACE.oid);
    expect(tally(seen).deviceCodes, 'Exactly one device code should be requested.').toBe(1);
  });

  it('an error a browser cannot fix (Entra ID out of reach) goes back to the caller, with no sign-in', async () => {
    emulator.settings.accessTokenLifetimeSeconds = SHORT_LIFETIME;
    const h = await newService();
    await acquire(h, 'sign Ada in', 'TODO 2.4');
    // The access token needs renewing, and the token endpoint does not answer.
    network.use(http.post(emulator.endpoints.token, () => HttpResponse.error()));
    const failed = await Promise.resolve().then(() => h.service.acquireToken()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed, `With Entra ID out of reach, renewing the token cannot work: acquireToken() should reject. See ${at('TODO 2.3')}.`).toBeDefined();
    expect(
      h.opened.length - 1,
      `With Entra ID out of reach, the service opened the browser for a new sign-in, which cannot help: only InteractionRequiredAuthError, or a ServerError with invalid_grant, means "sign in again"; any other error goes back to the caller (needsSignIn, ${at('TODO 2.3')}).`,
    ).toBe(0);
  });

  it('a cancelled sign-in rejects, and the next call starts a new sign-in', async () => {
    let cancel = true;
    const h = await newService({ cancel: () => cancel });
    const seen = recordEvents();
    const attempt = Promise.resolve().then(() => h.service.acquireToken()).then(
      () => undefined,
      (error: unknown) => error,
    );
    const deviceCode = waitFor(() => (tally(seen).deviceCodes > 0 ? ('device code' as const) : undefined), 10_000);
    const failed = await Promise.race([attempt, deviceCode.then((found) => found ?? attempt)]);
    expect(
      failed,
      `After the user cancelled in the browser, the service started a device code sign-in. A cancelled (or refused) sign-in is the answer: reject. The device code is only for when no browser can be opened (${at('TODO 2.4')}).`,
    ).not.toBe('device code');
    expect(failed, `When the user cancels on the sign-in page, acquireToken() should reject (MSAL throws access_denied). See ${at('TODO 2.4')}.`).toBeDefined();
    cancel = false;
    const token = await acquire(h, 'start a new sign-in after a cancelled one (do not keep the failed promise around)', 'TODO 2.3');
    expect(h.opened.length, `The call after a cancelled sign-in should open the browser again. See ${at('TODO 2.3')}.`).toBe(2);
    expect(claims(token, 'TODO 2.3').oid).toBe(ADA.oid);
  });
});

// ================================================================ the persistent token cache

describe('lesson 2: the token cache survives a restart and stays private', () => {
  it('a new service instance reading the saved cache is silent: it redeems the saved refresh token', async () => {
    emulator.settings.accessTokenLifetimeSeconds = SHORT_LIFETIME;
    const first = await newService();
    await acquire(first, 'sign Ada in', 'TODO 2.4');
    const seen = recordEvents();
    const restarted = await newService({ cachePath: first.cachePath });
    const token = await acquire(restarted, 'sign in silently from the cache file the first instance saved', 'TODO 2.2');
    const after = tally(seen);
    expect(
      restarted.opened,
      `After a restart with the same cache file, the user should not have to sign in again. Save the cache in afterCacheAccess and load it in beforeCacheAccess (${at('TODO 2.2')}).`,
    ).toHaveLength(0);
    expect(after.signIns, `No sign-in should happen after a restart with a saved cache. See ${at('TODO 2.2')}.`).toBe(0);
    expect(after.refreshes, `The restarted service should redeem the refresh token it read from the file. See ${at('TODO 2.2')}.`).toBe(1);
    expect(claims(token, 'TODO 2.2').oid).toBe(ADA.oid);
  });

  it.skipIf(process.platform === 'win32')('the cache file can be read and written by its owner only (mode 0600), also after an update (POSIX)', async () => {
    emulator.settings.accessTokenLifetimeSeconds = SHORT_LIFETIME;
    const h = await newService({ cachePath: path.join(tmp, 'state', 'lesson-02', 'token-cache.json') });
    await acquire(h, 'sign Ada in', 'TODO 2.4');
    const mode = await fileMode(h.cachePath);
    expect(mode, `After signing in, the token cache should exist at the cachePath (${at('TODO 2.2')}).`).toBeDefined();
    expect(mode!.toString(8), `The token cache holds a refresh token: create it with mode 0o600 (owner only); it has ${mode!.toString(8)}. See ${at('TODO 2.2')}.`).toBe('600');
    await chmod(h.cachePath, 0o644);
    await acquire(h, 'renew the token silently', 'TODO 2.3'); // the refresh rewrites the cache
    const after = await fileMode(h.cachePath);
    expect(after!.toString(8), `When the cache is written again, it must end up 0600 even if someone loosened it (write a new private file and rename it over the old one, or chmod). See ${at('TODO 2.2')}.`).toBe('600');
  });

  it('a damaged cache file costs one sign-in, not a crash', async () => {
    const cachePath = path.join(tmp, 'token-cache.json');
    await writeFile(cachePath, '{ this is not a token cache', { mode: 0o600 });
    const h = await newService({ cachePath });
    await acquire(h, 'ignore the damaged cache and sign in (check that the file is valid JSON before deserialize, log a line and load nothing if not: MSAL keeps what deserialize gets and would merge the garbage into every later save)', 'TODO 2.2');
    expect(h.opened, `With a damaged cache the user signs in once. See ${at('TODO 2.2')}.`).toHaveLength(1);
    const restarted = await newService({ cachePath });
    await acquire(restarted, 'read the repaired cache', 'TODO 2.2');
    expect(restarted.opened, `After that sign-in the file should hold a good cache again, so a restart is silent. See ${at('TODO 2.2')}.`).toHaveLength(0);
  });
});

async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o777;
  } catch {
    return undefined;
  }
}

// ================================================================ the MCP tool

describe('lesson 2: the get_my_profile tool', () => {
  it('lists get_my_profile; the first call signs in and returns the user\'s Graph profile, the second is silent', async () => {
    const h = await newService({ user: 'grace' });
    const client = await connect(h.service);
    const tools = await client.listTools().then(
      (listed) => listed.tools,
      (error: unknown) => {
        throw new Error(`tools/list failed: ${firstLine(error)}. The server offers no tools yet: register ${TOOL} (${at('TODO 2.5')}).`);
      },
    );
    expect(tools.map((t) => t.name), `The server should offer the tool ${TOOL}. See ${at('TODO 2.5')}.`).toContain(TOOL);
    expect(tools.find((t) => t.name === TOOL)?.description?.trim(), `${TOOL} needs a description. See ${at('TODO 2.5')}.`).toBeTruthy();

    const seen = recordEvents();
    const first = await callProfile(client);
    expect(first.isError, `The first call should sign Grace in and return her profile; it answered: "${first.text}". See ${at('TODO 2.5')}.`).toBe(false);
    for (const expected of [GRACE.displayName, GRACE.userPrincipalName, GRACE.jobTitle]) {
      expect(first.text, `The profile from Graph /me should include "${expected}". See ${at('TODO 2.5')}.`).toContain(expected);
    }
    const call = graph.calls.at(-1);
    expect(call?.path, `The tool should call Graph GET /v1.0/me at config.graphBaseUrl. See ${at('TODO 2.5')}.`).toBe('/v1.0/me');
    expect(call?.oid, `Graph should receive Grace's token from the AuthenticationService. See ${at('TODO 2.5')}.`).toBe(GRACE.oid);
    expect(tally(seen).signIns, `The first call should sign in exactly once. See ${at('TODO 2.3')}.`).toBe(1);

    const seenAgain = recordEvents();
    const second = await callProfile(client);
    expect(second.isError, `The second call should succeed too; it answered: "${second.text}".`).toBe(false);
    expect(tally(seenAgain).signIns, `The second call should be silent: no new sign-in. See ${at('TODO 2.3')}.`).toBe(0);
    expect(tally(seenAgain).codesRedeemed, `The second call should redeem no authorization code. See ${at('TODO 2.3')}.`).toBe(0);
    expect(h.opened, `The browser should open once for both calls. See ${at('TODO 2.3')}.`).toHaveLength(1);
  });

  it('Graph throttling (429 with Retry-After) becomes a tool error that says how long to wait, at once; the server keeps answering', async () => {
    const h = await newService();
    const client = await connect(h.service);
    await expectProfile(client, 'sign in before the throttled call');
    graph.failNext({ status: 429, retryAfterSeconds: 7 });
    const throttled = await callProfile(client, 5000);
    expect(throttled.isError, `A 429 from Graph should come back as a tool error (isError: true); it answered: "${throttled.text}". See ${at('TODO 2.6')}.`).toBe(true);
    expect(throttled.text, `The error should tell the person when to try again: Retry-After said 7 seconds. See ${at('TODO 2.6')}.`).toMatch(/\b7\b/);
    expect(noStackTrace(throttled.text), `A tool error is for a person: no stack trace. See ${at('TODO 2.6')}.`).toBe(true);
    await expectProfile(client, 'work again after the 429');
  });

  it('Graph failures (503 with Retry-After, 500) become readable tool errors; the server keeps answering', async () => {
    const h = await newService();
    const client = await connect(h.service);
    await expectProfile(client, 'sign in first');
    graph.failNext({ status: 503, retryAfterSeconds: 30 });
    const unavailable = await callProfile(client, 5000);
    expect(unavailable.isError, `A 503 from Graph should be a tool error; it answered: "${unavailable.text}". See ${at('TODO 2.6')}.`).toBe(true);
    expect(unavailable.text, `The 503 error should say to try again in 30 seconds (its Retry-After). See ${at('TODO 2.6')}.`).toMatch(/\b30\b/);
    graph.failNext({ status: 500 });
    const broken = await callProfile(client, 5000);
    expect(broken.isError, `A 500 from Graph should be a tool error; it answered: "${broken.text}". See ${at('TODO 2.6')}.`).toBe(true);
    expect(broken.text.trim().length > 0 && noStackTrace(broken.text), `The 500 error should be a readable sentence, not a stack trace. See ${at('TODO 2.6')}.`).toBe(true);
    await expectProfile(client, 'work again after the 503 and the 500');
  });

  it('a 403 from Graph becomes a tool error that names the missing permission (User.Read)', async () => {
    const h = await newService();
    const client = await connect(h.service);
    await expectProfile(client, 'sign in first');
    network.use(
      http.get(
        'https://graph.microsoft.com/v1.0/me',
        () => HttpResponse.json({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }, { status: 403 }),
        { once: true },
      ),
    );
    const denied = await callProfile(client);
    expect(denied.isError, `A 403 from Graph should be a tool error; it answered: "${denied.text}". See ${at('TODO 2.6')}.`).toBe(true);
    expect(denied.text, `A person can fix a 403 by granting the permission: name it (User.Read). See ${at('TODO 2.6')}.`).toContain('User.Read');
    await expectProfile(client, 'work again after the 403');
  });

  it('a 401 from Graph becomes a tool error, and the next call sends Graph a new token instead of the refused one', async () => {
    const h = await newService();
    const client = await connect(h.service);
    await expectProfile(client, 'sign in first');
    let refused: string | undefined;
    network.use(
      http.get(
        'https://graph.microsoft.com/v1.0/me',
        ({ request }) => {
          refused = request.headers.get('authorization')?.replace(/^Bearer\s+/i, '');
          return HttpResponse.json({ error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } }, { status: 401 });
        },
        { once: true },
      ),
    );
    const rejected = await callProfile(client);
    expect(rejected.isError, `A 401 from Graph should be a tool error; it answered: "${rejected.text}". See ${at('TODO 2.6')}.`).toBe(true);
    expect(noStackTrace(rejected.text), 'The 401 error should be readable, with no stack trace.').toBe(true);
    await expectProfile(client, 'work again after the 401');
    const sent = graph.calls.at(-1)?.token;
    expect(refused, 'The refused call should have carried a token.').toBeTruthy();
    expect(
      sent,
      `After Graph refused a token, the next call should get a fresh one (acquireToken({ forceRefresh: true })) rather than send the refused token again. See ${at('TODO 2.6')}.`,
    ).not.toBe(refused);
  });

  it('a sign-in that fails becomes a tool error, and the next call signs in', async () => {
    let cancel = true;
    const h = await newService({ cancel: () => cancel });
    const client = await connect(h.service);
    const failed = await callProfile(client);
    expect(failed.isError, `When the user cancels the sign-in, the tool should answer with isError: true; it answered: "${failed.text}". See ${at('TODO 2.5')}.`).toBe(true);
    expect(noStackTrace(failed.text), `The sign-in error should be readable, with no stack trace. See ${at('TODO 2.5')}.`).toBe(true);
    expect(
      failed.text,
      `A sign-in that did not complete should say so, and that calling the tool again signs in; Graph was never called, so the error must not blame Graph. It said: "${failed.text}". ` +
        `Turn a failure of acquireToken() into its own tool error, before the Graph call (${at('TODO 2.5')}).`,
    ).toMatch(/sign[- ]?in/i);
    expect(failed.text, `The sign-in failed before any call to Microsoft Graph, yet the error names Graph: "${failed.text}". See ${at('TODO 2.5')}.`).not.toMatch(/graph/i);
    cancel = false;
    await expectProfile(client, 'sign in on the next call after a cancelled sign-in');
  });
});

async function expectProfile(client: Client, what: string): Promise<void> {
  const result = await callProfile(client);
  expect(result.isError, `${TOOL} should ${what} and return the profile; it answered: "${result.text}". See ${at('TODO 2.5')}.`).toBe(false);
}

// ================================================================ the real thing: a child process over stdio

function startChild(running: RunningEmulator, cwd: string, stateDir: string): StdioChild {
  return StdioChild.start(path.join(DIR, 'main.ts'), {
    cwd,
    env: isolatedEnv({ EMULATOR_URL: running.url.origin, LAB_STATE_DIR: stateDir, LAB_NO_BROWSER: '1' }),
  });
}

describe('lesson 2: the server as a child process over stdio', () => {
  // One test, two processes: a device code sign-in costs seconds, and the restart needs one anyway.
  it('writes nothing but JSON-RPC to stdout, even during a device code sign-in, and a restarted process signs in from its saved cache', { timeout: 60_000 }, () => stdioScenario);
});

/**
 * The stdio test: Ada signs in to a server process with a device code, then a restarted process
 * answers from the cache it saved, and stdout carries only JSON-RPC throughout. Started by beforeAll.
 */
async function signInAndRestartOverStdio(): Promise<void> {
  const running = await startEmulatorServer({ port: 0 });
  // As quick to poll for device codes as the in-process emulator.
  running.emulator.settings.deviceCodeIntervalSeconds = emulator.settings.deviceCodeIntervalSeconds;
  // The server's working directory is a temporary one: the learner's .env must not decide how it runs.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lesson-02-stdio-'));
  const stateDir = path.join(dir, 'state');
  const started: StdioChild[] = [];
  try {
    const first = startChild(running, dir, stateDir);
    started.push(first);
    await first.initialize(20_000);
    const response = await signInOverStdio(first, running, 'ada');
    expectOnlyProtocolOnStdout(first, 'While Ada signed in with a device code');
    const result = response.result as CallToolResult | undefined;
    expect(response.error, `tools/call ${TOOL} answered with a protocol error: ${response.error?.message}. See ${at('TODO 2.5')}.`).toBeUndefined();
    expect(result?.isError, `After the device code sign-in, ${TOOL} should return Ada's profile; it answered: ${said(resultText(result))}. stderr:\n${first.stderr}`).not.toBe(true);
    expect(resultText(result), 'The profile should be Ada\'s.').toContain(ADA.userPrincipalName);
    expect(running.graph.calls.map((c) => c.oid), 'Graph (behind the offline bridge) should have been called with Ada\'s token.').toContain(ADA.oid);
    await first.close();

    const seen = recordEvents(running.emulator);
    const second = startChild(running, dir, stateDir);
    started.push(second);
    await second.initialize(20_000);
    const deviceCodes = () => seen.filter((event) => event.code === 'device-code-issued').length;
    const noNewSignIn = `The restarted process asked for a new device code: it did not find the saved cache in LAB_STATE_DIR. See ${at('TODO 2.2')}.`;
    let answered = false;
    const call = second.request('tools/call', { name: TOOL, arguments: {} }, 15_000).finally(() => (answered = true));
    // A device code request means a sign-in nobody will approve: the call cannot answer, so say why now.
    const asked = waitFor(() => (deviceCodes() > 0 ? true : answered ? false : undefined), 15_000);
    if (await Promise.race([asked, call.then(() => false, () => false)])) expect(deviceCodes(), noNewSignIn).toBe(0);
    const again = await call.catch((error: Error) => {
      throw new Error(
        `The restarted process should answer from its saved token cache without a new sign-in, but: ${firstLine(error)}. ` +
          `See ${at('TODO 2.2')}. Its stderr:\n${second.stderr}`,
      );
    });
    expectOnlyProtocolOnStdout(second, 'After a restart');
    const restarted = again.result as CallToolResult | undefined;
    expect(restarted?.isError, `The restarted process should return Ada's profile; it answered: ${said(resultText(restarted))}. See ${at('TODO 2.2')}.`).not.toBe(true);
    expect(resultText(restarted)).toContain(ADA.userPrincipalName);
    expect(deviceCodes(), noNewSignIn).toBe(0);
  } finally {
    await Promise.allSettled(started.map((child) => child.close()));
    await running.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts a call to get_my_profile, approves the device code the server prints on stderr, returns the answer. */
async function signInOverStdio(child: StdioChild, running: RunningEmulator, user: string) {
  const PROMPT = /https?:\/\/\S+\/devicelogin[^\n]*/;
  const seen = recordEvents(running.emulator);
  const call = child.request('tools/call', { name: TOOL, arguments: {} }, 30_000);
  let answered = false;
  const settled = call.then(
    () => (answered = true),
    () => (answered = true),
  );
  // The prompt, or the answer: once the call has answered, no sign-in is left to wait for.
  const match = (await Promise.race([child.waitForStderr(PROMPT, 15_000), settled.then(() => undefined)])) ?? child.stderr.match(PROMPT) ?? undefined;
  const prompt = match ? parsePrompt(match[0]) : undefined;
  if (!prompt) {
    const answer = await Promise.race([call, new Promise((resolve) => setTimeout(() => resolve(undefined), 50))]).catch((e: Error) => e.message);
    if ((answer as JsonRpcResponse | undefined)?.error) {
      throw new Error(
        `tools/call ${TOOL} answered with a protocol error before any sign-in: ${(answer as JsonRpcResponse).error!.message}. ` +
          `Register the tool first (${at('TODO 2.5')}). Its stderr:\n${child.stderr || '(empty)'}`,
      );
    }
    const when = answered ? 'before it answers the call; it answered without one' : 'within 15 s';
    throw new Error(
      `With no browser (LAB_NO_BROWSER=1), the server should print the device code prompt (URL and code) on stderr ${when}. ` +
        `See ${at('TODO 2.4')}.${answer ? ` The tool answered: ${JSON.stringify(answer).slice(0, 300)}.` : ''} Its stderr:\n${child.stderr || '(empty)'}`,
    );
  }
  await approveDeviceCode(prompt.url, prompt.code, user);
  // A second device code is a sign-in nobody will approve: the call cannot answer, so say why now.
  const deviceCodes = () => seen.filter((event) => event.code === 'device-code-issued').length;
  const askedAgain = await Promise.race([waitFor(() => (deviceCodes() > 1 ? true : answered ? false : undefined), 30_000), settled.then(() => false)]);
  if (askedAgain) {
    throw new Error(
      `After the test user ${user} approved the device code, the server asked for another one instead of answering tools/call ${TOOL}: the sign-in it had just completed was lost. ` +
        `Return the token of that sign-in, and let the cache plugin keep it (${at('TODO 2.2')}). Its stderr:\n${child.stderr || '(empty)'}`,
    );
  }
  return call;
}

/** stdout carries the JSON-RPC stream and nothing else: the first line that is not a message, named. */
function expectOnlyProtocolOnStdout(child: StdioChild, when: string): void {
  const strays = nonProtocolLines(child.stdoutLines);
  expect(
    strays,
    `${when}, stdout carried ${strays.length} line(s) that are not JSON-RPC messages, first ${JSON.stringify(strays[0]?.slice(0, 200))}. ` +
      `stdout is the protocol: an MCP client drops the connection or loses the answer. Log with the service's log function (stderr), never console.log or process.stdout ` +
      `(${at('TODO 2.1')} for MSAL's logger, ${at('TODO 2.4')} for the device code prompt).`,
  ).toEqual([]);
}
