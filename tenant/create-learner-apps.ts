/**
 * Creates one learner's app registrations in a real Microsoft Entra tenant, from a parameter file:
 *
 *   az login --tenant <tenant ID>            (as Cloud Application Administrator or Application Administrator)
 *   npx tsx tenant/create-learner-apps.ts tenant/ada.json
 *
 * NOT RUN AGAINST A REAL TENANT. The requests follow the Microsoft Graph v1.0 reference (application,
 * addPassword, servicePrincipal, oauth2PermissionGrant, appRoleAssignment) and the Learn pages lesson 4
 * cites; `npm test` runs this file against an in-memory fake of those endpoints (tests/tooling/tenant.test.ts),
 * which proves the order and the content of the requests, not that a tenant accepts them. See tenant/README.md.
 *
 * What it creates (each part can be switched off in the parameter file):
 * - lesson 2: a public client, redirect http://localhost (Mobile and desktop), public client flows on;
 * - lesson 3: a web app, redirect http://localhost:3001/auth/callback (Web), a client secret;
 * - lesson 4: the MCP API (v2 tokens FIRST, then the Application ID URI = the learner's https origin + /mcp),
 *   its scopes and app roles, Graph User.Read and Mail.Send, a client secret; the MCP client (Inspector 2.x
 *   and the SDK under Mobile and desktop, Inspector 0.x under Single-page application), pre-authorized with
 *   VS Code's client ID; a daemon holding Tools.Read.All; MCP.Admin for the learner; admin consent.
 * It prints the learner's .env lines, secrets included: hand them over privately.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Microsoft Graph's application ID, the same in every tenant. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** VS Code's own client ID for Entra ID: https://learn.microsoft.com/azure/app-service/configure-authentication-mcp-server-vscode */
export const VSCODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ParametersSchema = z.object({
  tenantId: z.string().regex(GUID, 'must be the Directory (tenant) ID, a GUID'),
  /** A short name that ends every display name: "Workshop MCP API (ada)". */
  learner: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1 to 40 letters, digits, dots, dashes or underscores'),
  /** The learner, who gets the MCP.Admin app role. */
  userPrincipalName: z.string().includes('@', { message: 'must be a user principal name such as ada@contoso.onmicrosoft.com' }),
  /** The learner's https origin for lesson 4 (their dev tunnel), without a path. */
  mcpBaseUrl: z.string(),
  create: z
    .object({
      publicClient: z.boolean().default(true),
      webApp: z.boolean().default(true),
      mcpClient: z.boolean().default(true),
      daemon: z.boolean().default(true),
    })
    .default({ publicClient: true, webApp: true, mcpClient: true, daemon: true }),
  /** The room's shared MCP client, pre-authorized instead of (or as well as) a new one. */
  sharedMcpClientId: z.string().regex(GUID, 'must be a client ID (GUID)').optional(),
  preAuthorizeVsCode: z.boolean().default(true),
  /** Tenant-wide consent for the Graph permissions (lessons 2–4); needs an administrator role. */
  grantAdminConsent: z.boolean().default(true),
  secretLifetimeDays: z.number().int().min(1).max(365).default(7),
});
export type Parameters = z.infer<typeof ParametersSchema>;

/** A Microsoft Graph v1.0 call: method, path under /v1.0, optional JSON body; resolves to the JSON reply. */
export type GraphCall = (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) => Promise<unknown>;

/** A mistake in the parameters or the tenant, told in one line. */
export class SetupError extends Error {
  override name = 'SetupError';
}

interface AppObject {
  id: string;
  appId: string;
}
interface PermissionScope {
  id: string;
  value: string;
}
interface Graph {
  id: string;
  oauth2PermissionScopes: PermissionScope[];
}

