/**
 * tenant/create-learner-apps.ts against an in-memory fake of the Microsoft Graph endpoints it calls.
 * The fake enforces the rules the script exists to get right (v2 tokens before an https Application ID
 * URI, pre-authorized scopes that exist, app roles for the right member types); it proves the order
 * and content of the requests, not that a real tenant accepts them (tenant/README.md says so).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../shared/lab/lessons.ts';
import { tsNodeArgs } from '../../shared/lab/processes.ts';
import {
  createLearnerApps,
  GraphRequestError,
  ParametersSchema,
  SetupError,
  VSCODE_CLIENT_ID,
  type GraphCall,
} from '../../tenant/create-learner-apps.ts';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const BASE = 'https://k7xq2p-3001.euw.devtunnels.ms';

type Json = Record<string, any>;

/** Just enough of Microsoft Graph v1.0 for the script, with the rules that matter to it. */
class FakeGraph {
  readonly log: Array<{ method: string; path: string; body?: Json }> = [];
  readonly apps = new Map<string, Json>();
  readonly principals = new Map<string, Json>();
  readonly grants: Json[] = [];
  readonly assignments: Json[] = [];
  private next = 1;
  private readonly graphPrincipal = {
    id: 'sp-graph',
    appId: GRAPH_APP_ID,
    oauth2PermissionScopes: [
      { id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', value: 'User.Read' },
      { id: 'e383f46e-2787-4529-855e-0e479a3ffac0', value: 'Mail.Send' },
    ],
  };
  constructor(private readonly users: Record<string, string> = { 'ada@contoso.onmicrosoft.com': 'user-ada' }) {
    this.principals.set(this.graphPrincipal.id, this.graphPrincipal);
  }

  call: GraphCall = async (method, path, body) => {
    this.log.push({ method, path, body: body as Json });
    const fail = (status: number, message: string) => {
      throw new GraphRequestError(status, `${method} ${path} → ${status} ${message}`);
    };
    if (method === 'GET' && path.startsWith(`/servicePrincipals(appId='${GRAPH_APP_ID}')`)) return this.graphPrincipal;
    if (method === 'GET' && path.startsWith('/users/')) {
      const id = this.users[decodeURIComponent(path.slice('/users/'.length).split('?')[0]!)];
      return id ? { id } : fail(404, 'Request_ResourceNotFound');
    }
    if (method === 'GET' && path.startsWith('/applications?')) {
      const wanted = /displayName eq '(.*)'$/.exec(decodeURIComponent(new URLSearchParams(path.split('?')[1]).get('$filter') ?? ''))?.[1];
      return { value: [...this.apps.values()].filter((app) => app.displayName === wanted?.replaceAll("''", "'")) };
    }
    if (method === 'POST' && path === '/applications') {
      const app: Json = { id: `obj-${this.next}`, appId: `00000000-0000-4000-8000-${String(this.next++).padStart(12, '0')}`, ...(body as Json) };
      this.checkIdentifierUris(app, fail);
      this.apps.set(app.id, app);
      return app;
    }
    const appPath = /^\/applications\/([^/]+)(\/addPassword)?$/.exec(path);
    if (appPath) {
      const app = this.apps.get(appPath[1]!) ?? fail(404, 'no such application');
      if (method === 'POST' && appPath[2]) return { secretText: `secret-of-${app.displayName}` };
      if (method === 'PATCH') {
        const updated = { ...app, ...(body as Json) };
        this.checkIdentifierUris(updated, fail);
        const scopeIds = new Set((updated.api?.oauth2PermissionScopes ?? []).map((scope: Json) => scope.id));
        for (const pre of updated.api?.preAuthorizedApplications ?? []) {
          if (!pre.delegatedPermissionIds.every((id: string) => scopeIds.has(id))) fail(400, 'preAuthorizedApplications names a scope the API does not define');
        }
        this.apps.set(app.id, updated);
        return undefined;
      }
    }
    if (method === 'POST' && path === '/servicePrincipals') {
      const app = [...this.apps.values()].find((candidate) => candidate.appId === (body as Json).appId) ?? fail(400, 'no application with that appId');
      const principal = { id: `sp-${app.appId}`, appId: app.appId };
      this.principals.set(principal.id, principal);
      return principal;
    }
    if (method === 'POST' && path === '/oauth2PermissionGrants') {
      this.grants.push(body as Json);
      return body;
    }
    const assigned = /^\/servicePrincipals\/([^/]+)\/appRoleAssignedTo$/.exec(path);
    if (method === 'POST' && assigned) {
      const resource = this.principals.get(assigned[1]!) ?? fail(404, 'no such service principal');
      const app = [...this.apps.values()].find((candidate) => candidate.appId === resource.appId);
      const role = (app?.appRoles ?? []).find((candidate: Json) => candidate.id === (body as Json).appRoleId) ?? fail(400, 'no such app role');
      const kind = String((body as Json).principalId).startsWith('sp-') ? 'Application' : 'User';
      if (!role.allowedMemberTypes.includes(kind)) fail(400, `the app role ${role.value} cannot be assigned to a ${kind}`);
      this.assignments.push({ ...(body as Json), role: role.value, kind });
      return body;
    }
    return fail(501, 'not faked');
  };

  /** The identifier URI policy: an https URI outside the verified domains needs v2 tokens (the fake has none). */
  private checkIdentifierUris(app: Json, fail: (status: number, message: string) => never): void {
    for (const uri of app.identifierUris ?? []) {
      if (uri.startsWith('https://') && app.api?.requestedAccessTokenVersion !== 2) {
        fail(400, `Failed to add identifier URI ${uri}. All newly added URIs must contain a tenant verified domain, tenant ID, or app ID.`);
      }
    }
  }

  app(displayNameStart: string): Json {
    return [...this.apps.values()].find((app) => app.displayName.startsWith(displayNameStart))!;
  }
}

const PARAMS = ParametersSchema.parse({
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  learner: 'ada',
  userPrincipalName: 'ada@contoso.onmicrosoft.com',
  mcpBaseUrl: BASE,
});

describe('tenant/create-learner-apps.ts against a fake Microsoft Graph', () => {
  it('creates the set and prints the .env lines lesson 4 reads, with the App ID URI = BASE_URL + /mcp', async () => {
    const graph = new FakeGraph();
    const env = await createLearnerApps(PARAMS, graph.call, () => {});
    const api = graph.app('Workshop MCP API');
    expect(api.identifierUris, 'the Application ID URI is the MCP URL').toEqual([`${BASE}/mcp`]);
    expect(env).toContain(`BASE_URL=${BASE}`);
    expect(env).toContain(`ENTRA_API_APP_ID_URI=${BASE}/mcp`);
    for (const name of ['ENTRA_TENANT_ID', 'ENTRA_PUBLIC_CLIENT_ID', 'ENTRA_WEB_CLIENT_ID', 'ENTRA_WEB_CLIENT_SECRET', 'ENTRA_API_CLIENT_ID', 'ENTRA_API_CLIENT_SECRET', 'ENTRA_MCP_CLIENT_ID']) {
      expect(env.some((line) => line.startsWith(`${name}=`)), `.env names ${name}`).toBe(true);
    }
  });

  it('asks for v2 tokens in the request that creates the API, before it adds the https Application ID URI', async () => {
    const graph = new FakeGraph();
    await createLearnerApps(PARAMS, graph.call, () => {});
    const api = graph.app('Workshop MCP API');
    const created = graph.log.findIndex((entry) => entry.method === 'POST' && entry.body?.displayName === api.displayName);
    const uriAdded = graph.log.findIndex((entry) => entry.method === 'PATCH' && entry.body?.identifierUris);
    expect(graph.log[created]!.body!.api, 'v2 tokens from the start').toEqual({ requestedAccessTokenVersion: 2 });
    expect(uriAdded, 'the URI comes in a later request').toBeGreaterThan(created);
    expect(api.api.requestedAccessTokenVersion, 'still v2 after every update of `api`').toBe(2);
  });

  it('gives the API its scopes, app roles, Graph permissions with admin consent, and MCP.Admin to the learner', async () => {
    const graph = new FakeGraph();
    await createLearnerApps(PARAMS, graph.call, () => {});
    const api = graph.app('Workshop MCP API');
    expect(api.api.oauth2PermissionScopes.map((scope: Json) => [scope.value, scope.type, scope.isEnabled])).toEqual([
      ['tools.read', 'User', true],
      ['mail.send', 'User', true],
    ]);
    expect(api.appRoles.map((role: Json) => [role.value, role.allowedMemberTypes])).toEqual([
      ['Tools.Read.All', ['Application']],
      ['MCP.Admin', ['User', 'Application']],
    ]);
    expect(graph.grants.find((grant) => grant.clientId === `sp-${api.appId}`)?.scope, 'On-Behalf-Of needs consent beforehand').toBe('User.Read Mail.Send');
    expect(graph.assignments.filter((a) => a.kind === 'User').map((a) => [a.principalId, a.role])).toEqual([['user-ada', 'MCP.Admin']]);
    expect(graph.assignments.filter((a) => a.kind === 'Application').map((a) => a.role), 'the daemon holds Tools.Read.All').toEqual(['Tools.Read.All']);
  });

  it('registers Inspector 2.x and the SDK as desktop clients, Inspector 0.x as a single-page app, never the same loopback URI on both', async () => {
    const graph = new FakeGraph();
    await createLearnerApps(PARAMS, graph.call, () => {});
    const client = graph.app('Workshop MCP client');
    expect(client.publicClient.redirectUris).toEqual(['http://127.0.0.1/oauth/callback', 'http://localhost/callback']);
    expect(client.spa.redirectUris).toEqual(['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug']);
    // Entra ignores the port of loopback URIs: two that differ only there would share one platform at random.
    const withoutPort = (uri: string) => uri.replace(/^(http:\/\/[^/:]+):\d+/, '$1');
    const desktop = new Set(client.publicClient.redirectUris.map(withoutPort));
    expect(client.spa.redirectUris.map(withoutPort).filter((uri: string) => desktop.has(uri)), 'no loopback URI on both platforms').toEqual([]);
    expect(client.web, 'a public client has no Web redirect URIs').toBeUndefined();
  });

  it('pre-authorizes the MCP client and VS Code for both scopes', async () => {
    const graph = new FakeGraph();
    await createLearnerApps(PARAMS, graph.call, () => {});
    const api = graph.app('Workshop MCP API');
    const client = graph.app('Workshop MCP client');
    const scopeIds = api.api.oauth2PermissionScopes.map((scope: Json) => scope.id);
    expect(api.api.preAuthorizedApplications).toEqual([
      { appId: client.appId, delegatedPermissionIds: scopeIds },
      { appId: VSCODE_CLIENT_ID, delegatedPermissionIds: scopeIds },
    ]);
  });

  it('with the room\'s shared MCP client, creates only the API and pre-authorizes the shared client', async () => {
    const graph = new FakeGraph();
    const shared = '6d8f0a2c-4e6b-4d8f-b0a2-5c7e9a1b3d47';
    const env = await createLearnerApps(
      ParametersSchema.parse({ ...PARAMS, create: { publicClient: false, webApp: false, mcpClient: false, daemon: false }, sharedMcpClientId: shared, preAuthorizeVsCode: false }),
      graph.call,
      () => {},
    );
    expect([...graph.apps.values()].map((app) => app.displayName)).toEqual(['Workshop MCP API (ada)']);
    expect(graph.app('Workshop MCP API').api.preAuthorizedApplications.map((pre: Json) => pre.appId)).toEqual([shared]);
    expect(env).toContain(`ENTRA_MCP_CLIENT_ID=${shared}`);
  });

  it('refuses an http mcpBaseUrl in one line, before any Graph call', async () => {
    const graph = new FakeGraph();
    const failure = await createLearnerApps({ ...PARAMS, mcpBaseUrl: 'http://localhost:3001' }, graph.call, () => {}).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(SetupError);
    expect((failure as Error).message).toContain('"http://localhost:3001"');
    expect(graph.log, 'nothing was asked of Graph').toEqual([]);
  });

  it('stops before creating anything when an app of that learner exists, or the user does not', async () => {
    const graph = new FakeGraph();
    await createLearnerApps(PARAMS, graph.call, () => {});
    const before = graph.apps.size;
    await expect(createLearnerApps(PARAMS, graph.call, () => {})).rejects.toThrow(/already exists/);
    expect(graph.apps.size, 'no second set').toBe(before);
    const empty = new FakeGraph({});
    await expect(createLearnerApps(PARAMS, empty.call, () => {})).rejects.toThrow(/No user ada@contoso.onmicrosoft.com/);
    expect(empty.apps.size).toBe(0);
  });
});

describe('tenant/create-learner-apps.ts from the command line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-tenant-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a parameter file with an http mcpBaseUrl: exits 1 with one line, before asking the Azure CLI for a token', () => {
    const file = path.join(dir, 'ada.json');
    writeFileSync(file, JSON.stringify({ ...PARAMS, mcpBaseUrl: 'http://localhost:3001' }));
    const result = spawnSync(process.execPath, tsNodeArgs(path.join(ROOT, 'tenant', 'create-learner-apps.ts')).concat(file), {
      encoding: 'utf8',
      env: { PATH: '' }, // no az on the PATH: the check must come first
      timeout: 30_000,
    });
    const lines = result.stderr.trim().split('\n');
    expect(result.status).toBe(1);
    expect(lines, `one line on stderr; got:\n${result.stderr}`).toHaveLength(1);
    expect(lines[0]).toMatch(/^Error: mcpBaseUrl must be an https origin/);
  });
});
