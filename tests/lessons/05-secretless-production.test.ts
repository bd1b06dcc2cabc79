/**
 * Lesson 5: lesson 4's resource server, secretless and ready for production. The API proves itself
 * to Entra ID (the emulator) with a certificate or a managed identity's federated credential, never a
 * secret; OBO tokens live in a cache replicas share (a real Redis); logs hold no credential; refused
 * requests are rate limited; admin tools need an app role and every tool call leaves one audit line;
 * health endpoints say nothing; shutdown finishes requests in flight.
 */
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type RequestListener, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Express } from 'express';
import { loadConfig, type WorkshopConfig } from '../../shared/config.ts';
import { APPS, MANAGED_IDENTITIES, OFFLINE_IDENTITY_HEADER, TOKEN_EXCHANGE_AUDIENCE, findUser, type ManagedIdentity } from '../../shared/emulator/directory.ts';
import { IDENTITY_ENDPOINT_PATH } from '../../shared/emulator/managedIdentity.ts';
import type { EmulatorEvent } from '../../shared/emulator/events.ts';
import { makeCertificate, writeCertificateFiles, type CertificateFiles } from '../../shared/offline/credentials.ts';
import { emulator, graph, recordEvents } from '../support/lab.ts';
import { network } from '../support/network.ts';
import { freePort, listenOnFreePort, shortPath, type Listening } from '../support/harness.ts';
import { said } from '../support/mcp.ts';
import { redisUnavailableReason, startRedis, type RunningRedis } from '../support/redis.ts';
import { toolNameRules } from '../support/resourceServerSuite.ts';
import { importLesson, lessonDir, requireExport } from '../support/target.ts';

const DIR = shortPath(lessonDir(5));
const FILES = {
  app: `${DIR}/app.ts`,
  credentials: `${DIR}/credentials.ts`,
  tokenCache: `${DIR}/tokenCache.ts`,
  logging: `${DIR}/logging.ts`,
  scopes: `${DIR}/scopes.ts`,
  lifecycle: `${DIR}/lifecycle.ts`,
};
/** Where to look, for messages: "TODO 5.1 in lessons/05-secretless-production/credentials.ts". */
const TODO = {
  certificate: `TODO 5.1 in ${FILES.credentials}`,
  identity: `TODO 5.2 in ${FILES.credentials}`,
  cache: `TODO 5.3 in ${FILES.tokenCache}`,
  logs: `TODO 5.4 in ${FILES.logging}`,
  limits: `TODO 5.5 in ${FILES.app}`,
  audit: `TODO 5.6 in ${FILES.scopes}`,
  health: `TODO 5.7 in ${FILES.app}`,
  shutdown: `TODO 5.7 in ${FILES.lifecycle}`,
};
const ADA = findUser('ada')!;
const GRACE = findUser('grace')!;
const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const REDIS_SKIP = redisUnavailableReason();
if (REDIS_SKIP) console.warn(`Lesson 5: skipping the shared-cache tests that need a real Redis: ${REDIS_SKIP}.`);


// ------------------------------------------------------------------------------------------ the lesson

interface ProductionApp {
  app: Express;
  logger: unknown;
  state: { ready: boolean };
  close(): Promise<void>;
}
interface TokenStore {
  kind: string;
  get(key: string): Promise<string>;
  set(key: string, value: string): Promise<string>;
  close(): Promise<void>;
}
type ClientCredential = Record<string, unknown>;
interface Lesson {
  createApp(config: WorkshopConfig, options?: Record<string, unknown>): Promise<ProductionApp>;
  createLogger(options?: { destination?: { write(line: string): void } }): unknown;
  memoryTokenStore(): TokenStore;
  listen(app: RequestListener, port: number, host?: string): Promise<Server>;
  shutDownGracefully(server: Server, options: { state: { ready: boolean }; log: unknown; graceMs?: number }): Promise<void>;
}

async function loadLesson(): Promise<Lesson> {
  const app = await importLesson(5, 'app.ts');
  const logging = await importLesson(5, 'logging.ts');
  const tokenCache = await importLesson(5, 'tokenCache.ts');
  const lifecycle = await importLesson(5, 'lifecycle.ts');
  return {
    createApp: requireExport(app, 'createApp', FILES.app),
    createLogger: requireExport(logging, 'createLogger', FILES.logging),
    memoryTokenStore: requireExport(tokenCache, 'memoryTokenStore', FILES.tokenCache),
    listen: requireExport(lifecycle, 'listen', FILES.lifecycle),
    shutDownGracefully: requireExport(lifecycle, 'shutDownGracefully', FILES.lifecycle),
  };
}

// ------------------------------------------------------------------------------------------ credentials

let workDir: string;
/** A certificate registered on the API app (as uploaded under Certificates & secrets), and its key. */
let registered: CertificateFiles & { pem: string; thumbprintSha256: string };
/** A certificate nobody registered. */
let unregistered: CertificateFiles;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'lab-lesson5-'));
  const good = await makeCertificate('lesson-5-tests');
  registered = {
    certificatePath: path.join(workDir, 'registered', 'cert.pem'),
    privateKeyPath: path.join(workDir, 'registered', 'key.pem'),
    pem: good.certificatePem,
    thumbprintSha256: emulator.registerCertificate(APPS.mcpApi.clientId, good.certificatePem).thumbprintSha256,
  };
  writeCertificateFiles(registered, good);
  unregistered = { certificatePath: path.join(workDir, 'unregistered', 'cert.pem'), privateKeyPath: path.join(workDir, 'unregistered', 'key.pem') };
  writeCertificateFiles(unregistered, await makeCertificate('not-registered'));
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The credential tests use when the credential is not what they test: the registered certificate, built here. */
function testCredential(): ClientCredential {
  return { clientCertificate: { thumbprintSha256: registered.thumbprintSha256, privateKey: readFileSync(registered.privateKeyPath, 'utf8') } };
}

