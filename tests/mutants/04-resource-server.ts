/** Lesson 4's mutants: the mistakes that break a rule the lesson's text teaches (see mutant.ts). */
import { mutants } from './mutant.ts';

export default mutants([
  {
    id: 'prm-resource-is-origin',
    file: 'app.ts',
    find: `      resourceServerUrl: config.mcpUrl,`,
    replace: `      resourceServerUrl: config.baseUrl,`,
    rule: 'the metadata\'s resource is exactly the MCP URL (the App ID URI)',
    section: 'TODO 4.1',
  },
  {
    id: 'challenge-without-metadata',
    file: 'app.ts',
    find: `requireBearerAuth({ verifier, resourceMetadataUrl, expectedResource: config.mcpUrl })`,
    replace: `requireBearerAuth({ verifier, expectedResource: config.mcpUrl })`,
    rule: 'the 401 challenge names the Protected Resource Metadata',
    section: 'TODO 4.1',
  },
  {
    id: 'get-without-token',
    file: 'app.ts',
    find: `  app.get('/mcp', originCheck, keysCheck, bearer, methodNotAllowed);`,
    replace: `  app.get('/mcp', originCheck, methodNotAllowed);`,
    rule: 'GET /mcp needs a token too',
    section: 'TODO 4.1',
  },
  {
    id: 'delete-without-token',
    file: 'app.ts',
    find: `  app.delete('/mcp', originCheck, keysCheck, bearer, methodNotAllowed);`,
    replace: `  app.delete('/mcp', originCheck, methodNotAllowed);`,
    rule: 'DELETE /mcp needs a token too',
    section: 'TODO 4.1',
  },
  {
    id: 'jwks-per-request',
    file: 'verifier.ts',
    find: `      let payload: JWTPayload;`,
    replace: `      const jwks = createRemoteJWKSet(new URL(entra.jwksUri));
      let payload: JWTPayload;`,
    rule: 'the key set is created once, so its cache and cooldown work',
    section: 'TODO 4.2',
  },
  {
    id: 'any-algorithm',
    file: 'verifier.ts',
    find: `          algorithms: ['RS256'],`,
    replace: ``,
    rule: 'only RS256 is accepted',
    section: 'TODO 4.2',
  },
  {
    id: 'any-issuer',
    file: 'verifier.ts',
    find: `          issuer: entra.issuer,`,
    replace: ``,
    rule: 'the issuer is our tenant\'s v2.0 issuer, exactly',
    section: 'TODO 4.2',
  },
  {
    id: 'any-audience',
    file: 'verifier.ts',
    find: `          audience: entra.apiClientId,`,
    replace: ``,
    rule: 'a token for another app of the tenant (another audience) is refused',
    section: 'TODO 4.2',
  },
  {
    id: 'huge-clock-tolerance',
    file: 'verifier.ts',
    find: `          clockTolerance: CLOCK_SKEW_SECONDS,`,
    replace: `          clockTolerance: 24 * 3600,`,
    rule: 'an expired token is refused (a little clock skew only)',
    section: 'TODO 4.2',
  },
  {
    id: 'oid-not-required',
    file: 'verifier.ts',
    find: `          requiredClaims: ['exp', 'tid', 'ver', 'oid'],`,
    replace: `          requiredClaims: ['exp', 'tid', 'ver'],`,
    rule: 'every claim the verifier relies on is required (oid)',
    section: 'TODO 4.2',
  },
  {
    id: 'unreachable-keys-401',
    file: 'verifier.ts',
    find: `        throw rejection(error);`,
    replace: `        throw new InvalidTokenError(describeFailure(error));`,
    rule: 'unreachable signing keys fail closed with 503 and Retry-After, not a 401 that makes the client drop a good token',
    section: 'TODO 4.2',
  },
  {
    id: 'token-logged',
    file: 'verifier.ts',
    find: `        throw rejection(error);`,
    replace: `        console.error(\`[auth] refused \${token}: \${describeFailure(error)}\`);
        throw rejection(error);`,
    rule: 'a token is never written to the logs',
    section: 'TODO 4.2',
  },
  {
    id: 'tid-unchecked',
    file: 'verifier.ts',
    find: `  if (payload.tid !== entra.tenantId) {`,
    replace: `  if (false) {`,
    rule: 'tid is our tenant',
    section: 'TODO 4.3',
  },
  {
    id: 'ver-unchecked',
    file: 'verifier.ts',
    find: `  if (payload.ver !== '2.0') {`,
    replace: `  if (false) {`,
    rule: 'only v2.0 tokens',
    section: 'TODO 4.3',
  },
  {
    id: 'scopes-unqualified',
    file: 'verifier.ts',
    find: `    scopes: scp.map((name) => \`\${entra.apiAppIdUri}/\${name}\`),`,
    replace: `    scopes: scp,`,
    rule: 'scopes are fully qualified with the App ID URI',
    section: 'TODO 4.3',
  },
  {
    id: 'expires-at-milliseconds',
    file: 'verifier.ts',
    find: `    expiresAt: payload.exp,`,
    replace: `    expiresAt: payload.exp! * 1000,`,
    rule: 'AuthInfo.expiresAt is in seconds',
    section: 'TODO 4.3',
  },
  {
    id: 'oid-from-sub',
    file: 'verifier.ts',
    find: `    oid: String(payload.oid),`,
    replace: `    oid: String(payload.sub),`,
    rule: 'the caller is its oid (not sub, not a name)',
    section: 'TODO 4.3',
  },
  {
    id: 'app-only-from-roles',
    file: 'verifier.ts',
    find: `    appOnly: scp.length === 0,`,
    replace: `    appOnly: roles.length > 0,`,
    rule: 'app-only means no scp',
    section: 'TODO 4.3',
  },
  {
    id: 'app-only-from-idtyp',
    file: 'verifier.ts',
    find: `    appOnly: scp.length === 0,`,
    replace: `    appOnly: payload.idtyp === 'app',`,
    rule: 'app-only means no scp (idtyp is only there when the API configures it)',
    section: 'TODO 4.3',
  },
  {
    id: 'client-id-from-aud',
    file: 'verifier.ts',
    find: `    clientId: String(payload.azp ?? ''),`,
    replace: `    clientId: String(payload.aud ?? ''),`,
    rule: 'clientId is azp, the app the user signed in with',
    section: 'TODO 4.3',
  },
  {
    id: 'scope-substring',
    file: 'scopes.ts',
    find: `  return auth.scopes.includes(qualifiedScope(appIdUri, permission.scope));`,
    replace: `  return auth.scopes.some((granted) => granted.includes(permission.scope));`,
    rule: 'scopes match exactly, not as substrings',
    section: 'TODO 4.4',
  },
  {
    id: 'app-any-role',
    file: 'scopes.ts',
    find: `  if (caller.appOnly) return permission.appRole !== undefined && caller.roles.includes(permission.appRole);`,
    replace: `  if (caller.appOnly) return caller.roles.length > 0;`,
    rule: 'an app-only caller needs the tool\'s own app role',
    section: 'TODO 4.4',
  },
  {
    id: 'batch-first-only',
    file: 'scopes.ts',
    find: `  const messages = Array.isArray(body) ? body : [body];`,
    replace: `  const messages = Array.isArray(body) ? body.slice(0, 1) : [body];`,
    rule: 'every message of a JSON-RPC batch is gated, not just the first',
    section: 'TODO 4.4',
  },
  {
    id: 'unknown-tool-allowed',
    file: 'scopes.ts',
    find: `      if (permission && isAllowed(auth, permission, appIdUri)) continue;`,
    replace: `      if (!permission || isAllowed(auth, permission, appIdUri)) continue;`,
    rule: 'a tool without a permission entry is refused to everyone',
    section: 'TODO 4.4',
  },
  {
    id: 'challenge-drops-current-scopes',
    file: 'scopes.ts',
    find: `      const scope = [...new Set([...(needed ? [needed] : []), ...auth.scopes])].join(' ');`,
    replace: `      const scope = needed ?? '';`,
    rule: 'the 403 challenge keeps the scopes the token already has',
    section: 'TODO 4.4',
  },
  {
    id: 'obo-passthrough',
    file: 'graph.ts',
    find: `      return result.accessToken;`,
    replace: `      return auth.token;`,
    rule: 'Graph never sees the incoming token (On-Behalf-Of)',
    section: 'TODO 4.5',
  },
  {
    id: 'obo-error-raw',
    file: 'graph.ts',
    find: `      if (error instanceof GraphAccessError) throw error;`,
    replace: `      throw error;`,
    rule: 'a failed On-Behalf-Of exchange becomes an error that names the code and what to check',
    section: 'TODO 4.5',
  },
  {
    id: 'obo-scopes-qualified',
    file: 'graph.ts',
    find: `        scopes: [scope],`,
    replace: `        scopes: [\`https://graph.microsoft.com/\${scope}\`],`,
    rule: 'the next call takes the Graph token from MSAL\'s cache (scopes in the short form Entra ID answers with)',
    section: 'TODO 4.5',
  },
  {
    id: 'obo-skip-cache',
    file: 'graph.ts',
    find: `        oboAssertion: auth.token,`,
    replace: `        oboAssertion: auth.token,\n        skipCache: true,`,
    rule: 'the next call takes the Graph token from MSAL\'s cache, not a new On-Behalf-Of request',
    section: 'TODO 4.5',
  },
  {
    id: 'challenge-header-injection',
    file: 'scopes.ts',
    find: 'error_description="${headerSafe(description)}"',
    replace: 'error_description="${description}"',
    rule: 'a client-chosen tool name never reaches the challenge\'s syntax',
    section: 'TODO 4.4',
  },
  {
    id: 'graph-token-per-scope',
    file: 'graph.ts',
    // A cache of our own, by scope, beside MSAL's: the first caller's Graph token for everyone after.
    find: `  async function graphTokenFor(auth: AuthInfo, scope: string): Promise<string> {
    try {
      const result = await msal.acquireTokenOnBehalfOf({
        // The incoming token is the user's proof (its \`aud\` is our API, which OBO requires).
        oboAssertion: auth.token,
        scopes: [scope],
      });
      if (!result?.accessToken) throw new GraphAccessError('Entra ID returned no token for Microsoft Graph.');
      return result.accessToken;`,
    replace: `  const graphTokens = new Map<string, string>();
  async function graphTokenFor(auth: AuthInfo, scope: string): Promise<string> {
    if (graphTokens.has(scope)) return graphTokens.get(scope)!;
    try {
      const result = await msal.acquireTokenOnBehalfOf({
        oboAssertion: auth.token,
        scopes: [scope],
      });
      if (!result?.accessToken) throw new GraphAccessError('Entra ID returned no token for Microsoft Graph.');
      graphTokens.set(scope, result.accessToken);
      return result.accessToken;`,
    rule: 'a Graph token speaks for one user: no cache of our own by scope (MSAL keys its cache by the incoming token)',
    section: 'TODO 4.5',
  },
  {
    id: 'obo-asks-for-every-graph-permission',
    file: 'graph.ts',
    find: `        scopes: [scope],`,
    replace: `        scopes: ['User.Read', 'Mail.Send'],`,
    rule: 'On-Behalf-Of asks for the one permission the tool needs',
    section: 'TODO 4.5',
  },
  {
    id: 'user-role-instead-of-scope',
    file: 'scopes.ts',
    find: `  return auth.scopes.includes(qualifiedScope(appIdUri, permission.scope));`,
    replace: `  return auth.scopes.includes(qualifiedScope(appIdUri, permission.scope)) || (permission.appRole !== undefined && caller.roles.includes(permission.appRole));`,
    rule: 'a user is judged by the scopes of the token, never by an app role',
    section: 'TODO 4.4',
  },
  {
    id: 'user-only-tool-given-an-app-role',
    file: 'scopes.ts',
    find: `  my_profile: { scope: SCOPES.read },`,
    replace: `  my_profile: { scope: SCOPES.read, appRole: APP_ROLES.readAll },`,
    rule: 'a tool that acts as the user in Graph has no app role: there must be a user',
    section: 'TODO 4.4',
  },
  {
    id: 'app-only-default-role',
    file: 'scopes.ts',
    find: `if (caller.appOnly) return permission.appRole !== undefined && caller.roles.includes(permission.appRole);`,
    replace: `if (caller.appOnly) return caller.roles.includes(permission.appRole ?? APP_ROLES.admin);`,
    rule: 'an app-only caller gets in only by the tool\'s own app role',
    section: 'TODO 4.4',
  },
  {
    id: 'offline-access-advertised',
    file: 'scopes.ts',
    find: `return Object.values(SCOPES).map((name) => qualifiedScope(appIdUri, name));`,
    replace: `return [...Object.values(SCOPES).map((name) => qualifiedScope(appIdUri, name)), 'offline_access'];`,
    rule: 'the metadata lists this API\'s scopes, never offline_access',
    section: 'TODO 4.1',
  },
  {
    id: 'clock-tolerance-of-an-hour',
    file: 'verifier.ts',
    find: `          clockTolerance: CLOCK_SKEW_SECONDS,`,
    replace: `          clockTolerance: 3000,`,
    rule: 'a little clock skew, not a token that is valid only later',
    section: 'What jose checks',
  },
  {
    id: 'verified-cache-keyed-by-payload',
    file: 'verifiedTokens.ts',
    find: `      const hit = verified.get(token);
      if (hit && hit.until > now()) return hit.authInfo;
      verified.delete(token);

      const authInfo = await verifier.verifyAccessToken(token);
      const expiresAtMs = (authInfo.expiresAt ?? 0) * 1000;
      verified.set(token, `,
    replace: `      const key = token.split('.')[1]!;
      const hit = verified.get(key);
      if (hit && hit.until > now()) return hit.authInfo;
      verified.delete(key);

      const authInfo = await verifier.verifyAccessToken(token);
      const expiresAtMs = (authInfo.expiresAt ?? 0) * 1000;
      verified.set(key, `,
    rule: 'a verified token is remembered by its whole string, signature included',
    section: 'What jose checks',
  },
]);
