/**
 * The config module: no tenant settings means offline mode against the emulator; tenant settings
 * lead to login.microsoftonline.com; a missing or malformed variable throws a ConfigError that
 * names the variable and the fix.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadDotEnv } from '../../shared/config.ts';
import { APPS, TENANT_ID } from '../../shared/emulator/directory.ts';

const TENANT_GUID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** Runs `read` and returns the ConfigError it throws; fails the test when it throws nothing or something else. */
function configError(read: () => unknown, what: string): ConfigError {
  try {
    read();
  } catch (error) {
    expect(error, `${what}: expected a ConfigError, got ${String(error)}`).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${what}: expected a ConfigError, but nothing was thrown.`);
}

describe('offline mode (no ENTRA_TENANT_ID)', () => {
  const config = loadConfig({});

  it('is offline, with the emulator\'s tenant, client IDs and endpoints', () => {
    expect(config.mode, 'no ENTRA_TENANT_ID means offline').toBe('offline');
    expect(config.port, 'PORT defaults to 3001').toBe(3001);
    expect(config.mcpUrl.href, 'the MCP endpoint').toBe('http://localhost:3001/mcp');
    expect(config.callbackUrl.href, 'lesson 3\'s callback').toBe('http://localhost:3001/auth/callback');
    expect(config.emulatorUrl.origin, 'the emulator\'s default origin').toBe('http://localhost:3100');
    expect(config.entra.tenantId, 'the emulated tenant').toBe(TENANT_ID);
    expect(config.entra.issuer, 'the issuer is on the emulator').toBe(`http://localhost:3100/${TENANT_ID}/v2.0`);
    expect(config.entra.jwksUri, 'the JWKS is on the emulator').toBe(`http://localhost:3100/${TENANT_ID}/discovery/v2.0/keys`);
    expect(config.entra.publicClientId, 'lesson 2\'s client').toBe(APPS.publicClient.clientId);
    expect(config.entra.webClientId, 'lesson 3\'s client').toBe(APPS.webApp.clientId);
    expect(config.entra.webClientSecret, 'lesson 3\'s offline secret').toBe(APPS.webApp.secrets[0]);
    expect(config.entra.apiClientId, 'lesson 4\'s API').toBe(APPS.mcpApi.clientId);
    expect(config.entra.mcpClientId, 'lesson 4\'s pre-registered client').toBe(APPS.mcpClient.clientId);
    expect(config.entra.apiAppIdUri, 'the API\'s Application ID URI is the MCP URL').toBe(APPS.mcpApi.api.identifierUris[0]);
    expect(config.graphBaseUrl, 'Graph keeps its real URL offline').toBe('https://graph.microsoft.com/v1.0');
  });

  it('gives MSAL the real authority with the emulator\'s endpoints as authorityMetadata', () => {
    const msal = config.entra.msal;
    expect(msal.authority, 'MSAL only takes an https authority: the real one').toBe(`https://login.microsoftonline.com/${TENANT_ID}`);
    expect(msal.knownAuthorities, 'the authority is known, so MSAL does no instance discovery').toEqual(['login.microsoftonline.com']);
    const metadata = JSON.parse(msal.authorityMetadata ?? '{}') as Record<string, string>;
    expect(metadata.token_endpoint, 'tokens come from the emulator').toBe(`http://localhost:3100/${TENANT_ID}/oauth2/v2.0/token`);
    expect(metadata.authorization_endpoint, 'sign-in happens at the emulator').toBe(`http://localhost:3100/${TENANT_ID}/oauth2/v2.0/authorize`);
    const cloud = JSON.parse(msal.cloudDiscoveryMetadata ?? '{}') as { metadata: Array<{ preferred_cache: string; aliases: string[] }> };
    expect(cloud.metadata[0].aliases, 'preferred_cache must be one of the aliases, or silent sign-in finds nothing').toContain(
      cloud.metadata[0].preferred_cache,
    );
  });

  it('follows PORT and EMULATOR_URL', () => {
    const moved = loadConfig({ PORT: '4001', EMULATOR_URL: 'http://127.0.0.1:4100' });
    expect(moved.mcpUrl.href, 'PORT moves the MCP URL').toBe('http://localhost:4001/mcp');
    expect(moved.entra.issuer, 'EMULATOR_URL moves the issuer').toBe(`http://127.0.0.1:4100/${TENANT_ID}/v2.0`);
  });

  it('listens on EMULATOR_PORT, else on the port of EMULATOR_URL, and EMULATOR_PORT alone moves EMULATOR_URL too', () => {
    expect(loadConfig({}).emulatorPort, 'the default').toBe(3100);
    expect(loadConfig({ EMULATOR_PORT: '4280' }).emulatorUrl.origin, 'EMULATOR_PORT alone').toBe('http://localhost:4280');
    expect(loadConfig({ EMULATOR_URL: 'http://127.0.0.1:4100' }).emulatorPort, 'the port of EMULATOR_URL').toBe(4100);
    expect(loadConfig({ EMULATOR_URL: 'https://emulator.example' }).emulatorPort, 'https without a port').toBe(443);
    const forwarded = loadConfig({ EMULATOR_PORT: '4280', EMULATOR_URL: 'https://forwarded.example' });
    expect([forwarded.emulatorPort, forwarded.emulatorUrl.origin], 'a forwarded address').toEqual([4280, 'https://forwarded.example']);
  });
});

