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
  /** An app role every caller needs besides the scope: tools for administrators only. */
  requiredRole?: string;
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
  // Administrators only: a user needs the MCP.Admin role on top of the scope.
  export_customers: { scope: SCOPES.read, appRole: APP_ROLES.admin, requiredRole: APP_ROLES.admin },
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
  /** Receives one entry per tool call: who, which tool, allowed or denied. */
  audit: (entry: AuditEntry) => void;
}

/**
 * One audit line: enough to answer "who used which tool, and were they allowed?", and nothing more.
 * `oid` is the caller's pseudonymous object ID: no name, e-mail, token or tool arguments, which would
 * turn the audit trail into a store of personal data.
 */
export interface AuditEntry {
  oid: string;
  tool: string;
  decision: 'allowed' | 'denied';
  /** Why a call was denied, in a few words. */
  reason?: string;
}

/**
 * Express middleware, after requireBearerAuth: refuses a `tools/call` the token does not permit,
 * before the MCP server runs anything, and writes one audit entry per tool call either way.
 */
export function toolPermissionGate({ appIdUri, resourceMetadataUrl, audit }: ToolGateOptions): RequestHandler {
  return (req, res, next) => {
    const auth = req.auth;
    if (!auth) throw new Error('toolPermissionGate must run after requireBearerAuth.');
    const caller = callerOf(auth);
    // Allowed calls are audited once the whole request goes through: a batch refused for a later
    // tool runs nothing, and the audit trail must not say otherwise.
    const allowed: string[] = [];
    for (const tool of calledTools(req.body)) {
      const permission = TOOL_PERMISSIONS[tool];
      if (permission && isAllowed(auth, permission, appIdUri)) {
        // An app role is assigned by an administrator: a new sign-in cannot add it, so a missing role
        // is a plain 403 without a scope challenge the client would try to satisfy.
        if (permission.requiredRole && !caller.roles.includes(permission.requiredRole)) {
          const description = `The tool ${tool} is for administrators: it needs the app role ${permission.requiredRole}, which a tenant administrator assigns`;
          audit({ oid: caller.oid, tool, decision: 'denied', reason: `missing app role ${permission.requiredRole}` });
          res.status(403).json({ error: 'forbidden', error_description: description });
          return;
        }
        allowed.push(tool);
        continue;
      }

      const needed = permission ? qualifiedScope(appIdUri, permission.scope) : undefined;
      // Name the missing scope together with those the token already has: a client that replaces
      // its token on step-up (the v1 SDK client does) then keeps what it could already do.
      const scope = [...new Set([...(needed ? [needed] : []), ...auth.scopes])].join(' ');
      const description = !permission
        ? `No permission is defined for the tool ${tool}`
        : caller.appOnly
          ? `The tool ${tool} needs ${permission.appRole ? `the app role ${permission.appRole}` : 'a signed-in user'}`
          : `The tool ${tool} needs the scope ${needed}`;
      audit({ oid: caller.oid, tool, decision: 'denied', reason: !permission ? 'no permission defined' : caller.appOnly ? 'missing app role' : 'missing scope' });
      res.set(
        'WWW-Authenticate',
        `Bearer error="insufficient_scope", scope="${scope}", resource_metadata="${resourceMetadataUrl}", error_description="${headerSafe(description)}"`,
      );
      res.status(403).json({ error: 'insufficient_scope', error_description: description });
      return;
    }
    for (const tool of allowed) audit({ oid: caller.oid, tool, decision: 'allowed' });
    next();
  };
}