/** Settings for a lesson 5 server on `port`: offline, the registered certificate, never the learner's .env. */
/** Application ID URIs the running test registered on the emulator, removed when it ends. */
const registeredUris: Array<() => void> = [];
afterEach(() => registeredUris.splice(0).forEach((unregister) => unregister()));

/**
 * The offline settings of a server on `port`. The emulator, like Entra ID, accepts only the exact
 * Application ID URI, so the test registers this server's MCP URL on the API, as a tenant admin would.
 */
function settings(port: number, env: Record<string, string> = {}): WorkshopConfig {
  const config = loadConfig({
    PORT: String(port),
    LAB_STATE_DIR: path.join(workDir, 'state'),
    ENTRA_API_CREDENTIAL: 'certificate',
    ENTRA_API_CERTIFICATE_PATH: registered.certificatePath,
    ENTRA_API_PRIVATE_KEY_PATH: registered.privateKeyPath,
    ...env,
  });
  registeredUris.push(emulator.addApiAppIdUri(config.mcpUrl));
  return config;
}

// ------------------------------------------------------------------------------------------ servers

interface Running {
  mcpUrl: URL;
  base: string;
  config: WorkshopConfig;
  created: ProductionApp;
  listening: Listening;
  logs: CapturedLogs;
}

interface CapturedLogs {
  text(): string;
  lines(): Array<Record<string, unknown>>;
  destination: { write(line: string): void };
}

function captureLogs(): CapturedLogs {
  let text = '';
  return {
    destination: { write: (line: string) => void (text += line) },
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
  };
}

const running: Running[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const { listening, created } of running.splice(0)) {
    await listening.close();
    await created.close().catch(() => {});
  }
});

interface StartOptions {
  env?: Record<string, string>;
  /** Use the lesson's own credential from the settings (ENTRA_API_CREDENTIAL); default: the test's certificate. */
  ownCredential?: boolean;
  /** A credential of the test's own making, instead of either. */
  credential?: ClientCredential;
  tokenStore?: TokenStore;
  rateLimit?: { windowMs: number; limit: number };
}

/** Starts the lesson's app on a free port, with logs captured. */
async function start(options: StartOptions = {}): Promise<Running> {
  const lesson = await loadLesson();
  const listening = await listenOnFreePort();
  const { server, port } = listening;
  const config = settings(port, options.env);
  const logs = captureLogs();
  let created: ProductionApp;
  try {
    created = await lesson.createApp(config, {
      logger: lesson.createLogger({ destination: logs.destination }),
      ...(options.ownCredential ? {} : { credential: options.credential ?? testCredential() }),
      ...(options.tokenStore ? { tokenStore: options.tokenStore } : {}),
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    });
  } catch (error) {
    await listening.close();
    throw error;
  }
  server.on('request', created.app);
  const started = { mcpUrl: config.mcpUrl, base: `http://localhost:${port}`, config, created, listening, logs };
  running.push(started);
  return started;
}

// ------------------------------------------------------------------------------------------ HTTP

const scope = (config: WorkshopConfig, name: string) => `${config.entra.apiAppIdUri}/${name}`;

/** A genuine delegated token for our API on this server's port, as the pre-registered MCP client would get it. */
function userToken(config: WorkshopConfig, user = 'ada', scopes = ['tools.read', 'mail.send']): Promise<string> {
  return emulator.issueAccessToken({ client: APPS.mcpClient.clientId, user, scope: scopes.map((name) => scope(config, name)).join(' ') });
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  rpc?: { result?: { content?: Array<{ text?: string }>; isError?: boolean }; error?: { message: string } };
}

async function post(mcpUrl: URL, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
  const text = await response.text();
  let rpc: Reply['rpc'];
  try {
    rpc = JSON.parse(text);
  } catch {
    rpc = undefined;
  }
  return { status: response.status, headers: response.headers, text, rpc };
}

function callTool(mcpUrl: URL, token: string | undefined, name: string, args: Record<string, unknown> = {}): Promise<Reply> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
  return post(mcpUrl, body, token === undefined ? {} : { authorization: `Bearer ${token}` });
}

const toolText = (reply: Reply) => (reply.rpc?.result?.content ?? []).map((block) => block.text ?? '').join('\n');
const shown = (reply: Reply) => `HTTP ${reply.status} ${said(reply.text, 200)}`;

function expectToolSuccess(reply: Reply, what: string, todo: string): string {
  expect(reply.status, `${what}: expected HTTP 200, got ${shown(reply)}. See ${todo}.`).toBe(200);
  expect(reply.rpc?.result?.isError, `${what}: expected a successful tool result, got: ${said(toolText(reply) || reply.text, 200)}. See ${todo}.`).not.toBe(true);
  return toolText(reply);
}

/** How many On-Behalf-Of tokens Entra ID issued among recorded events (recordEvents()). */
const oboGrants = (events: readonly EmulatorEvent[]) => events.filter((event) => event.code === 'token-issued' && event.grant === OBO_GRANT).length;

/** Records the form of every request to the token endpoint, then lets the emulator answer it. */
function recordTokenRequests(): URLSearchParams[] {
  const forms: URLSearchParams[] = [];
  network.use(
    http.post(emulator.endpoints.token, async ({ request }) => {
      forms.push(new URLSearchParams(await request.clone().text()));
      // No response: msw hands the request on to the emulator.
    }),
  );
  return forms;
}

// ================================================================================================