describe('tenant mode (ENTRA_TENANT_ID set)', () => {
  it('switches to login.microsoftonline.com for a tenant GUID', () => {
    const config = loadConfig({ ENTRA_TENANT_ID: TENANT_GUID, ENTRA_PUBLIC_CLIENT_ID: APPS.publicClient.clientId });
    expect(config.mode, 'a tenant ID means tenant mode').toBe('tenant');
    expect(config.entra.tenantId, 'the given tenant').toBe(TENANT_GUID);
    expect(config.entra.issuer, 'the real v2.0 issuer').toBe(`https://login.microsoftonline.com/${TENANT_GUID}/v2.0`);
    expect(config.entra.jwksUri, 'the real JWKS').toBe(`https://login.microsoftonline.com/${TENANT_GUID}/discovery/v2.0/keys`);
    expect(config.entra.openIdConfigurationUrl, 'the real discovery document').toBe(
      `https://login.microsoftonline.com/${TENANT_GUID}/v2.0/.well-known/openid-configuration`,
    );
    expect(config.entra.msal, 'MSAL discovers the real authority itself').toEqual({ authority: `https://login.microsoftonline.com/${TENANT_GUID}` });
    expect(config.entra.publicClientId, 'client IDs come from the environment').toBe(APPS.publicClient.clientId);
  });

  it('asks for ENTRA_WEB_CLIENT_SECRET only when it is read, naming the variable and .env.example', () => {
    const config = loadConfig({ ENTRA_TENANT_ID: TENANT_GUID });
    expect(config.mode, 'loading works without the secret: lessons that do not need it never ask').toBe('tenant');
    const error = configError(() => config.entra.webClientSecret, 'reading the missing web client secret');
    expect(error.message, 'the message names the variable').toContain('ENTRA_WEB_CLIENT_SECRET');
    expect(error.message, 'the message points at .env.example').toContain('.env.example');
  });

  it('refuses a client ID that is not a GUID, naming the variable', () => {
    const config = loadConfig({ ENTRA_TENANT_ID: TENANT_GUID, ENTRA_API_CLIENT_ID: 'my-api' });
    expect(configError(() => config.entra.apiClientId, 'a malformed ENTRA_API_CLIENT_ID').message, 'names the variable').toContain(
      'ENTRA_API_CLIENT_ID',
    );
  });
});

describe('tenant mode: the Application ID URI is the MCP URL, and one Entra ID accepts (lesson 4 on)', () => {
  const tunnel = 'https://k7xq2p-3001.euw.devtunnels.ms';
  const tenant = (extra: Record<string, string>) => loadConfig({ ENTRA_TENANT_ID: TENANT_GUID, ...extra });

  it('is BASE_URL + /mcp when BASE_URL is https', () => {
    expect(tenant({ BASE_URL: tunnel }).entra.apiAppIdUri, 'the metadata\'s resource and the App ID URI are one value').toBe(`${tunnel}/mcp`);
    expect(
      tenant({ BASE_URL: tunnel, ENTRA_API_APP_ID_URI: `${tunnel}/mcp` }).entra.apiAppIdUri,
      'ENTRA_API_APP_ID_URI that equals BASE_URL + /mcp is accepted',
    ).toBe(`${tunnel}/mcp`);
  });

  it('refuses http://localhost…/mcp in one line that names the URL, https and BASE_URL', () => {
    const config = tenant({});
    expect(config.mode, 'loading itself works: lessons 2 and 3 run on http://localhost with a tenant').toBe('tenant');
    const { message } = configError(() => config.entra.apiAppIdUri, 'reading the App ID URI of http://localhost:3001/mcp');
    expect(message, 'names the refused URL').toContain('"http://localhost:3001/mcp"');
    expect(message, 'says what Entra ID accepts').toContain('https://');
    expect(message, 'names the variable to change').toContain('BASE_URL');
    expect(message, 'points at the lesson text that sets up an https URL').toContain('lessons/04-resource-server/README.md');
    expect(message, 'one line, no stack trace').not.toContain('\n');
  });

  const mismatches: Array<[string, string]> = [
    ['the api:// default of the portal', 'api://e4f6a8b0-c2d4-4e6f-8a1b-3c5d7e9f0a12'],
    ['a trailing slash', `${tunnel}/mcp/`],
    ['the origin without /mcp', tunnel],
    ['another tunnel', 'https://a1b2c3-3001.usw2.devtunnels.ms/mcp'],
  ];
  for (const [what, registered] of mismatches) {
    it(`refuses ENTRA_API_APP_ID_URI with ${what}, naming both values and AADSTS9010010`, () => {
      const config = tenant({ BASE_URL: tunnel, ENTRA_API_APP_ID_URI: registered });
      const { message } = configError(() => config.entra.apiAppIdUri, `ENTRA_API_APP_ID_URI=${registered}`);
      expect(message, 'quotes the registered value').toContain(`"${registered}"`);
      expect(message, 'quotes the resource the metadata announces').toContain(`"${tunnel}/mcp"`);
      expect(message, 'names the error Entra ID would answer').toContain('AADSTS9010010');
      expect(message, 'one line, no stack trace').not.toContain('\n');
    });
  }
});

