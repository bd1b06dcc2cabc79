/**
 * Permissions per tool: which delegated scope a user's token needs, and which app role lets an
 * app-only caller in. The gate below answers a caller that lacks one with 403 `insufficient_scope`,
 * naming the scope, so an MCP client can ask the user for it and try again (step-up).
 *
 * RFC 6750 §3.1: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * MCP:           https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling
 */
import type { RequestHandler } from 'express';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
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

/**
 * Every tool and what it needs. A tool missing here is refused to everyone: a new tool gets its
 * permission on purpose, never by default.
 */
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
  // TODO 4.4: An app-only caller (callerOf(auth).appOnly) needs permission.appRole among its roles; a user
  // needs the fully qualified permission.scope among auth.scopes. See README, step 4.4.
  throw new Error('TODO 4.4: decide whether the caller may use the tool (README, step 4.4).');
}

/** The tool names a JSON-RPC body calls (one message or a batch). */
export function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages
    .filter((m): m is { method: string; params?: { name?: unknown } } => typeof m === 'object' && m !== null && m.method === 'tools/call')
    .map((m) => String(m.params?.name ?? ''));
}

/**
 * Text made safe for a quoted value of WWW-Authenticate. A tool name comes from the client: a `"` in it
 * would end the quoted value and let the client add parameters of its own, and a line break makes Node
 * refuse the whole header (ERR_INVALID_CHAR, a 500). RFC 6750 §3 allows only the characters
 * %x20-21 / %x23-5B / %x5D-7E in error_description: anything else becomes "?".
 */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?').slice(0, 200);
}

export interface ToolGateOptions {
  /** The API's Application ID URI, which prefixes every scope. */
  appIdUri: string;
  /** The Protected Resource Metadata URL, for the challenge. */
  resourceMetadataUrl: string;
}

/**
 * Express middleware, after requireBearerAuth: refuses a `tools/call` the token does not permit,
 * before the MCP server runs anything.
 */
export function toolPermissionGate({ appIdUri, resourceMetadataUrl }: ToolGateOptions): RequestHandler {
  return (req, res, next) => {
    // TODO 4.4: For each tool in calledTools(req.body), look up TOOL_PERMISSIONS[tool]. If it is missing
    // or isAllowed() says no, answer 403 with
    //   WWW-Authenticate: Bearer error="insufficient_scope", scope="<the missing scope, fully qualified>",
    //                     resource_metadata="<resourceMetadataUrl>", error_description="<headerSafe(…)>"
    // and a JSON body, and stop. Otherwise call next(). See README, step 4.4.
    next();
  };
}