describe('lesson 5: no client secret — a certificate credential', () => {
  it('signs every On-Behalf-Of request with the registered certificate (client_assertion with x5t#S256), and never sends a client_secret', async () => {
    const forms = recordTokenRequests();
    const { mcpUrl, config } = await start({ ownCredential: true });
    const incoming = await userToken(config, 'grace', ['tools.read']);
    expectToolSuccess(await callTool(mcpUrl, incoming, 'my_profile'), 'my_profile with the certificate credential', TODO.certificate);

    expect(forms.length, `my_profile should have asked Entra ID for an On-Behalf-Of token. See ${TODO.certificate}.`).toBeGreaterThan(0);
    for (const form of forms) {
      expect(form.has('client_secret'), `A token request carried a client_secret: lesson 5 uses no secret at all. Build the credential in ${TODO.certificate}.`).toBe(false);
      expect(form.get('client_assertion_type'), `Every token request must prove the app's identity with a signed client assertion (RFC 7523). See ${TODO.certificate}.`).toBe(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      const header = decodeProtectedHeader(form.get('client_assertion') ?? '');
      const expected = Buffer.from(registered.thumbprintSha256, 'hex').toString('base64url');
      expect(header['x5t#S256'], `The assertion should name the certificate by its SHA-256 thumbprint (x5t#S256): pass thumbprintSha256 to MSAL's clientCertificate. See ${TODO.certificate}.`).toBe(expected);
    }
    const call = graph.calls.at(-1);
    expect(call?.appid, 'Graph should get an OBO token issued to the API.').toBe(APPS.mcpApi.clientId);
  });

  it('refuses at start-up a private key that the group or other users can read', async () => {
    if (process.platform === 'win32') return; // no POSIX mode bits: Windows protects files with ACLs
    for (const mode of [0o640, 0o604]) {
      const open = path.join(workDir, `key-${mode.toString(8)}.pem`);
      copyFileSync(registered.privateKeyPath, open);
      chmodSync(open, mode);
      const error = await start({ ownCredential: true, env: { ENTRA_API_PRIVATE_KEY_PATH: open } }).then(
        () => undefined,
        (failure: Error) => failure,
      );
      const who = mode === 0o640 ? 'the group' : 'every user of the machine';
      expect(error, `A private key with mode ${mode.toString(8)} is readable by ${who}: createApp must refuse to start. Check the file's mode bits (stat) in ${TODO.certificate}.`).toBeInstanceOf(Error);
      expect(error!.message, `The start-up error should say how to fix it (chmod 600); it said: ${error!.message}. See ${TODO.certificate}.`).toMatch(/chmod 600/);
    }
  });

  it('refuses at start-up a private key that does not belong to the certificate', async () => {
    const error = await start({ ownCredential: true, env: { ENTRA_API_PRIVATE_KEY_PATH: unregistered.privateKeyPath } }).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error, `The key and the certificate do not match: every assertion would fail. Refuse at start-up (X509Certificate.checkPrivateKey) in ${TODO.certificate}.`).toBeInstanceOf(Error);
    expect(error!.message, `The error should name the mismatch; it said: ${error!.message}`).toMatch(/does not belong|not match/i);
  });

  it('refuses at start-up a certificate that has expired', async () => {
    // Named so that nothing but the server's own words can put "expired" in the error.
    const expired = { certificatePath: path.join(workDir, 'lapsed', 'cert.pem'), privateKeyPath: path.join(workDir, 'lapsed', 'key.pem') };
    writeCertificateFiles(expired, await makeCertificate('expired', -1));
    const error = await start({ ownCredential: true, env: { ENTRA_API_CERTIFICATE_PATH: expired.certificatePath, ENTRA_API_PRIVATE_KEY_PATH: expired.privateKeyPath } }).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error, `An expired certificate makes every assertion fail (AADSTS700027 at the first tool call): refuse it at start-up (validTo) in ${TODO.certificate}.`).toBeInstanceOf(Error);
    expect(error!.message, `The error should say the certificate expired; it said: ${error!.message}. See ${TODO.certificate}.`).toMatch(/expired/i);
  });

  it('a certificate Entra ID does not know is refused (AADSTS700027): the caller gets a tool error, the operator a log line, nobody a 5xx', async () => {
    const { mcpUrl, config, logs } = await start({
      ownCredential: true,
      env: { ENTRA_API_CERTIFICATE_PATH: unregistered.certificatePath, ENTRA_API_PRIVATE_KEY_PATH: unregistered.privateKeyPath },
    });
    const reply = await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile');
    expect(reply.status, `A refused credential is not the caller's fault and not a crash: expected HTTP 200 with a tool error, got ${shown(reply)}.`).toBe(200);
    expect(reply.rpc?.result?.isError, `my_profile cannot work with an unregistered certificate; it answered: ${toolText(reply)}`).toBe(true);
    expect(logs.text(), `The operator needs Entra ID's reason in the logs (AADSTS700027: the certificate is not registered). See graph.ts and ${TODO.certificate}.`).toContain('700027');
    expect(graph.calls, 'Graph must not be called without an OBO token.').toHaveLength(0);
  });

  it('keeps every secret out of the lesson: no clientSecret in its code', () => {
    for (const file of readdirSync(lessonDir(5)).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(path.join(lessonDir(5), file), 'utf8');
      expect(source, `${DIR}/${file} mentions a client secret; lesson 5 is secretless (certificate or managed identity only).`).not.toMatch(/\bclientSecret\s*:|apiClientSecret|client_secret=/);
    }
  });
});

