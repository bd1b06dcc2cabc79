/**
 * Turning a `scope` request parameter into "which resource, which permissions", as Entra does:
 * one resource per request, unqualified names belong to `resource` if given and to Microsoft Graph
 * otherwise, and `resource` (RFC 8707) must be one of the resource's Application ID URIs.
 */
import { ALL_APPS, GRAPH_APP_ID, type AppRegistration } from './directory.ts';
import { Errors } from './errors.ts';

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

/** Finds an app by client ID, `api://{clientId}`, or an Application ID URI. */
export function findResource(identifier: string): AppRegistration | undefined {
  const wanted = normalize(identifier);
  return ALL_APPS.find(
    (app) =>
      app.api &&
      (app.clientId === wanted ||
        `api://${app.clientId}` === wanted ||
        app.api.identifierUris.some((uri) => sameIdentifier(normalize(uri), wanted))),
  );
}

/**
 * Resolves a request's `scope` and optional `resource` parameters to one resource and its permissions.
 *
 * @param scopeParam Space-separated scopes, e.g. `openid offline_access User.Read`.
 * @param resourceParam The `resource` parameter (RFC 8707), if any.
 * @throws EntraError for several resources, an unknown resource or permission, or a `resource` that does not match.
 */
export function resolveScopes(scopeParam: string, resourceParam?: string | null): ResolvedScopes {
  const requested = scopeParam.split(/\s+/).filter(Boolean);
  const oidc = requested.filter((scope) => OIDC_SCOPES.includes(scope.toLowerCase()));
  const rest = requested.filter((scope) => !OIDC_SCOPES.includes(scope.toLowerCase()));

  const explicit = resourceParam ? findResource(resourceParam) : undefined;
  if (resourceParam && !explicit) throw Errors.resourceNotFound(resourceParam);

  let resource: AppRegistration | undefined;
  let identifier = '';
  const permissions: string[] = [];
  for (const scope of rest) {
    const slash = scope.lastIndexOf('/');
    const prefix = slash > 0 ? scope.slice(0, slash) : undefined;
    const name = slash > 0 ? scope.slice(slash + 1) : scope;
    const app = prefix ? findResource(prefix) : (explicit ?? findResource(GRAPH_APP_ID));
    if (!app) throw Errors.resourceNotFound(prefix!);
    if (resource && resource !== app) throw Errors.multipleResources();
    resource = app;
    identifier = prefix ?? (explicit ? resourceParam! : app.api!.identifierUris[0]);
    permissions.push(name);
  }
  // Only OpenID scopes: Entra still hands out a Graph token for the user's own profile.
  resource ??= explicit ?? findResource(GRAPH_APP_ID)!;
  if (!identifier) identifier = resource.api!.identifierUris[0];
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

/** The scope names a token grants: `.default` expands to every exposed scope (admin consent). */
export function grantedPermissions(resolved: ResolvedScopes): string[] {
  if (resolved.isDefault) return [...resolved.resource.api!.scopes];
  const declared = resolved.resource.api!.scopes;
  return resolved.permissions.map((permission) => declared.find((name) => name.toLowerCase() === permission.toLowerCase()) ?? permission);
}

/** The `scope` value of a token response, in the form Entra returns it. */
export function responseScope(resolved: ResolvedScopes, granted: string[]): string {
  const isGraph = resolved.resource.clientId === GRAPH_APP_ID;
  const names = isGraph ? granted : granted.map((permission) => `${resolved.identifier}/${permission}`);
  const oidc = resolved.oidc.filter((scope) => scope !== 'offline_access');
  return [...names, ...oidc].join(' ');
}

function normalize(identifier: string): string {
  return identifier.trim().replace(/\/+$/, '').toLowerCase();
}

/** Loopback URIs match on any port, so tests and lessons can run on free ports (as Entra does for redirect URIs). */
function sameIdentifier(registered: string, given: string): boolean {
  if (registered === given) return true;
  return sameLoopbackUri(registered, given);
}

/**
 * Whether two URIs are the same loopback address but for the port: `http`, host `localhost` or
 * `127.0.0.1` (the same in both), same path and query. Entra matches loopback redirect URIs this way.
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