describe('malformed settings throw a ConfigError that names the variable', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['a tenant ID that is not a GUID', { ENTRA_TENANT_ID: 'contoso.onmicrosoft.com' }, 'ENTRA_TENANT_ID'],
    ['PORT=abc', { PORT: 'abc' }, 'PORT'],
    ['PORT=70000', { PORT: '70000' }, 'PORT'],
    ['EMULATOR_URL with a path', { EMULATOR_URL: 'http://localhost:3100/common' }, 'EMULATOR_URL'],
    ['BASE_URL that is not a URL', { BASE_URL: 'localhost 3001' }, 'BASE_URL'],
  ];
  for (const [what, env, variable] of cases) {
    it(`${what} → ConfigError naming ${variable}`, () => {
      const error = configError(() => loadConfig(env), what);
      expect(error.message, `the message should name ${variable}`).toContain(variable);
      expect(error.message, 'the message quotes what it got').toContain(Object.values(env)[0]);
    });
  }
});

describe('.env files as Windows editors and PowerShell save them', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'lab-dotenv-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const text = `ENTRA_TENANT_ID=${TENANT_GUID}\r\nPORT=3005\r\n`;

  /** Writes `bytes` as a .env file and loads it into a fresh environment. */
  function load(name: string, bytes: Buffer, env: Record<string, string | undefined> = {}) {
    const file = path.join(folder, name);
    writeFileSync(file, bytes);
    loadDotEnv(file, env);
    return env;
  }

  it('reads UTF-8 with a byte order mark, first variable included', () => {
    const env = load('bom.env', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    expect(env.ENTRA_TENANT_ID, 'A UTF-8 BOM must not become part of the first variable\'s name (the lesson would silently run offline).').toBe(TENANT_GUID);
    expect(env.PORT).toBe('3005');
  });

  it('reads UTF-16 with a byte order mark (Windows PowerShell 5\'s Out-File), little- and big-endian', () => {
    const le = load('utf16le.env', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(le, 'A UTF-16LE .env (PowerShell 5: echo … > .env) must be read, not silently ignored.').toMatchObject({ ENTRA_TENANT_ID: TENANT_GUID, PORT: '3005' });
    const be = Buffer.from(text, 'utf16le').swap16();
    expect(load('utf16be.env', Buffer.concat([Buffer.from([0xfe, 0xff]), be])), 'UTF-16BE with its BOM').toMatchObject({ ENTRA_TENANT_ID: TENANT_GUID });
  });

  it('refuses UTF-16 without a byte order mark, and bytes that are not UTF-8, in one line that says how to fix it', () => {
    for (const [name, bytes, what] of [
      ['nobom.env', Buffer.from(text, 'utf16le'), 'UTF-16 without a BOM'],
      ['latin1.env', Buffer.from('ENTRA_WEB_CLIENT_SECRET=caf\xe9\n', 'latin1'), 'Latin-1 bytes'],
    ] as const) {
      const error = configError(() => load(name, bytes), what);
      expect(error.message, `${what}: the error names the file`).toContain(name);
      expect(error.message, `${what}: the error says how to fix it`).toMatch(/Save it as UTF-8/);
      expect(error.message.split('\n'), `${what}: one line`).toHaveLength(1);
    }
  });

  it('never overrides a variable the shell already set', () => {
    const env = load('plain.env', Buffer.from(text), { PORT: '4000' });
    expect(env.PORT, 'the shell\'s PORT wins over .env').toBe('4000');
    expect(env.ENTRA_TENANT_ID).toBe(TENANT_GUID);
  });
});
