/**
 * A small router: a table of routes (method + path pattern → handler), matched in order.
 *
 * Patterns are paths whose segments are literal, `:name` (one segment, captured) or a final `*`
 * (whatever follows, including nothing). Trailing slashes of the request path do not count.
 */

/** The methods a route can be limited to; `ANY` matches every method. */
export type RouteMethod = 'GET' | 'POST' | 'ANY';

/** One row of a route table. */
export interface Route<Handler> {
  method: RouteMethod;
  /** e.g. `/:tenant/oauth2/v2.0/token`, `/devicelogin`, `/.well-known/*`. */
  path: string;
  handler: Handler;
}

/** The route that answers a request, and the path segments its `:name` parts captured (still percent-encoded). */
export interface RouteMatch<Handler> {
  handler: Handler;
  params: Record<string, string>;
}

/**
 * Finds the first route of `routes` that matches a request.
 *
 * @param method The request's method, e.g. `GET`.
 * @param pathname The request URL's path, e.g. `/contoso.test/oauth2/v2.0/token/`.
 * @returns The match, or `undefined` when no route matches (the caller answers 404).
 *
 * @example
 * ```ts
 * const routes = [{ method: 'POST', path: '/:tenant/oauth2/v2.0/token', handler: token }];
 * matchRoute(routes, 'POST', '/contoso.test/oauth2/v2.0/token')
 * // { handler: token, params: { tenant: 'contoso.test' } }
 * ```
 */
export function matchRoute<Handler>(routes: readonly Route<Handler>[], method: string, pathname: string): RouteMatch<Handler> | undefined {
  const segments = splitPath(pathname);
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const params = matchSegments(splitPath(route.path), segments);
    if (params) return { handler: route.handler, params };
  }
  return undefined;
}

function splitPath(pathname: string): string[] {
  return pathname.replace(/\/+$/, '').split('/').slice(1);
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    if (part === '*') return params;
    const segment = segments[index];
    if (segment === undefined) return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return segments.length === pattern.length ? params : undefined;
}