/** The https origin of the MCP server, checked the way lesson 4's server checks it at start-up. */
export function mcpUrlOf(mcpBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(mcpBaseUrl);
  } catch {
    throw new SetupError(`mcpBaseUrl must be an https origin such as https://<tunnel-id>-3001.<region>.devtunnels.ms; got "${mcpBaseUrl}".`);
  }
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash) {
    throw new SetupError(
      `mcpBaseUrl must be an https origin with no path (Entra ID documents only https:// and api:// Application ID URIs); got "${mcpBaseUrl}".`,
    );
  }
  return `${url.origin}/mcp`;
}

/** Creates the apps and returns the learner's .env lines. */
export async function createLearnerApps(params: Parameters, graph: GraphCall, log: (line: string) => void = console.error): Promise<string[]> {
  const mcpUrl = mcpUrlOf(params.mcpBaseUrl);
  const name = (what: string) => `Workshop ${what} (${params.learner})`;
  const expiry = new Date(Date.now() + params.secretLifetimeDays * 86_400_000).toISOString();
  const env = [`ENTRA_TENANT_ID=${params.tenantId}`];

  // Look-ups first, so that a wrong user or a missing Graph principal stops before anything is created.
  const microsoftGraph = (await graph('GET', `/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,oauth2PermissionScopes`)) as Graph;
  const graphScope = (value: string) => {
    const scope = microsoftGraph.oauth2PermissionScopes.find((s) => s.value === value);
    if (!scope) throw new SetupError(`Microsoft Graph in this tenant has no delegated permission ${value}.`);
    return { id: scope.id, type: 'Scope' };
  };
  const user = (await graph('GET', `/users/${encodeURIComponent(params.userPrincipalName)}?$select=id`).catch(() => {
    throw new SetupError(`No user ${params.userPrincipalName} in the tenant: check userPrincipalName.`);
  })) as { id: string };
  for (const what of ['stdio MCP server', 'remote MCP server', 'MCP API', 'MCP client', 'nightly report job']) {
    const filter = encodeURIComponent(`displayName eq '${name(what).replaceAll("'", "''")}'`);
    const found = (await graph('GET', `/applications?$filter=${filter}&$select=appId`)) as { value: unknown[] };
    if (found.value.length > 0) throw new SetupError(`An app named "${name(what)}" already exists: delete it, or choose another learner name.`);
  }

  const application = async (body: Record<string, unknown>) =>
    (await graph('POST', '/applications', { signInAudience: 'AzureADMyOrg', ...body })) as AppObject;
  const secretOf = async (app: AppObject) =>
    ((await graph('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { displayName: 'workshop', endDateTime: expiry } })) as { secretText: string })
      .secretText;
  const principalOf = async (app: { appId: string }) => (await withReplicationRetry(() => graph('POST', '/servicePrincipals', { appId: app.appId }))) as { id: string };
  const consent = async (client: { id: string }, scope: string) => {
    if (!params.grantAdminConsent) return;
    const grant = { clientId: client.id, consentType: 'AllPrincipals', resourceId: microsoftGraph.id, scope };
    await withReplicationRetry(() => graph('POST', '/oauth2PermissionGrants', grant));
  };

  if (params.create.publicClient) {
    const app = await application({
      displayName: name('stdio MCP server'),
      isFallbackPublicClient: true, // "Allow public client flows": the device code flow
      publicClient: { redirectUris: ['http://localhost'] },
      requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [graphScope('User.Read')] }],
    });
    await consent(await principalOf(app), 'User.Read');
    env.push(`ENTRA_PUBLIC_CLIENT_ID=${app.appId}`);
    log(`lesson 2: public client ${app.appId}`);
  }

  if (params.create.webApp) {
    const app = await application({
      displayName: name('remote MCP server'),
      web: { redirectUris: ['http://localhost:3001/auth/callback'] },
      requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [graphScope('User.Read')] }],
    });
    const secret = await secretOf(app);
    await consent(await principalOf(app), 'User.Read');
    env.push(`ENTRA_WEB_CLIENT_ID=${app.appId}`, `ENTRA_WEB_CLIENT_SECRET=${secret}`);
    log(`lesson 3: web app ${app.appId}`);
  }

  // Lesson 4's API. v2 tokens before the https Application ID URI: the identifier URI policy exempts
  // apps that get v2.0 tokens (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions).
  const api = await application({ displayName: name('MCP API'), api: { requestedAccessTokenVersion: 2 } });
  await graph('PATCH', `/applications/${api.id}`, { identifierUris: [mcpUrl] });
  const scopes = ['tools.read', 'mail.send'].map((value) => ({
    id: randomUUID(),
    value,
    type: 'User', // who can consent: admins and users
    isEnabled: true,
    adminConsentDisplayName: `Workshop MCP API: ${value}`,
    adminConsentDescription: `Lets the app use the workshop MCP server's ${value} tools on behalf of the signed-in user.`,
    userConsentDisplayName: `Workshop MCP API: ${value}`,
    userConsentDescription: `Lets the app use the workshop MCP server's ${value} tools on your behalf.`,
  }));
  const roles = {
    toolsReadAll: { id: randomUUID(), value: 'Tools.Read.All', allowedMemberTypes: ['Application'] },
    admin: { id: randomUUID(), value: 'MCP.Admin', allowedMemberTypes: ['User', 'Application'] },
  };
  const apiObject = (preAuthorizedApplications: Array<{ appId: string; delegatedPermissionIds: string[] }>) => ({
    requestedAccessTokenVersion: 2,
    oauth2PermissionScopes: scopes,
    preAuthorizedApplications,
  });
  await graph('PATCH', `/applications/${api.id}`, {
    api: apiObject([]),
    appRoles: Object.values(roles).map((role) => ({
      ...role,
      displayName: role.value,
      description: `Workshop MCP API app role ${role.value}.`,
      isEnabled: true,
    })),
    requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [graphScope('User.Read'), graphScope('Mail.Send')] }],
  });
  const apiSecret = await secretOf(api);
  const apiPrincipal = await principalOf(api);
  await consent(apiPrincipal, 'User.Read Mail.Send'); // On-Behalf-Of cannot show a consent prompt
  const adminRole = { principalId: user.id, resourceId: apiPrincipal.id, appRoleId: roles.admin.id };
  await withReplicationRetry(() => graph('POST', `/servicePrincipals/${apiPrincipal.id}/appRoleAssignedTo`, adminRole));
  env.push(`ENTRA_API_CLIENT_ID=${api.appId}`, `ENTRA_API_CLIENT_SECRET=${apiSecret}`, `BASE_URL=${new URL(mcpUrl).origin}`, `ENTRA_API_APP_ID_URI=${mcpUrl}`);
  log(`lesson 4: MCP API ${api.appId}, Application ID URI ${mcpUrl}, MCP.Admin for ${params.userPrincipalName}`);

  // Which clients sign in without a consent prompt (Expose an API → Authorized client applications).
  const scopeIds = scopes.map((scope) => scope.id);
  const preAuthorized: string[] = [];
  if (params.create.mcpClient) {
    const client = await application({
      displayName: name('MCP client'),
      // Inspector 2.x redeems the code from its local server; the SDK client from its process.
      publicClient: { redirectUris: ['http://127.0.0.1/oauth/callback', 'http://localhost/callback'] },
      // Inspector 0.x redeems it from the browser page: only Single-page application URIs allow that.
      spa: { redirectUris: ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug'] },
      requiredResourceAccess: [{ resourceAppId: api.appId, resourceAccess: scopeIds.map((id) => ({ id, type: 'Scope' })) }],
    });
    await principalOf(client);
    preAuthorized.push(client.appId);
    env.push(`ENTRA_MCP_CLIENT_ID=${client.appId}`);
    log(`lesson 4: MCP client ${client.appId}`);
  } else if (params.sharedMcpClientId) {
    env.push(`ENTRA_MCP_CLIENT_ID=${params.sharedMcpClientId}`);
  }
  if (params.sharedMcpClientId) preAuthorized.push(params.sharedMcpClientId);
  if (params.preAuthorizeVsCode) preAuthorized.push(VSCODE_CLIENT_ID);
  if (preAuthorized.length > 0) {
    await graph('PATCH', `/applications/${api.id}`, {
      api: apiObject(preAuthorized.map((appId) => ({ appId, delegatedPermissionIds: scopeIds }))),
    });
  }

  if (params.create.daemon) {
    const daemon = await application({
      displayName: name('nightly report job'),
      requiredResourceAccess: [{ resourceAppId: api.appId, resourceAccess: [{ id: roles.toolsReadAll.id, type: 'Role' }] }],
    });
    const secret = await secretOf(daemon);
    const principal = await principalOf(daemon);
    // Granting an application permission is an app role assignment to the daemon's service principal.
    const daemonRole = { principalId: principal.id, resourceId: apiPrincipal.id, appRoleId: roles.toolsReadAll.id };
    await withReplicationRetry(() => graph('POST', `/servicePrincipals/${apiPrincipal.id}/appRoleAssignedTo`, daemonRole));
    env.push(`# lesson 4's daemon (not read by the lessons): client ID ${daemon.appId}, secret ${secret}`);
    log(`lesson 4: daemon ${daemon.appId} with Tools.Read.All`);
  }
  return env;
}

