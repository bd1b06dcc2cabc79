/**
 * Workshop settings: one place that turns the environment (and `.env`) into typed values.
 *
 * No `ENTRA_TENANT_ID` means offline mode: every Entra ID and Graph setting then leads to the local
 * emulator and its fixed test tenant (see shared/emulator/directory.ts). With tenant settings the very
 * same lesson code talks to real Entra ID and real Microsoft Graph.
 *
 * Settings a lesson does not use are never asked for: each one is read when first used, and a missing
 * or malformed one throws a ConfigError whose message names the variable and the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { APPS, MANAGED_IDENTITIES, TENANT_ID } from './emulator/directory.ts';
import { ENTRA_HOST, tenantEndpoints } from './emulator/endpoints.ts';

/**
 * A missing or malformed setting; the message names the variable and the fix, in one line. Like jose's
 * errors it carries a stable `code`, for code that decides by kind rather than by wording.
 */
export class ConfigError extends Error {
  static readonly code = 'ERR_WORKSHOP_CONFIG';
  readonly code = ConfigError.code;
  override name = 'ConfigError';
}

export type Mode = 'offline' | 'tenant';

/** What MSAL needs to find the authority: spread it into `auth` of an MSAL configuration. */
export interface MsalAuthorityOptions {
  authority: string;
  knownAuthorities?: string[];
  authorityMetadata?: string;
  cloudDiscoveryMetadata?: string;
}

export interface WorkshopConfig {
  mode: Mode;
  /** Port of the lesson's HTTP server (`PORT`, default 3001). */
  port: number;
  /** Public origin of the lesson's HTTP server, e.g. `http://localhost:3001` (`BASE_URL`). */
  baseUrl: URL;
  /** The MCP endpoint, `${baseUrl}/mcp`. In lesson 4 this is also the API's Application ID URI. */
  mcpUrl: URL;
  /** Lesson 3's OAuth callback, `${baseUrl}/auth/callback`. */
  callbackUrl: URL;
  /** Origin of the Entra ID emulator's pages (`EMULATOR_URL`, default `http://localhost:3100`). */
  emulatorUrl: URL;
  /** The emulator's port: `EMULATOR_PORT`, else `emulatorUrl`'s (they differ behind a forwarded address). */
  emulatorPort: number;
  /** Where lessons keep local state, such as the token cache (`LAB_STATE_DIR`, default `.lab`). */
  stateDir: string;
  entra: EntraSettings;
  /**
   * Lesson 5: Redis for the On-Behalf-Of token cache that replicas share (`REDIS_URL`, e.g.
   * `redis://localhost:6379` or `rediss://…` with TLS). Unset: each process keeps its own cache in memory.
   */
  redisUrl?: URL;
  /** Microsoft Graph's v1.0 endpoint. Always the real URL: offline it is routed to the Graph fake. */
  graphBaseUrl: string;
}

export interface EntraSettings {
  tenantId: string;
  /** The v2.0 token issuer, `…/{tenant}/v2.0`: the `iss` of tokens and the OAuth authorization server. */
  issuer: string;
  /** OpenID Connect discovery document of the tenant. */
  openIdConfigurationUrl: string;
  /** The tenant's signing keys (JWKS). */
  jwksUri: string;
  /** Authority settings for MSAL (offline they name the emulator's endpoints). */
  msal: MsalAuthorityOptions;
  /** Lesson 2: the public client's application (client) ID. */
  readonly publicClientId: string;
  /** Lesson 3: the web app's client ID and secret. */
  readonly webClientId: string;
  readonly webClientSecret: string;
  /** Lesson 4: the MCP API's client ID (the `aud` of its v2 tokens), its secret for On-Behalf-Of. */
  readonly apiClientId: string;
  readonly apiClientSecret: string;
  /**
   * Lesson 4: the Application ID URI of the MCP API: the MCP URL itself. With a tenant, reading it
   * throws a ConfigError when Entra ID would refuse it (http) or it differs from ENTRA_API_APP_ID_URI.
   */
  readonly apiAppIdUri: string;
  /** Lesson 4: the pre-registered public client that MCP clients use (Entra has no dynamic registration). */
  readonly mcpClientId: string;
  /** Lesson 5: how the MCP API proves itself to Entra ID for On-Behalf-Of, without a client secret. */
  readonly apiCredential: ApiCredentialSettings;
}

