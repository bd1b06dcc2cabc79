/**
 * Permissions per tool: which delegated scope a user's token needs, and which app role lets an
 * app-only caller in. In lesson 4 an Express middleware read the JSON-RPC body to find the tool; v2
 * lets each tool carry its own `scopeChallenge`, which the SDK runs after authentication and before
 * the tool, and answers a refusal with 403 `insufficient_scope` itself (RFC 6750 §3.1).
 *
 * MCP: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling
 */
import type { AuthInfo, ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { callerOf } from './verifier.ts';

/** The delegated scopes the API's app registration exposes (short names). */
export const SCOPES = {
  read: 'tools.read',
  sendMail: 'mail.send',
} as const;

/** The app roles the API's app registration defines. */
export const APP_ROLES = {
  /** For app-only callers (daemons) that may use the read tools. */
  readAll: 'Tools.Read.All',
  /** For administrators, users or apps. */
  admin: 'MCP.Admin',
} as const;

export interface ToolPermission {
  /** The delegated scope a user's token must carry. */
  scope: string;
  /** The app role that lets an app-only caller use the tool. Absent: users only. */
  appRole?: string;
}

/** Every tool and what it needs. A tool missing here cannot be registered (see toolScopeChallenge). */
export const TOOL_PERMISSIONS: Readonly<Record<string, ToolPermission>> = {
  whoami: { scope: SCOPES.read, appRole: APP_ROLES.readAll },
  lookup_customer: { scope: SCOPES.read, appRole: APP_ROLES.readAll },
  search_customers: { scope: SCOPES.read, appRole: APP_ROLES.readAll },
  // These two act as the user in Microsoft Graph (On-Behalf-Of), so there must be a user.
  my_profile: { scope: SCOPES.read },
  send_mail: { scope: SCOPES.sendMail },
  // The tool itself also requires the MCP.Admin role (see tools.ts).
  export_customers: { scope: SCOPES.read, appRole: APP_ROLES.admin },
};

/** A scope in its fully qualified form, e.g. `http://localhost:3001/mcp/tools.read`. */
export function qualifiedScope(appIdUri: string, name: string): string {
  return `${appIdUri}/${name}`;
}

/** What the Protected Resource Metadata lists in `scopes_supported`. */
export function supportedScopes(appIdUri: string): string[] {
  return Object.values(SCOPES).map((name) => qualifiedScope(appIdUri, name));
}

/** True when the caller may use a tool with this permission. */
export function isAllowed(auth: AuthInfo, permission: ToolPermission, appIdUri: string): boolean {
  const caller = callerOf(auth);
  if (caller.appOnly) return permission.appRole !== undefined && caller.roles.includes(permission.appRole);
  return auth.scopes.includes(qualifiedScope(appIdUri, permission.scope));
}

/**
 * The `scopeChallenge` of one tool. Throws at registration when the tool has no permission, so a
 * new tool gets its permission on purpose, never by default.
 */
export function toolScopeChallenge(tool: string, appIdUri: string): ScopeChallengeHandler {
  const permission = TOOL_PERMISSIONS[tool];
  if (!permission) throw new Error(`The tool ${tool} has no entry in TOOL_PERMISSIONS (scopes.ts): give it a scope before registering it.`);
  // TODO 6.4: Return the ScopeChallengeHandler: ({ authInfo }) => undefined when the caller may use the
  // tool (isAllowed), else { scopes, errorDescription } with the missing scope, fully qualified, first,
  // then the scopes the token already has. Refuse when there is no authInfo at all. See README, step 6.4.
  return () => undefined;
}