/**
 * A new application is not visible everywhere at once (Microsoft Graph is eventually consistent), so a
 * service principal created right after it can fail with 404 or 400 for a few seconds. Retries those.
 */
async function withReplicationRetry<T>(call: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof GraphRequestError) || ![400, 404].includes(error.status)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2_000 * attempt));
    }
  }
}

export class GraphRequestError extends Error {
  override name = 'GraphRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Graph over fetch with the signed-in Azure CLI user's token. */
export function graphOverFetch(token: string): GraphCall {
  return async (method, path, body) => {
    const response = await fetch(`https://graph.microsoft.com/v1.0${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      const detail = (() => {
        try {
          const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
          return `${error?.code ?? ''}: ${error?.message ?? text}`;
        } catch {
          return text;
        }
      })();
      throw new GraphRequestError(response.status, `${method} ${path.split('?')[0]} → ${response.status} ${detail}`);
    }
    return text ? JSON.parse(text) : undefined;
  };
}

/** The Azure CLI's token for Microsoft Graph, for the tenant the parameter file names. */
function azureCliToken(tenantId: string): string {
  const result = spawnSync('az', ['account', 'get-access-token', '--resource', 'https://graph.microsoft.com', '--tenant', tenantId, '--query', 'accessToken', '-o', 'tsv'], {
    encoding: 'utf8',
    shell: process.platform === 'win32', // az is az.cmd on Windows; the arguments are fixed, no user input
  });
  const token = result.stdout?.trim();
  if (result.status !== 0 || !token) {
    throw new SetupError(`Could not get a Microsoft Graph token from the Azure CLI: run az login --tenant ${tenantId} first (${(result.stderr || String(result.error ?? '')).trim().split('\n')[0]}).`);
  }
  return token;
}

async function main(file: string | undefined): Promise<void> {
  if (!file) throw new SetupError('Usage: npx tsx tenant/create-learner-apps.ts <parameter file>  (copy tenant/learner.example.json)');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SetupError(`Could not read ${file}: ${(error as Error).message}`);
  }
  const parsed = ParametersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SetupError(`${file}: ${issue.path.join('.') || 'the file'} ${issue.message}.`);
  }
  mcpUrlOf(parsed.data.mcpBaseUrl); // one line before anyone is asked to sign in
  const env = await createLearnerApps(parsed.data, graphOverFetch(azureCliToken(parsed.data.tenantId)));
  console.log(['# .env for this learner (contains secrets: hand it over privately)', ...env].join('\n'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((error: Error) => {
    console.error(`Error: ${error instanceof SetupError || error instanceof GraphRequestError ? error.message : error.stack}`);
    process.exit(1);
  });
}
