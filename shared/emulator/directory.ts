/**
 * The emulated tenant: fixed, documented test data shared by the emulator, the lessons and the tests.
 *
 * Everything here is public test data for an offline tenant that exists only on your machine.
 * The IDs are stable so that a lesson's `.env`-free run, its tests and the README all agree.
 * The client secrets below are NOT secrets: they open nothing but this emulator.
 */

/** The emulated tenant's ID (a GUID), as in `tid` and in the endpoint paths. */
export const TENANT_ID = '7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c43';
/** The emulated tenant's domain; it also works in place of the tenant ID in endpoint paths. */
export const TENANT_DOMAIN = 'contoso.test';

/** Microsoft Graph's well-known application ID (the same in every tenant). */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Microsoft Graph's resource URI, the `aud` of Graph tokens. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

/** A user of the emulated tenant. Sign-in pages list them; no password is asked. */
export interface TestUser {
  oid: string;
  displayName: string;
  givenName: string;
  surname: string;
  userPrincipalName: string;
  jobTitle: string;
  officeLocation: string;
  /** App roles this user holds on the workshop API (lesson 4 and 5). */
  apiRoles: string[];
}

/** The tenant's test users. */
export const USERS: readonly TestUser[] = [
  {
    oid: '5d8e2f1a-93c4-4b7e-a1d6-0c2f9e8b7a61',
    displayName: 'Ada Lovelace',
    givenName: 'Ada',
    surname: 'Lovelace',
    userPrincipalName: `ada@${TENANT_DOMAIN}`,
    jobTitle: 'Chief Analyst',
    officeLocation: 'London',
    apiRoles: ['MCP.Admin'],
  },
  {
    oid: 'a3b7c9d1-2e4f-4a6b-8c0d-1e3f5a7b9c2d',
    displayName: 'Grace Hopper',
    givenName: 'Grace',
    surname: 'Hopper',
    userPrincipalName: `grace@${TENANT_DOMAIN}`,
    jobTitle: 'Compiler Engineer',
    officeLocation: 'Arlington',
    apiRoles: [],
  },
];

/** A public client (cannot keep a secret) or a confidential one (authenticates with a secret or certificate). */
export type ClientKind = 'public' | 'confidential';

/** A permission another app exposes (a delegated scope or an app role). */
export interface ApiPermissions {
  /** Application ID URIs (`identifierUris`). The first is the canonical one. */
  identifierUris: string[];
  /** Delegated scopes (`oauth2PermissionScopes`), by value. */
  scopes: string[];
  /** App roles (`appRoles`), by value. */
  appRoles: string[];
  /**
   * Optional claims of its access tokens (`optionalClaims.accessToken`), such as `idtyp`. Entra adds
   * `idtyp` to an app-only token only when the API asks for it here; code that tells app-only callers
   * apart must not count on it (no `scp` is the sign that works everywhere).
   */
  accessTokenOptionalClaims?: string[];
}

/** An app registration of the emulated tenant, with the settings the emulator enforces. */
export interface AppRegistration {
  clientId: string;
  displayName: string;
  kind: ClientKind;
  /** Redirect URIs. Loopback URIs (`http://localhost`, `http://127.0.0.1`) match on any port, as in Entra. */
  redirectUris: string[];
  /** "Allow public client flows" (device code). */
  allowPublicClientFlows?: boolean;
  /** Client secrets (confidential clients). */
  secrets?: string[];
  /** What this app exposes as an API, if anything. */
  api?: ApiPermissions;
  /** App roles granted to this app itself (client credentials), keyed by resource client ID. */
  appRoleAssignments?: Record<string, string[]>;
  /** Apps allowed to call this API without a consent prompt (`preAuthorizedApplications`). */
  preAuthorizedClientIds?: string[];
  /**
   * Delegated permissions an administrator consented to for this app, by resource client ID (API
   * permissions → Grant admin consent). With pre-authorization, the only consent there is: the
   * emulator has no consent prompt, like a tenant where users may not consent (see consent.ts).
   */
  adminConsent?: Record<string, readonly string[]>;
  /** Federated identity credentials: outside tokens this app accepts as its client assertion. */
  federatedCredentials?: FederatedCredential[];
}