describe('lesson 5: no client secret — a managed identity as a federated credential', () => {
  const IDENTITY_ENDPOINT = `${emulator.origin}${IDENTITY_ENDPOINT_PATH}`;
  const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
  beforeAll(() => {
    // What App Service and Container Apps put in the container's environment; MSAL reads them.
    process.env.IDENTITY_ENDPOINT = IDENTITY_ENDPOINT;
    process.env.IDENTITY_HEADER = OFFLINE_IDENTITY_HEADER;
  });
  afterAll(() => {
    for (const [name, value] of [['IDENTITY_ENDPOINT', saved.endpoint], ['IDENTITY_HEADER', saved.header]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** Records the platform identity endpoint's requests, then lets the emulator answer them. */
  function recordIdentityRequests(): Request[] {
    const requests: Request[] = [];
    network.use(
      http.get(IDENTITY_ENDPOINT, ({ request }) => {
        requests.push(request.clone());
      }),
    );
    return requests;
  }

  const managedIdentity = (identity: ManagedIdentity = MANAGED_IDENTITIES.mcpServer) => ({ ENTRA_API_CREDENTIAL: 'managed-identity', ENTRA_MANAGED_IDENTITY_CLIENT_ID: identity.clientId });

  it("presents the identity's token from the platform endpoint as the client assertion of every OBO request, never a secret", async () => {
    const forms = recordTokenRequests();
    const identityRequests = recordIdentityRequests();
    const { mcpUrl, config } = await start({ ownCredential: true, env: managedIdentity() });
    expectToolSuccess(await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile'), 'my_profile with the managed identity', TODO.identity);

    const obo = forms.filter((form) => form.get('grant_type') === OBO_GRANT);
    expect(obo.length, `my_profile should have made an On-Behalf-Of request. See ${TODO.identity}.`).toBeGreaterThan(0);
    for (const form of obo) {
      expect(form.has('client_secret'), `A token request carried a client_secret. See ${TODO.identity}.`).toBe(false);
      expect(form.get('client_assertion_type'), `The OBO request must carry a client assertion. See ${TODO.identity}.`).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const claims = decodeJwt(form.get('client_assertion') ?? '');
      expect(claims.sub, `The client assertion should be the managed identity's own token (sub = its principal ID ${MANAGED_IDENTITIES.mcpServer.principalId}). Return acquireToken(…).accessToken from the clientAssertion callback (${TODO.identity}).`).toBe(
        MANAGED_IDENTITIES.mcpServer.principalId,
      );
      expect(claims.aud, `The identity's token must be for ${TOKEN_EXCHANGE_AUDIENCE}. Ask for that resource (${TODO.identity}).`).toBe(TOKEN_EXCHANGE_AUDIENCE);
    }
    for (const request of identityRequests) {
      const url = new URL(request.url);
      expect(request.headers.get('x-identity-header'), 'MSAL sends IDENTITY_HEADER back as X-IDENTITY-HEADER.').toBe(OFFLINE_IDENTITY_HEADER);
      expect(url.searchParams.get('client_id'), `Name the user-assigned identity (managedIdentityIdParams: { userAssignedClientId }). See ${TODO.identity}.`).toBe(MANAGED_IDENTITIES.mcpServer.clientId);
    }
    expect(graph.calls.at(-1)?.appid, 'Graph should get an OBO token issued to the API.').toBe(APPS.mcpApi.clientId);
  });

  it('asks the platform for a fresh assertion before the old one expires', async () => {
    const forms = recordTokenRequests();
    const { mcpUrl, config } = await start({ ownCredential: true, env: managedIdentity() });
    expectToolSuccess(await callTool(mcpUrl, await userToken(config, 'ada', ['tools.read']), 'my_profile'), 'my_profile for Ada', TODO.identity);
    const first = forms.at(-1)?.get('client_assertion') ?? '';
    const expiresAt = Number(decodeJwt(first).exp) * 1000;
    // Jump to two minutes before the assertion expires (the clock of MSAL, jose and the emulator).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expiresAt - 120_000);
    expectToolSuccess(await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile'), 'my_profile for Grace, two minutes before the first assertion expires', TODO.identity);
    const second = forms.at(-1)?.get('client_assertion') ?? '';
    expect(second, `Two minutes before the identity's token expires, the next OBO request should carry a new one. Call acquireToken inside the clientAssertion callback, every time (MSAL caches and renews it), rather than once (${TODO.identity}).`).not.toBe(first);
    expect(Number(decodeJwt(second).exp) * 1000, 'The new assertion should be valid for a while yet.').toBeGreaterThan(Date.now() + 10 * 60_000);
  });

  it('an identity the API app does not trust is refused (AADSTS700213, subject mismatch): a tool error for the caller, the code in the log', async () => {
    const { mcpUrl, config, logs } = await start({ ownCredential: true, env: managedIdentity(MANAGED_IDENTITIES.reportJob) });
    const reply = await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile');
    expect(reply.status, `A refused credential is not a crash: expected HTTP 200 with a tool error, got ${shown(reply)}.`).toBe(200);
    expect(reply.rpc?.result?.isError, `my_profile cannot work with an identity the API app does not trust; it answered: ${toolText(reply)}`).toBe(true);
    expect(logs.text(), 'The operator needs Entra ID\'s reason in the logs: AADSTS700213 (no federated credential for that subject).').toContain('700213');
    expect(graph.calls, 'Graph must not be called without an OBO token.').toHaveLength(0);
  });

  it("an identity the platform does not have: the caller hears it is the server's problem, the operator gets the reason", async () => {
    // A client ID no identity of this app has (MSAL keeps identity tokens per ID for the whole process,
    // so a fresh ID is sure to reach the platform, which answers 400 as App Service does).
    const unattached = '3f1c5a7e-9b2d-4e6f-8a0c-1d3e5f7a9b2c';
    const identityRequests = recordIdentityRequests();
    const { mcpUrl, config, logs } = await start({ ownCredential: true, env: { ENTRA_API_CREDENTIAL: 'managed-identity', ENTRA_MANAGED_IDENTITY_CLIENT_ID: unattached } });
    const reply = await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile');
    expect(identityRequests.length, `The server should have asked the platform for the identity's token. See ${TODO.identity}.`).toBeGreaterThan(0);
    expect(reply.status, `A credential that cannot be had is not a crash: expected HTTP 200 with a tool error, got ${shown(reply)}. See ${TODO.identity}.`).toBe(200);
    expect(reply.rpc?.result?.isError, `my_profile cannot work without the server's own credential, so it must be a tool error; it answered: ${said(toolText(reply))}. See ${TODO.identity}.`).toBe(true);
    expect(
      toolText(reply),
      `The caller can do nothing about the server's own credential: the tool error should say it is the server's configuration problem (tell its operator), not send them after a permission or a sign-in; it said: ${said(toolText(reply))}. See graph.ts (a CredentialError from credentials.ts) and ${TODO.identity}.`,
    ).toMatch(/operator/i);
    expect(logs.text(), `The operator's log should name the managed identity that got no token. See ${TODO.identity}.`).toContain(unattached);
    expect(graph.calls, `Graph must not be called without an OBO token. See ${TODO.identity}.`).toHaveLength(0);
  });

  it('an expired assertion is refused (AADSTS700024) with a clear log line, never a 5xx', async () => {
    // A credential that keeps handing out the token it got first: the mistake TODO 5.2 avoids.
    const identity = await fetch(`${IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(TOKEN_EXCHANGE_AUDIENCE)}&client_id=${MANAGED_IDENTITIES.mcpServer.clientId}`, {
      headers: { 'x-identity-header': OFFLINE_IDENTITY_HEADER },
    }).then((response) => response.json() as Promise<{ access_token: string; expires_on: string }>);
    const { mcpUrl, config, logs } = await start({ env: managedIdentity(), credential: { clientAssertion: async () => identity.access_token } });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Number(identity.expires_on) * 1000 + 10 * 60_000);
    const reply = await callTool(mcpUrl, await userToken(config, 'ada', ['tools.read']), 'my_profile');
    expect(reply.status, `An expired assertion must not become a 5xx; got ${shown(reply)}.`).toBe(200);
    expect(reply.rpc?.result?.isError, `my_profile cannot work with an expired assertion; it answered: ${toolText(reply)}`).toBe(true);
    expect(logs.text(), 'The log should carry Entra ID\'s reason: AADSTS700024 (the client assertion is not within its valid time range).').toContain('700024');
  });
});

describe('lesson 5: the On-Behalf-Of token cache', () => {
  it('asks Entra ID once per caller and scope, keeps each caller in its own partition, and never mixes them up', async () => {
    const writes: string[] = [];
    const lesson = await loadLesson();
    const memory = lesson.memoryTokenStore();
    const store: TokenStore = { ...memory, kind: memory.kind, get: (key) => memory.get(key), set: (key, value) => (writes.push(key), memory.set(key, value)), close: () => memory.close() };
    const { mcpUrl, config } = await start({ tokenStore: store });
    const ada = await userToken(config, 'ada', ['tools.read']);
    const grace = await userToken(config, 'grace', ['tools.read']);

    const seen = recordEvents();
    expectToolSuccess(await callTool(mcpUrl, ada, 'my_profile'), 'my_profile for Ada', TODO.cache);
    expectToolSuccess(await callTool(mcpUrl, ada, 'my_profile'), 'my_profile for Ada, again', TODO.cache);
    expect(oboGrants(seen), `Ada's second call should be served from the cache: one OBO request, not ${oboGrants(seen)}. See ${TODO.cache}.`).toBe(1);
    expect(expectToolSuccess(await callTool(mcpUrl, grace, 'my_profile'), 'my_profile for Grace', TODO.cache), 'Grace must get her own profile, never Ada\'s.').toContain('Grace Hopper');
    expect(graph.calls.map((call) => call.oid), 'Every Graph call must carry the token of the user who called.').toEqual([ADA.oid, ADA.oid, GRACE.oid]);

    const keys = [...new Set(writes)];
    expect(keys.length, `Ada's and Grace's tokens should be stored under two partition keys, one per caller; the store saw ${JSON.stringify(keys)}. See callerPartition in ${TODO.cache}.`).toBe(2);
    for (const [user, other] of [
      [ADA, GRACE],
      [GRACE, ADA],
    ] as const) {
      const key = keys.find((candidate) => candidate.includes(user.oid));
      expect(key, `A partition key should identify the caller (its oid ${user.oid}); keys: ${JSON.stringify(keys)}. See ${TODO.cache}.`).toBeDefined();
      expect(await store.get(key!), `${user.givenName}'s partition must hold only ${user.givenName}'s tokens. See ${TODO.cache}.`).not.toContain(other.oid);
    }
  });

  describe.skipIf(REDIS_SKIP !== undefined)('shared by replicas, in a real Redis', () => {
    let redis: RunningRedis | undefined;
    afterEach(async () => {
      await redis?.kill();
      redis = undefined;
    });

    it('two instances on one Redis: the second serves a token the first obtained, without asking Entra ID', async () => {
      redis = await startRedis();
      const env = { REDIS_URL: redis.url.href };
      const first = await start({ env });
      const second = await start({ env });
      const token = await userToken(first.config, 'ada', ['tools.read']);
      const seen = recordEvents();
      expectToolSuccess(await callTool(first.mcpUrl, token, 'my_profile'), 'my_profile on the first instance', TODO.cache);
      expectToolSuccess(await callTool(second.mcpUrl, token, 'my_profile'), 'my_profile on the second instance', TODO.cache);
      expect(oboGrants(seen), `The second instance should find the OBO token the first stored in Redis: 1 OBO request expected, saw ${oboGrants(seen)}. See ${TODO.cache}.`).toBe(1);
      expect(graph.calls.map((call) => call.token).filter((value, i, all) => all.indexOf(value) === i).length, 'Both instances should have used the same cached Graph token.').toBe(1);
    });

    it('a Redis that dies mid-run means asking Entra ID again: the tools keep working, never a 5xx', async () => {
      redis = await startRedis();
      const { mcpUrl, config, logs } = await start({ env: { REDIS_URL: redis.url.href } });
      expectToolSuccess(await callTool(mcpUrl, await userToken(config, 'ada', ['tools.read']), 'my_profile'), 'my_profile with Redis up', TODO.cache);
      await redis.kill();
      redis = undefined;
      const seen = recordEvents();
      const reply = await callTool(mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile');
      expect(reply.status, `With Redis gone the server must still answer, not fail: got ${shown(reply)}. See ${TODO.cache}.`).toBeLessThan(500);
      expect(expectToolSuccess(reply, 'my_profile after Redis died (a cache miss: ask Entra ID again)', TODO.cache)).toContain('Grace Hopper');
      expect(oboGrants(seen), 'Without the cache the server should have asked Entra ID for a new OBO token.').toBe(1);
      expect(logs.text(), `An operator should learn from the logs that Redis is unavailable. See ${TODO.cache}.`).toMatch(/redis/i);
    });
  });

  it('an unreachable Redis at start-up is one clear error naming Redis and the fix', async () => {
    const error = await start({ env: { REDIS_URL: 'redis://127.0.0.1:1' } }).then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error, 'With REDIS_URL pointing nowhere, createApp must refuse to start: a cache that silently never works hides a misconfiguration.').toBeInstanceOf(Error);
    expect(error!.message, `The error should name Redis and what to do; it said: ${error!.message}`).toMatch(/Redis/);
    expect(error!.message, 'One line, no stack trace.').not.toContain('\n');
  });
});

describe('lesson 5: logs hold no credential', () => {
  it('drives every flow (anonymous, forged, refused, allowed, OBO, a failing credential) and finds no token or assertion in the logs', async () => {
    const forms = recordTokenRequests();
    const good = await start();
    const secrets: string[] = [];
    const ada = await userToken(good.config, 'ada');
    const grace = await userToken(good.config, 'grace', ['tools.read']);
    secrets.push(ada, grace);
    await callTool(good.mcpUrl, undefined, 'whoami');
    const forged = `${ada.slice(0, -10)}AAAAAAAAAA`;
    secrets.push(forged);
    await callTool(good.mcpUrl, forged, 'whoami');
    await callTool(good.mcpUrl, grace, 'send_mail', { to: 'x@contoso.test', subject: 'x', body: 'x' });
    await callTool(good.mcpUrl, grace, 'export_customers');
    expectToolSuccess(await callTool(good.mcpUrl, ada, 'whoami'), 'whoami for Ada', TODO.logs);
    expectToolSuccess(await callTool(good.mcpUrl, ada, 'my_profile'), 'my_profile for Ada', TODO.logs);
    expectToolSuccess(await callTool(good.mcpUrl, ada, 'send_mail', { to: 'grace@contoso.test', subject: 'Hi', body: 'Lunch?' }), 'send_mail for Ada', TODO.logs);

    const failing = await start({
      ownCredential: true,
      env: { ENTRA_API_CERTIFICATE_PATH: unregistered.certificatePath, ENTRA_API_PRIVATE_KEY_PATH: unregistered.privateKeyPath },
    }).catch(() => undefined);
    if (failing) await callTool(failing.mcpUrl, await userToken(failing.config, 'ada', ['tools.read']), 'my_profile');

    secrets.push(...graph.calls.flatMap((call) => (call.token ? [call.token] : [])));
    for (const form of forms) for (const name of ['client_assertion', 'assertion']) if (form.get(name)) secrets.push(form.get(name)!);
    const logText = good.logs.text() + (failing?.logs.text() ?? '');
    expect(good.logs.lines().length, `The server should log each request as a JSON line (pino); it logged nothing. See ${FILES.logging}.`).toBeGreaterThan(3);
    for (const secret of new Set(secrets)) {
      const at = logText.indexOf(secret);
      // Any 24 characters of a token would already be a leak worth fixing; the whole token certainly is.
      expect(at, `A credential appeared in the logs: …${logText.slice(Math.max(0, at - 60), at + 40)}… Redact the Authorization header, tokens and assertions with pino's redact option (${TODO.logs}).`).toBe(-1);
    }
    expect(logText, `The request log should still show that an Authorization header was sent, as [redacted]. See ${TODO.logs}.`).toContain('[redacted]');
  });
});

describe('lesson 5: the logger itself', () => {
  it('blanks token and assertion fields wherever a log call puts them, and the Authorization header of a request', async () => {
    const lesson = await loadLesson();
    const logs = captureLogs();
    const logger = lesson.createLogger({ destination: logs.destination }) as { info(object: unknown, message: string): void; flush?: () => void };
    // Where each secret sits in the log calls below: a leak names its field, not only its value.
    const topLevel = { token: 'tok-top-level-1', accessToken: 'tok-access-2', access_token: 'tok-access-3', refresh_token: 'tok-refresh-4', assertion: 'tok-assertion-5', client_assertion: 'tok-client-assertion-6', oboAssertion: 'tok-obo-assertion-7' };
    const oneLevelDown = { result: { accessToken: 'tok-nested-8', refreshToken: 'tok-nested-9' }, request: { client_assertion: 'tok-nested-10', assertion: 'tok-nested-11' } };
    const request = { req: { method: 'POST', url: '/mcp', headers: { authorization: 'Bearer tok-header-12', cookie: 'session=tok-cookie-13' } } };
    logger.info(topLevel, 'top level');
    logger.info(oneLevelDown, 'one level down');
    logger.info(request, 'a request');
    const text = logs.text();
    expect(logs.lines().length, `createLogger should write one JSON line per call to its destination. See ${FILES.logging}.`).toBe(3);
    const fields: Array<[string, string]> = [
      ...Object.entries(topLevel).map(([key, value]): [string, string] => [key, value]),
      ...Object.entries(oneLevelDown).flatMap(([parent, inner]) => Object.entries(inner).map(([key, value]): [string, string] => [`${parent}.${key} ('*.${key}')`, value])),
      ['req.headers.authorization', request.req.headers.authorization],
      ['req.headers.cookie', request.req.headers.cookie],
    ];
    const leaked = fields.filter(([, value]) => text.includes(value)).map(([field]) => field);
    expect(leaked, `The log still shows the value of ${leaked.join(', ')}. Add each of these paths to REDACT_PATHS (at the top level, and with '*.' for one level down) in ${TODO.logs}.`).toEqual([]);
    expect(text, `Redacted values should read ${JSON.stringify('[redacted]')}. See ${TODO.logs}.`).toContain('[redacted]');
  });
});

describe('lesson 5: rate limits, security headers and size limits', () => {
  it('limits anonymous and failing requests per client address, with RateLimit and Retry-After headers', async () => {
    const { mcpUrl } = await start({ rateLimit: { windowMs: 60_000, limit: 5 } });
    const replies: Reply[] = [];
    for (let i = 0; i < 6; i++) replies.push(await callTool(mcpUrl, undefined, 'whoami'));
    expect(replies.slice(0, 5).map((reply) => reply.status), `The first 5 anonymous requests should get the usual 401. See ${TODO.limits}.`).toEqual([401, 401, 401, 401, 401]);
    const limited = replies[5]!;
    expect(limited.status, `The 6th failing request in a minute (limit 5) must get 429 Too Many Requests; got ${shown(limited)}. Add express-rate-limit in front of the bearer check (${TODO.limits}).`).toBe(429);
    expect(Number(limited.headers.get('retry-after')), `A 429 must say when to come back: Retry-After in seconds. See ${TODO.limits}.`).toBeGreaterThan(0);
    const standard = limited.headers.get('ratelimit') ?? '';
    expect(standard, `Use the standard RateLimit header (standardHeaders: 'draft-8'), not only X-RateLimit-*; got "${standard}". See ${TODO.limits}.`).toMatch(/r=0/);
    expect(limited.headers.get('x-ratelimit-limit'), `Legacy X-RateLimit-* headers should be off (legacyHeaders: false). See ${TODO.limits}.`).toBeNull();
  });

  it('does not count requests that succeed: a signed-in client never uses up the limit itself', async () => {
    const { mcpUrl, config } = await start({ rateLimit: { windowMs: 60_000, limit: 3 } });
    const token = await userToken(config, 'ada', ['tools.read']);
    for (let i = 0; i < 8; i++) {
      const reply = await callTool(mcpUrl, token, 'whoami');
      expect(reply.status, `Successful call ${i + 1} with limit 3 got ${shown(reply)}: only failing requests should count (skipSuccessfulRequests). See ${TODO.limits}.`).toBe(200);
    }
  });

  it('sends security headers, hides the framework, and refuses an oversized body with 413 and no stack trace', async () => {
    const { mcpUrl, config } = await start();
    const token = await userToken(config, 'ada');
    const reply = await callTool(mcpUrl, token, 'whoami');
    expect(reply.headers.get('x-content-type-options'), `Responses should carry X-Content-Type-Options: nosniff (helmet). See ${TODO.limits}.`).toBe('nosniff');
    expect(reply.headers.get('content-security-policy') ?? '', `Responses should carry a Content-Security-Policy with frame-ancestors 'none' or 'self' (helmet). See ${TODO.limits}.`).toMatch(/frame-ancestors/);
    expect(reply.headers.get('x-powered-by'), `X-Powered-By tells attackers which framework to probe: remove it (helmet does). See ${TODO.limits}.`).toBeNull();

    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'send_mail', arguments: { to: 'a@contoso.test', subject: 's', body: 'x'.repeat(80_000) } } });
    const tooLarge = await post(mcpUrl, big, { authorization: `Bearer ${token}` });
    expect(tooLarge.status, `An 80 kB body (over the 64 kB limit) must be refused with 413 before it is parsed; got ${shown(tooLarge)}. Give express.json a limit (${TODO.limits}).`).toBe(413);
    expect(tooLarge.text, 'The 413 must not show a stack trace.').not.toMatch(/\n\s+at .+:\d+/);
  });

  it("keeps lesson 4's answer when the signing keys are out of reach: 503 with Retry-After, not 401", async () => {
    const { mcpUrl, config } = await start();
    const token = await userToken(config, 'ada', ['tools.read']);
    network.use(http.get(config.entra.jwksUri, () => HttpResponse.error()));
    const reply = await callTool(mcpUrl, token, 'whoami');
    expect(reply.status, `With the JWKS unreachable the server can prove nothing: 503 with Retry-After, as in lesson 4; got ${shown(reply)}. Keep keysCheck in ${FILES.app}.`).toBe(503);
    expect(Number(reply.headers.get('retry-after')), 'The 503 should say when to try again.').toBeGreaterThan(0);
  });

  it('keeps the Origin and Host checks: a foreign Origin or Host gets 403 before the token is looked at', async () => {
    const { mcpUrl, config } = await start();
    const token = await userToken(config, 'ada');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const origin = await post(mcpUrl, body, { authorization: `Bearer ${token}`, origin: 'https://evil.example' });
    expect(origin.status, `A request from https://evil.example must get 403; got ${shown(origin)}. Keep the Origin check in ${FILES.app}.`).toBe(403);
    const host = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(mcpUrl, { method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(host, `A foreign Host header must get 403 (DNS rebinding). Keep hostHeaderValidation in ${FILES.app}.`).toBe(403);
  });
});

describe('lesson 5: app roles for admin tools, and one audit line per tool call', () => {
  const auditLines = (run: Running) => run.logs.lines().filter((line) => line.tool !== undefined && (line.decision === 'allowed' || line.decision === 'denied'));

  it('refuses export_customers to a user without MCP.Admin with 403 (no scope challenge), and lets Ada in', async () => {
    const run = await start();
    const grace = await callTool(run.mcpUrl, await userToken(run.config, 'grace', ['tools.read']), 'export_customers');
    expect(grace.status, `Grace has tools.read but not the app role MCP.Admin: the gate must refuse export_customers with 403; got ${shown(grace)}. See ${TODO.audit}.`).toBe(403);
    expect(grace.headers.get('www-authenticate') ?? '', `A missing app role cannot be fixed by signing in again: no insufficient_scope challenge, which would make the client retry in vain. See ${TODO.audit}.`).not.toContain('insufficient_scope');
    const ada = await callTool(run.mcpUrl, await userToken(run.config, 'ada', ['tools.read']), 'export_customers');
    expect(expectToolSuccess(ada, 'export_customers for Ada (MCP.Admin)', TODO.audit)).toContain('C-1001');
  });

  it('writes exactly one audit line per tool call, with oid, tool and decision, and no other personal data', async () => {
    const run = await start();
    const ada = await userToken(run.config, 'ada');
    const grace = await userToken(run.config, 'grace', ['tools.read']);
    await callTool(run.mcpUrl, ada, 'lookup_customer', { customerId: 'C-1001' });
    await callTool(run.mcpUrl, grace, 'send_mail', { to: 'someone@contoso.test', subject: 'Secret plans', body: 'x' });
    await callTool(run.mcpUrl, grace, 'export_customers');
    // A batch refused for its second call runs nothing: no line may say its first call was allowed.
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'export_customers', arguments: {} } },
    ];
    const refused = await post(run.mcpUrl, JSON.stringify(batch), { authorization: `Bearer ${grace}` });
    expect(refused.status, `A batch with export_customers, from Grace (no MCP.Admin), must be refused as a whole; got ${shown(refused)}. See ${TODO.audit}.`).toBe(403);
    const lines = auditLines(run);
    expect(
      lines.map((line) => [line.oid, line.tool, line.decision]),
      `Expected one audit line per tool call: [oid, tool, decision], and for the refused batch (whoami, export_customers) only its denial, since nothing in it ran. ` +
        `Saw ${JSON.stringify(lines)}. Call audit() where the gate refuses, and for allowed calls only once the whole request has passed (${TODO.audit}).`,
    ).toEqual([
      [ADA.oid, 'lookup_customer', 'allowed'],
      [GRACE.oid, 'send_mail', 'denied'],
      [GRACE.oid, 'export_customers', 'denied'],
      [GRACE.oid, 'export_customers', 'denied'],
    ]);
    const text = JSON.stringify(lines);
    for (const personal of [ADA.displayName, ADA.userPrincipalName, GRACE.displayName, GRACE.userPrincipalName, 'someone@contoso.test', 'Secret plans', 'C-1001']) {
      expect(text, `An audit line holds who (oid), which tool and the decision: not "${personal}". See ${TODO.audit}.`).not.toContain(personal);
    }
  });
});

describe("lesson 5: lesson 4's gate, kept: a tool without a permission entry, and tool names the client chose", () => {
  toolNameRules({
    todo: TODO.audit,
    refusal: 'challenge',
    server: async () => {
      const { config, mcpUrl } = await start();
      return { config, mcpUrl, prmUrl: new URL('/.well-known/oauth-protected-resource/mcp', mcpUrl).href };
    },
  });
});

describe('lesson 5: health, readiness and a graceful shutdown', () => {
  it('answers /healthz and /readyz with a status word and nothing else, without a token', async () => {
    const { base } = await start();
    for (const probe of ['/healthz', '/readyz']) {
      const response = await fetch(`${base}${probe}`);
      const text = await response.text();
      expect(response.status, `GET ${probe} should answer 200 for the platform's probes; got ${response.status}. See ${TODO.health}.`).toBe(200);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text);
      } catch {
        // checked below
      }
      expect(Object.keys(body), `${probe} should answer {"status": "…"} and nothing more (no version, tenant or dependency detail); got ${text}. See ${TODO.health}.`).toEqual(['status']);
      expect(text, `${probe} must not reveal the tenant.`).not.toContain(emulator.tenantId);
    }
  });

  it('on shutdown: readiness off, the request in flight finishes, then the server closes', async () => {
    const lesson = await loadLesson();
    const logs = captureLogs();
    const port = await freePort(); // for the lesson's own listen()
    const config = settings(port);
    const created = await lesson.createApp(config, { logger: lesson.createLogger({ destination: logs.destination }), credential: testCredential() });
    const server = await lesson.listen(created.app as unknown as RequestListener, port, '127.0.0.1');
    try {
      let graphReached!: () => void;
      const reached = new Promise<void>((resolve) => (graphReached = resolve));
      network.use(
        http.get('https://graph.microsoft.com/v1.0/me', async () => {
          graphReached();
          // Held while shutdown begins and its first sweep of idle connections runs (every 100 ms):
          // a shutdown that cuts connections cuts this one. Then the Graph fake answers.
          await new Promise((resolve) => setTimeout(resolve, 150));
        }),
      );
      const inFlight = callTool(config.mcpUrl, await userToken(config, 'grace', ['tools.read']), 'my_profile');
      inFlight.catch(() => {}); // awaited below; a failed assertion before that must not leave it unhandled
      await reached;
      const started = Date.now();
      const stopped = lesson.shutDownGracefully(server, { state: created.state, log: created.logger, graceMs: 5000 });
      expect(created.state.ready, `Shutdown must turn readiness off at once, so the load balancer stops sending requests. See ${TODO.shutdown}.`).toBe(false);
      const reply = await inFlight.catch((error: Error & { cause?: { code?: string } }) => {
        throw new Error(`The request in flight was cut off when shutdown began (${error.cause?.code ?? error.message}). Close the server, not the connections (${TODO.shutdown}).`);
      });
      expect(reply.status, `The request in flight when shutdown began must finish normally; got ${shown(reply)}. Close the server, not the connections (${TODO.shutdown}).`).toBe(200);
      expect(toolText(reply), `The request in flight should return Grace's profile. See ${TODO.shutdown}.`).toContain('Grace Hopper');
      await stopped;
      expect(
        Date.now() - started,
        `Shutdown should end soon after the last request, not wait out the grace period or the client's keep-alive (Node's fetch holds an idle connection 4 s): close connections as they go idle, every 100 ms, until the server has closed. See ${TODO.shutdown}.`,
      ).toBeLessThan(2500);
      const after = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => 'answered',
        () => 'refused',
      );
      expect(after, `After shutdown, new connections must be refused. See ${TODO.shutdown}.`).toBe('refused');
    } finally {
      server.closeAllConnections();
      server.close();
      await created.close();
    }
  });

  it('sets server timeouts, so slow clients cannot hold sockets forever', async () => {
    const lesson = await loadLesson();
    const server = await lesson.listen((_req, res) => res.end(), 0, '127.0.0.1');
    try {
      expect(server.headersTimeout, 'headersTimeout should be set (0 means none), at most 60 s (slowloris).').toBeGreaterThan(0);
      expect(server.headersTimeout).toBeLessThanOrEqual(60_000);
      expect(server.requestTimeout, 'requestTimeout should be set, at most 60 s.').toBeGreaterThan(0);
      expect(server.requestTimeout).toBeLessThanOrEqual(60_000);
    } finally {
      server.close();
    }
  });
});