/**
 * Lesson 5's secretless credentials (`ENTRA_API_CREDENTIAL`):
 * - `certificate`: a certificate registered on the API's app registration, with its private key in a
 *   PEM file only the server's user can read (`ENTRA_API_CERTIFICATE_PATH`, `ENTRA_API_PRIVATE_KEY_PATH`);
 * - `managed-identity`: the hosting platform's user-assigned managed identity
 *   (`ENTRA_MANAGED_IDENTITY_CLIENT_ID`), trusted by the API app as a federated identity credential.
 */
export type ApiCredentialSettings =
  | { kind: 'certificate'; certificatePath: string; privateKeyPath: string }
  | { kind: 'managed-identity'; managedIdentityClientId: string };

const API_CREDENTIAL_KINDS = ['certificate', 'managed-identity'] as const;

type Env = Record<string, string | undefined>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads `.env` (if there is one) into `process.env` without overriding variables already set.
 * Call once at start-up, before loadConfig().
 *
 * Editors on Windows save text with a byte order mark, and Windows PowerShell 5's `Out-File` and `>`
 * write UTF-16. Node's own reader would take a UTF-8 BOM into the first variable's name and read a
 * UTF-16 file as nothing at all, and the lesson would run offline without a word. So the bytes are
 * decoded here: UTF-8 with or without a BOM, UTF-16 with a BOM; anything else is one clear line.
 */