/**
 * A federated identity credential on an app registration (Certificates & secrets → Federated
 * credentials): Entra ID accepts a token from `issuer` about `subject` for one of `audiences` as
 * the app's client assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation
 */
export interface FederatedCredential {
  name: string;
  /** The token issuer, exactly. `tenant` stands for this tenant's own v2.0 issuer (a managed identity's tokens). */
  issuer: string;
  /** The `sub` of the token, exactly: for a managed identity, its object (principal) ID. */
  subject: string;
  audiences: string[];
}

/** The audience of tokens a workload exchanges at Entra ID (a federated credential's default). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** A user-assigned managed identity of the (emulated) hosting platform. */
export interface ManagedIdentity {
  /** Its Azure resource name (the last segment of its resource ID, `mi_res_id`). */
  name: string;
  /** What the app names it by (`ENTRA_MANAGED_IDENTITY_CLIENT_ID`). */
  clientId: string;
  /** Its service principal's object ID: the `sub` and `oid` of its tokens. */
  principalId: string;
  displayName: string;
}

/** Lesson 5: managed identities the emulated platform can hand tokens for. */
export const MANAGED_IDENTITIES = {
  /** Attached to the MCP server, and trusted by the MCP API app through a federated credential. */
  mcpServer: {
    name: 'id-workshop-mcp',
    clientId: '8a2c4e6f-0b1d-4f3a-9c5e-7d9f1b3a5c70',
    principalId: 'c5e7a9b1-3d5f-4a7c-9e1b-2f4a6c8e0d93',
    displayName: 'Workshop MCP server (user-assigned managed identity)',
  },
  /** Another workload's identity, which the MCP API does NOT trust. */
  reportJob: {
    name: 'id-report-job',
    clientId: '3b5d7f91-2c4e-4a6b-8d0f-1e3a5c7e9b24',
    principalId: 'f1a3c5e7-9b2d-4c6e-8a0b-4d6f8a0c2e15',
    displayName: 'Report job (user-assigned managed identity)',
  },
} as const satisfies Record<string, ManagedIdentity>;

/**
 * The value the platform puts in `IDENTITY_HEADER` and expects back in `X-IDENTITY-HEADER`. On App
 * Service it is a per-instance nonce that guards the local endpoint against SSRF; offline it is fixed.
 */
export const OFFLINE_IDENTITY_HEADER = 'offline-identity-header-not-a-secret';

/** The workshop API's Application ID URI offline: exactly the MCP endpoint (see lesson 4). */
export const API_APP_ID_URI = 'http://localhost:3001/mcp';

