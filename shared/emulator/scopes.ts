/**
 * Turning a `scope` request parameter into "which resource, which permissions", as Entra does:
 * one resource per request, unqualified names belong to `resource` if given and to Microsoft Graph
 * otherwise, and `resource` (RFC 8707) must be one of the resource's Application ID URIs.
 *
 * Application ID URIs match exactly, character for character, as in Entra ID: no other port, no
 * trailing slash, no other case. Entra answers a `resource` that is no identifier URI of the scopes'
 * app with AADSTS9010010, which is what MCP clients that add a trailing slash get (see
 * https://github.com/modelcontextprotocol/typescript-sdk/pull/1972 and anthropics/claude-code#52871),
 * and a scope whose prefix names no app with AADSTS500011 ("resource principal ... was not found").
 * Only client IDs, being GUIDs, match in any case.
 */
import { ALL_APPS, GRAPH_APP_ID, type AppRegistration } from './directory.ts';
import { Errors } from './errors.ts';

/**
 * An app's Application ID URIs (`identifierUris`) in this emulator: the directory's, or those a run
 * registered for the lesson's own URL (EntraEmulator's `apiAppIdUri`).
 */
export type IdentifierUris = (app: AppRegistration) => readonly string[];

/** The OpenID Connect scopes Entra accepts next to one resource's scopes. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** What a `scope` (and `resource`) parameter asks for, once resolved. */
export interface ResolvedScopes {
  resource: AppRegistration;
  /** Permission names without the resource prefix, e.g. `User.Read`. */
  permissions: string[];
  /** True for `<resource>/.default`. */
  isDefault: boolean;
  /** OpenID Connect scopes that were asked for. */
  oidc: string[];
  /** The identifier the client used for the resource (`api://…`, the URL, or the client ID). */
  identifier: string;
}

/** Finds the app that exposes an API under this client ID or exactly this Application ID URI. */
export function findResource(identifier: string, identifierUris: IdentifierUris): AppRegistration | undefined {
  return ALL_APPS.find((app) => app.api && (app.clientId === identifier.toLowerCase() || identifierUris(app).includes(identifier)));
}

/**
 * Resolves a request's `scope` and optional `resource` parameters to one resource and its permissions.
 *
 * @param scopeParam Space-separated scopes, e.g. `openid offline_access User.Read`.
 * @param resourceParam The `resource` parameter (RFC 8707), if any.
 * @param identifierUris The apps' Application ID URIs in this emulator.
 * @throws EntraError for several resources, an unknown resource or permission, or a `resource` that does not match.
 */
export function resolveScopes(scopeParam: string, resourceParam: string | null | undefined, identifierUris: IdentifierUris): ResolvedScopes {
  const requested = scopeParam.split(/\s+/).filter(Boolean);
  const oidc = requested.filter((scope) => OIDC_SCOPES.includes(scope.toLowerCase()));
  const rest = requested.filter((scope) => !OIDC_SCOPES.includes(scope.toLowerCase()));

  const explicit = resourceParam ? findResource(resourceParam, identifierUris) : undefined;
  if (resourceParam && !explicit) throw Errors.resourceMismatch(resourceParam, 'No app of this tenant has it as its Application ID URI (they match exactly: port, path, case, no trailing slash).');

  let resource: AppRegistration | undefined;
  let identifier = '';
  const permissions: string[] = [];
  for (const scope of rest) {
    const slash = scope.lastIndexOf('/');
    const prefix = slash > 0 ? scope.slice(0, slash) : undefined;
    const name = slash > 0 ? scope.slice(slash + 1) : scope;
    const app = prefix ? findResource(prefix, identifierUris) : (explicit ?? findResource(GRAPH_APP_ID, identifierUris));
    if (!app) throw Errors.resourceNotFound(prefix!);
    if (resource && resource !== app) throw Errors.multipleResources();
    resource = app;
    identifier = prefix ?? (explicit ? resourceParam! : identifierUris(app)[0]!);
    permissions.push(name);
  }
  // Only OpenID scopes: Entra still hands out a Graph token for the user's own profile.
  resource ??= explicit ?? findResource(GRAPH_APP_ID, identifierUris)!;
  if (!identifier) identifier = identifierUris(resource)[0]!;
  if (permissions.length === 0) permissions.push(resource.clientId === GRAPH_APP_ID ? 'User.Read' : '.default');

  if (explicit && explicit !== resource) throw Errors.resourceMismatch(resourceParam!);

  const isDefault = permissions.includes('.default');
  if (isDefault && permissions.length > 1) {
    throw Errors.invalidScope("'.default' cannot be combined with other scopes of the same resource.");
  }
  const declared = resource.api!.scopes;
  const unknown = isDefault ? [] : permissions.filter((permission) => !declared.some((name) => name.toLowerCase() === permission.toLowerCase()));
  if (unknown.length > 0) {
    throw Errors.invalidScope(
      `The scope '${unknown.join(' ')}' does not exist on ${resource.displayName}; it exposes: ${declared.join(', ')}.`,
    );
  }
  return { resource, permissions, isDefault, oidc, identifier };
}

/**
 * The scope names a user token for `client` grants. `<resource>/.default` means "what was consented",
 * as in Entra (https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope):
 * every exposed scope when the API pre-authorizes the client, else only the administrator's consent,
 * so `.default` never hands out a permission nobody consented to (Graph's `Mail.Read` here).
 */
export function grantedPermissions(resolved: ResolvedScopes, client: AppRegistration): string[] {
  const declared = resolved.resource.api!.scopes;
  if (resolved.isDefault) {
    if (resolved.resource.preAuthorizedClientIds?.includes(client.clientId)) return [...declared];
    const consented = client.adminConsent?.[resolved.resource.clientId] ?? [];
    return declared.filter((name) => consented.some((permission) => permission.toLowerCase() === name.toLowerCase()));
  }
  return resolved.permissions.map((permission) => declared.find((name) => name.toLowerCase() === permission.toLowerCase()) ?? permission);
}

/** The `scope` value of a token response, in the form Entra returns it. */
export function responseScope(resolved: ResolvedScopes, granted: string[]): string {
  const isGraph = resolved.resource.clientId === GRAPH_APP_ID;
  const names = isGraph ? granted : granted.map((permission) => `${resolved.identifier}/${permission}`);
  const oidc = resolved.oidc.filter((scope) => scope !== 'offline_access');
  return [...names, ...oidc].join(' ');
}

/**
 * Whether two URIs are the same loopback address but for the port: `http`, host `localhost` or
 * `127.0.0.1` (the same in both), same path and query. Entra matches loopback redirect URIs this way,
 * and only redirect URIs: Application ID URIs match exactly ({@link findResource}).
 *
 * @example
 * ```ts
 * sameLoopbackUri('http://localhost/callback', 'http://localhost:49152/callback') // true
 * ```
 */
export function sameLoopbackUri(registered: string, given: string): boolean {
  let registeredUrl: URL, givenUrl: URL;
  try {
    registeredUrl = new URL(registered);
    givenUrl = new URL(given);
  } catch {
    return false;
  }
  const loopback = (url: URL) => url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
  return (
    loopback(registeredUrl) &&
    loopback(givenUrl) &&
    registeredUrl.hostname === givenUrl.hostname &&
    registeredUrl.pathname === givenUrl.pathname &&
    registeredUrl.search === givenUrl.search
  );
}