export function loadDotEnv(file = path.resolve('.env'), env: Env = process.env): void {
  if (!existsSync(file)) return;
  let variables: NodeJS.Dict<string>;
  try {
    variables = parseEnv(decodeDotEnv(readFileSync(file), file));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Could not read ${file}: ${(error as Error).message}. Fix the file or remove it.`);
  }
  for (const [name, value] of Object.entries(variables)) {
    if (env[name] === undefined && value !== undefined) env[name] = value;
  }
}

/** The text of a `.env` file, whatever its byte order mark says. */
function decodeDotEnv(bytes: Buffer, file: string): string {
  const resave = 'Save it as UTF-8 (in VS Code: the encoding in the status bar → "Save with Encoding" → UTF-8; in PowerShell: Set-Content -Encoding utf8).';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const utf8 = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  // UTF-16 without a byte order mark: every other byte of ASCII text is zero.
  if (utf8.includes(0)) throw new ConfigError(`${file} is not UTF-8 text (it looks like UTF-16 without a byte order mark). ${resave}`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(utf8);
  } catch {
    throw new ConfigError(`${file} is not UTF-8 text. ${resave}`);
  }
}

export function loadConfig(env: Env = process.env): WorkshopConfig {
  const port = readPort(env, 'PORT', 3001);
  const baseUrl = readOrigin(env, 'BASE_URL', `http://localhost:${port}`);
  const emulatorPortSetting = optional(env, 'EMULATOR_PORT') === undefined ? undefined : readPort(env, 'EMULATOR_PORT', 3100);
  const emulatorUrl = readOrigin(env, 'EMULATOR_URL', `http://localhost:${emulatorPortSetting ?? 3100}`);
  const mcpUrl = new URL('/mcp', baseUrl);
  const tenantId = optional(env, 'ENTRA_TENANT_ID');
  const stateDir = path.resolve(env.LAB_STATE_DIR || '.lab');
  const entra = tenantId ? tenantSettings(env, tenantId, mcpUrl) : offlineSettings(env, emulatorUrl, mcpUrl, stateDir);
  return {
    mode: tenantId ? 'tenant' : 'offline',
    port,
    baseUrl,
    mcpUrl,
    callbackUrl: new URL('/auth/callback', baseUrl),
    emulatorUrl,
    emulatorPort: emulatorPortSetting ?? (Number(emulatorUrl.port) || (emulatorUrl.protocol === 'https:' ? 443 : 80)),
    stateDir,
    entra,
    redisUrl: readRedisUrl(env),
    graphBaseUrl: 'https://graph.microsoft.com/v1.0',
  };
}

function tenantSettings(env: Env, tenantId: string, mcpUrl: URL): EntraSettings {
  if (!GUID.test(tenantId)) {
    throw new ConfigError(
      `ENTRA_TENANT_ID must be your Directory (tenant) ID, a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47; got "${tenantId}". ` +
        'Copy it from the app registration\'s Overview page in the Entra admin center, or remove it to work offline.',
    );
  }
  const endpoints = tenantEndpoints(ENTRA_HOST, tenantId);
  return {
    tenantId,
    issuer: endpoints.issuer,
    openIdConfigurationUrl: endpoints.openIdConfiguration,
    jwksUri: endpoints.jwks,
    msal: { authority: endpoints.authority },
    get publicClientId() {
      return requiredGuid(env, 'ENTRA_PUBLIC_CLIENT_ID', 'the Application (client) ID of lesson 2\'s app registration');
    },
    get webClientId() {
      return requiredGuid(env, 'ENTRA_WEB_CLIENT_ID', 'the Application (client) ID of lesson 3\'s web app registration');
    },
    get webClientSecret() {
      return required(env, 'ENTRA_WEB_CLIENT_SECRET', 'a client secret value of lesson 3\'s web app (Certificates & secrets)');
    },
    get apiClientId() {
      return requiredGuid(env, 'ENTRA_API_CLIENT_ID', 'the Application (client) ID of lesson 4\'s API registration');
    },
    get apiClientSecret() {
      return required(env, 'ENTRA_API_CLIENT_SECRET', 'a client secret value of lesson 4\'s API registration');
    },
    get apiAppIdUri() {
      return tenantAppIdUri(env, mcpUrl);
    },
    get mcpClientId() {
      return requiredGuid(env, 'ENTRA_MCP_CLIENT_ID', 'the client ID of the public client registered for MCP clients (lesson 4)');
    },
    get apiCredential() {
      return apiCredentialSettings(env, true, {});
    },
  };
}

/**
 * Lesson 4 on: the API's Application ID URI is the MCP URL itself, because MCP clients send the
 * Protected Resource Metadata's `resource` (RFC 8707) and Entra ID issues a token only when it equals
 * an identifier URI of the API character for character (AADSTS9010010 otherwise). Refused at start-up:
 * - `ENTRA_API_APP_ID_URI` (what you registered, optional) differing from `${BASE_URL}/mcp`;
 * - an MCP URL that is not https: Entra ID documents `api://…` and `https://…` identifier URIs only
 *   (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions).
 */
function tenantAppIdUri(env: Env, mcpUrl: URL): string {
  const registered = optional(env, 'ENTRA_API_APP_ID_URI');
  if (registered !== undefined && registered !== mcpUrl.href) {
    throw new ConfigError(
      `ENTRA_API_APP_ID_URI is "${registered}" but your server's resource (BASE_URL + /mcp) is "${mcpUrl.href}": ` +
        'MCP clients ask Entra ID for that resource, which answers AADSTS9010010 unless it equals the Application ID URI exactly. ' +
        'Set BASE_URL to the https origin you registered, or register the resource as the Application ID URI (Expose an API) and copy it here.',
    );
  }
  if (mcpUrl.protocol !== 'https:') {
    throw new ConfigError(
      `Your MCP URL "${mcpUrl.href}" is also your API's Application ID URI, and Entra ID documents only https:// and api:// Application ID URIs, no http://. ` +
        'Put an https URL in front of your server (a dev tunnel: see "An https URL for your server" in lessons/04-resource-server/README.md), ' +
        'set BASE_URL to it, and register BASE_URL + /mcp as the Application ID URI.',
    );
  }
  return mcpUrl.href;
}

function offlineSettings(env: Env, emulatorUrl: URL, mcpUrl: URL, stateDir: string): EntraSettings {
  const endpoints = tenantEndpoints(emulatorUrl, TENANT_ID);
  return {
    tenantId: TENANT_ID,
    issuer: endpoints.issuer,
    openIdConfigurationUrl: endpoints.openIdConfiguration,
    jwksUri: endpoints.jwks,
    msal: offlineMsalAuthority(emulatorUrl),
    publicClientId: APPS.publicClient.clientId,
    webClientId: APPS.webApp.clientId,
    webClientSecret: APPS.webApp.secrets[0],
    apiClientId: APPS.mcpApi.clientId,
    apiClientSecret: APPS.mcpApi.secrets[0],
    // Offline the emulator registers http://localhost:3001/mcp; keep PORT at 3001 for lesson 4.
    apiAppIdUri: mcpUrl.href,
    mcpClientId: APPS.mcpClient.clientId,
    // Offline, `npm run lesson:5` makes the certificate and uploads it to the emulator's app
    // registration (shared/offline/credentials.ts); the managed identity is the emulator's.
    get apiCredential() {
      const folder = path.join(stateDir, 'lesson5');
      return apiCredentialSettings(env, false, {
        certificatePath: path.join(folder, 'api-certificate.pem'),
        privateKeyPath: path.join(folder, 'api-private-key.pem'),
        managedIdentityClientId: MANAGED_IDENTITIES.mcpServer.clientId,
      });
    },
  };
}

/** Lesson 5's credential settings; with a tenant every value is required, offline the emulator's serve as defaults. */
function apiCredentialSettings(
  env: Env,
  tenant: boolean,
  defaults: { certificatePath?: string; privateKeyPath?: string; managedIdentityClientId?: string },
): ApiCredentialSettings {
  const kind = optional(env, 'ENTRA_API_CREDENTIAL') ?? (tenant ? undefined : 'certificate');
  if (!kind) {
    throw new ConfigError(
      `ENTRA_API_CREDENTIAL is not set. Lesson 5 uses no client secret: set it to ${API_CREDENTIAL_KINDS.join(' or ')} in .env (see .env.example).`,
    );
  }
  if (kind === 'certificate') {
    const file = (name: string, what: string, fallback?: string) => {
      const value = optional(env, name) ?? fallback;
      if (value) return path.resolve(value);
      return required(env, name, what);
    };
    return {
      kind,
      certificatePath: file('ENTRA_API_CERTIFICATE_PATH', 'the path of the PEM certificate you uploaded to the API registration', defaults.certificatePath),
      privateKeyPath: file('ENTRA_API_PRIVATE_KEY_PATH', "the path of that certificate's PEM private key (readable by you only)", defaults.privateKeyPath),
    };
  }
  if (kind === 'managed-identity') {
    const clientId = optional(env, 'ENTRA_MANAGED_IDENTITY_CLIENT_ID') ?? defaults.managedIdentityClientId;
    if (!clientId || !GUID.test(clientId)) {
      const seen = clientId ? `got "${clientId}"` : 'it is not set';
      throw new ConfigError(
        `ENTRA_MANAGED_IDENTITY_CLIENT_ID must be the client ID (a GUID) of the user-assigned managed identity attached to the server; ${seen}. ` +
          'Copy it from the managed identity\'s Overview page in the Azure portal.',
      );
    }
    return { kind, managedIdentityClientId: clientId };
  }
  throw new ConfigError(`ENTRA_API_CREDENTIAL must be ${API_CREDENTIAL_KINDS.join(' or ')}; got "${kind}". Fix it in .env or your shell.`);
}

function readRedisUrl(env: Env): URL | undefined {
  const raw = optional(env, 'REDIS_URL');
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL such as redis://localhost:6379; got "${raw.replace(/\/\/[^@/]*@/, '//…@')}". Remove it to keep the token cache in memory.`);
  }
  return url;
}