/** The tenant's app registrations, by the name the lessons and tests use. */
export const APPS = {
  /** Lesson 2: a desktop / CLI app that cannot keep a secret. */
  publicClient: {
    clientId: '2b6e4d8f-1a3c-4e5b-9d7f-6a8c0e2b4d61',
    displayName: 'Workshop stdio MCP server (public client)',
    kind: 'public',
    redirectUris: ['http://localhost'],
    allowPublicClientFlows: true,
    adminConsent: { [GRAPH_APP_ID]: ['User.Read'] },
  },
  /** Lesson 3: a web app that keeps a secret on its server. */
  webApp: {
    clientId: '9c1e3a5b-7d2f-4b8e-a6c4-3f5e7a9b1d28',
    displayName: 'Workshop remote MCP server (confidential client)',
    kind: 'confidential',
    redirectUris: ['http://localhost:3001/auth/callback'],
    secrets: ['offline-web-app-secret-not-a-real-secret'],
    adminConsent: { [GRAPH_APP_ID]: ['User.Read'] },
  },
  /** Lesson 4 and 5: the MCP server as a protected API, and a confidential client for On-Behalf-Of. */
  mcpApi: {
    clientId: 'e4f6a8b0-c2d4-4e6f-8a1b-3c5d7e9f0a12',
    displayName: 'Workshop MCP API (resource server)',
    kind: 'confidential',
    redirectUris: [],
    secrets: ['offline-mcp-api-secret-not-a-real-secret'],
    api: {
      identifierUris: [API_APP_ID_URI, 'api://e4f6a8b0-c2d4-4e6f-8a1b-3c5d7e9f0a12'],
      scopes: ['tools.read', 'mail.send'],
      appRoles: ['MCP.Admin', 'Tools.Read.All'],
    },
    preAuthorizedClientIds: ['6d8f0a2c-4e6b-4d8f-b0a2-5c7e9a1b3d47'],
    // On-Behalf-Of cannot show a consent prompt: the API's Graph permissions are consented beforehand.
    adminConsent: { [GRAPH_APP_ID]: ['User.Read', 'Mail.Send'] },
    // Lesson 5: the server's managed identity may stand in for a secret (no secret needed in production).
    federatedCredentials: [
      { name: 'mcp-server-managed-identity', issuer: 'tenant', subject: 'c5e7a9b1-3d5f-4a7c-9e1b-2f4a6c8e0d93', audiences: ['api://AzureADTokenExchange'] },
    ],
  },
  /** Lesson 4: the pre-registered public client that MCP clients (Inspector, the SDK, VS Code) use. */
  mcpClient: {
    clientId: '6d8f0a2c-4e6b-4d8f-b0a2-5c7e9a1b3d47',
    displayName: 'Workshop MCP client (pre-registered public client)',
    kind: 'public',
    // Mobile and desktop: the SDK client, Inspector 2.x (its server redeems the code) opened at localhost or at
    // 127.0.0.1, its default. No single-page application URIs, so no browser page may redeem a code (consent.ts).
    redirectUris: [
      'http://localhost/callback',
      'http://localhost/oauth/callback',
      'http://localhost/oauth/callback/debug',
      'http://127.0.0.1/callback',
      'http://127.0.0.1/oauth/callback',
      'http://127.0.0.1/oauth/callback/debug',
    ],
    // Pre-authorized on the MCP API; Graph User.Read, which every new registration asks for, is consented.
    adminConsent: { [GRAPH_APP_ID]: ['User.Read'] },
  },
  /** Lesson 4: an app-only caller (client credentials) holding an app role on the API. */
  daemon: {
    clientId: '1f3a5c7e-9b2d-4f6a-8c1e-7d9b3f5a2c84',
    displayName: 'Workshop nightly report job (daemon)',
    kind: 'confidential',
    redirectUris: [],
    secrets: ['offline-daemon-secret-not-a-real-secret'],
    appRoleAssignments: { 'e4f6a8b0-c2d4-4e6f-8a1b-3c5d7e9f0a12': ['Tools.Read.All'] },
  },
  /** Microsoft Graph as a resource. */
  graph: {
    clientId: GRAPH_APP_ID,
    displayName: 'Microsoft Graph',
    kind: 'confidential',
    redirectUris: [],
    api: {
      identifierUris: [GRAPH_RESOURCE, `${GRAPH_RESOURCE}/`],
      // Mail.Read is consented to no app here: asking for it shows what a missing consent looks like.
      scopes: ['User.Read', 'Mail.Send', 'Mail.Read'],
      appRoles: ['User.Read.All', 'Mail.Send'],
    },
  },
} as const satisfies Record<string, AppRegistration>;

/** The name of one of {@link APPS}. */
export type AppName = keyof typeof APPS;

/** Every app registration of the tenant, in {@link APPS} order. */
export const ALL_APPS: readonly AppRegistration[] = Object.values(APPS);

/**
 * The app registration with this client ID.
 *
 * @param clientId A client ID as a request sent it; `null`, `undefined` and `''` find nothing.
 */
export function findApp(clientId: string | null | undefined): AppRegistration | undefined {
  return clientId ? ALL_APPS.find((app) => app.clientId === clientId) : undefined;
}

/**
 * The test user with this oid, UPN or given name (case-insensitive), e.g. `ada`.
 */
export function findUser(idOrName: string): TestUser | undefined {
  const wanted = idOrName.toLowerCase();
  return USERS.find(
    (user) => user.oid === wanted || user.userPrincipalName.toLowerCase() === wanted || user.givenName.toLowerCase() === wanted,
  );
}