/**
 * MSAL only accepts an https authority. Offline we keep the real Entra authority and hand MSAL the
 * emulator's endpoints as `authorityMetadata`, so MSAL never looks anything up on the internet.
 */
function offlineMsalAuthority(emulatorUrl: URL): MsalAuthorityOptions {
  const emulator = tenantEndpoints(emulatorUrl, TENANT_ID);
  const authorityMetadata = {
    issuer: emulator.issuer,
    authorization_endpoint: emulator.authorize,
    token_endpoint: emulator.token,
    device_authorization_endpoint: emulator.deviceCode,
    end_session_endpoint: emulator.logout,
    jwks_uri: emulator.jwks,
  };
  const cloudDiscoveryMetadata = {
    tenant_discovery_endpoint: emulator.openIdConfiguration,
    'api-version': '1.1',
    metadata: [
      {
        preferred_network: 'login.microsoftonline.com',
        preferred_cache: 'login.microsoftonline.com',
        aliases: ['login.microsoftonline.com'],
      },
    ],
  };
  return {
    authority: tenantEndpoints(ENTRA_HOST, TENANT_ID).authority,
    knownAuthorities: [new URL(ENTRA_HOST).host],
    authorityMetadata: JSON.stringify(authorityMetadata),
    cloudDiscoveryMetadata: JSON.stringify(cloudDiscoveryMetadata),
  };
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function required(env: Env, name: string, what: string): string {
  const value = optional(env, name);
  if (!value) {
    throw new ConfigError(
      `${name} is not set. You are using a real tenant (ENTRA_TENANT_ID is set), so put ${what} in .env ` +
        '(see .env.example), or remove ENTRA_TENANT_ID to work offline.',
    );
  }
  return value;
}

function requiredGuid(env: Env, name: string, what: string): string {
  const value = required(env, name, what);
  if (!GUID.test(value)) {
    throw new ConfigError(`${name} must be ${what}, a GUID; got "${value}". Copy it from the app registration's Overview page.`);
  }
  return value;
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${name} must be a port number between 1 and 65535; got "${raw}". Fix it in .env or your shell.`);
  }
  return port;
}

function readOrigin(env: Env, name: string, fallback: string): URL {
  const raw = optional(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL such as ${fallback}; got "${raw}".`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(`${name} must be an origin (scheme, host and port only) such as ${fallback}; got "${raw}".`);
  }
  return new URL(url.origin);
}
