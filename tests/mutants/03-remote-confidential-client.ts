/** Lesson 3's mutants: the mistakes that break a rule the lesson's text teaches (see mutant.ts). */
import { mutants } from './mutant.ts';

export default mutants([
  {
    id: 'origin-unchecked',
    file: 'app.ts',
    find: `if (origin !== undefined && !origins.has(origin)) {`,
    replace: `if (false) {`,
    rule: 'a foreign Origin gets 403',
    section: 'TODO 3.1',
  },
  {
    id: 'origin-null-allowed',
    file: 'app.ts',
    find: `if (origin !== undefined && !origins.has(origin)) {`,
    replace: `if (origin !== undefined && origin !== 'null' && !origins.has(origin)) {`,
    rule: 'Origin: null (a sandboxed frame) is refused',
    section: 'TODO 3.1',
  },
  {
    id: 'origin-prefix',
    file: 'app.ts',
    find: `if (origin !== undefined && !origins.has(origin)) {`,
    replace: `if (origin !== undefined && ![...origins].some((allowed) => origin.startsWith(allowed))) {`,
    rule: 'whole origins are compared, not prefixes',
    section: 'TODO 3.1',
  },
  {
    id: 'mcp-get-delete-unlocked',
    file: 'app.ts',
    find: `  app.use(
    '/mcp',
    requireBearerAuth({`,
    replace: `  app.post(
    '/mcp',
    requireBearerAuth({`,
    rule: 'every method of /mcp needs a bearer token, GET and DELETE too',
    section: 'TODO 3.2',
  },
  {
    id: 'foreign-resource-accepted',
    file: 'consent.ts',
    find: `    const resource = this.checkResource(params.resource);`,
    replace: `    const resource = params.resource?.href ?? this.flow.config.mcpUrl.href;`,
    rule: 'an authorization request for another resource is refused (RFC 8707)',
    section: 'TODO 3.3',
  },
  {
    id: 'unknown-scope-granted',
    file: 'consent.ts',
    find: `    if (unknown.length > 0) throw new InvalidScopeError(`,
    replace: `    if (unknown.length < 0) throw new InvalidScopeError(`,
    rule: 'scopes this server does not offer are refused',
    section: 'TODO 3.3',
  },
  {
    id: 'redirect-before-consent',
    file: 'consent.ts',
    find: `    sendPage(
      res,
      200,
      consentPage({`,
    replace: `    if (requestId) {
      const { verifier, challenge } = await this.flow.entra.generatePkce();
      const state = randomToken();
      const consent = (await consents.take(requestId))!;
      await this.flow.signIns.set(state, { ...consent, entraCodeVerifier: verifier }, lifetimes.consentSeconds);
      return res.redirect(302, await this.flow.entra.signInUrl({ state, codeChallenge: challenge }));
    }
    sendPage(
      res,
      200,
      consentPage({`,
    rule: 'consent before any redirect to Entra ID (the confused deputy)',
    section: 'TODO 3.3',
  },
  {
    id: 'consent-reusable',
    file: 'consent.ts',
    find: `const consent = requestId ? await consents.take(requestId) : undefined;`,
    replace: `const consent = requestId ? await consents.get(requestId) : undefined;`,
    rule: 'a consent page can be answered once',
    section: 'TODO 3.4',
  },
  {
    id: 'consent-any-browser',
    file: 'consent.ts',
    find: `    if (!cookie.isSameBrowser(req, consent.browser)) {`,
    replace: `    if (false) {`,
    rule: 'the consent answer counts only from the browser that was shown the page (CSRF)',
    section: 'TODO 3.4',
  },
  {
    id: 'callback-state-reusable',
    file: 'callback.ts',
    find: `const signIn = state ? await signIns.take(state) : undefined;`,
    replace: `const signIn = state ? await signIns.get(state) : undefined;`,
    rule: 'a sign-in state is used once',
    section: 'TODO 3.5',
  },
  {
    id: 'callback-any-browser',
    file: 'callback.ts',
    find: `    if (!cookie.isSameBrowser(req, signIn.browser)) {`,
    replace: `    if (false) {`,
    rule: 'the callback counts only in the browser that started the sign-in (login CSRF)',
    section: 'TODO 3.5',
  },
  {
    id: 'callback-entra-error-dropped',
    file: 'callback.ts',
    find: `    if (typeof req.query.error === 'string') {`,
    replace: `    if (false) {`,
    rule: 'an error from Entra ID reaches the client as it was (access_denied stays access_denied)',
    section: 'TODO 3.5',
  },
  {
    id: 'code-reuse-keeps-session',
    file: 'tokens.ts',
    find: `      await endSession(sessions, grant.sessionId);
      throw new InvalidGrantError('The authorization code was already used;`,
    replace: `      throw new InvalidGrantError('The authorization code was already used;`,
    rule: 'a code used twice revokes what its first use produced (RFC 6749 §4.1.2)',
    section: 'TODO 3.6',
  },
  {
    id: 'code-redirect-uri-unchecked',
    file: 'tokens.ts',
    find: `if (redirectUri !== undefined && redirectUri !== grant.redirectUri) {`,
    replace: `if (false) {`,
    rule: 'the code is redeemed only with the redirect_uri of its request',
    section: 'TODO 3.6',
  },
  {
    id: 'expires-at-milliseconds',
    file: 'tokens.ts',
    find: `      expiresAt: Math.floor(grant.expiresAt / 1000),`,
    replace: `      expiresAt: grant.expiresAt,`,
    rule: 'AuthInfo.expiresAt is in seconds',
    section: 'TODO 3.7',
  },
  {
    id: 'verify-ignores-session',
    file: 'tokens.ts',
    find: `    if (!session) throw new InvalidTokenError('The session behind this access token has ended. Sign in again.');`,
    replace: ``,
    rule: 'an access token works only while its session lives',
    section: 'TODO 3.7',
  },
  {
    id: 'verify-throws-plain-error',
    file: 'tokens.ts',
    find: `    if (!grant) throw new InvalidTokenError('The access token is unknown or expired.');`,
    replace: `    if (!grant) throw new Error('The access token is unknown or expired.');`,
    rule: 'an unknown token is an InvalidTokenError (401), never a 500',
    section: 'TODO 3.7',
  },
  {
    id: 'refresh-reuse-keeps-session',
    file: 'tokens.ts',
    find: `      await endSession(sessions, grant.sessionId);
      throw new InvalidGrantError('The refresh token was already used`,
    replace: `      throw new InvalidGrantError('The refresh token was already used`,
    rule: 'a rotated refresh token that comes back ends the session',
    section: 'TODO 3.8',
  },
  {
    id: 'refresh-any-client',
    file: 'tokens.ts',
    find: `if (grant.used || grant.clientId !== client.client_id) {`,
    replace: `if (grant.used) {`,
    rule: 'a refresh token works only for the client it was issued to',
    section: 'TODO 3.8',
  },
  {
    id: 'refresh-not-rotated',
    file: 'tokens.ts',
    find: `    await refreshTokens.set(key, { ...grant, used: true }, clock.secondsUntil(grant.expiresAt));`,
    replace: `    await refreshTokens.set(key, grant, clock.secondsUntil(grant.expiresAt));`,
    rule: 'refresh tokens rotate: each is used once',
    section: 'TODO 3.8',
  },
  {
    id: 'refresh-widens-scopes',
    file: 'tokens.ts',
    find: `    if (narrowed.some((scope) => !grant.scopes.includes(scope))) throw new InvalidScopeError('A refresh cannot add scopes.');`,
    replace: ``,
    rule: 'a refresh may narrow the scopes, never widen them',
    section: 'TODO 3.8',
  },
  {
    id: 'revoke-any-client',
    file: 'tokens.ts',
    find: `if (!grant || grant.clientId !== client.client_id) return;`,
    replace: `if (!grant) return;`,
    rule: '/revoke acts only on the calling client\'s own tokens',
    section: 'TODO 3.8',
  },
  {
    id: 'renewed-cache-dropped',
    file: 'graphTokens.ts',
    find: `      if (tokenCache !== session.tokenCache) {`,
    replace: `      if (false) {`,
    rule: 'the renewed MSAL cache is saved in the session (refresh tokens rotate)',
    section: 'TODO 3.9',
  },
  {
    id: 'entra-revoked-keeps-session',
    file: 'graphTokens.ts',
    find: `      if (error instanceof SignInRequiredError) await endSession(sessions, sessionId);`,
    replace: ``,
    rule: 'when Entra ID ends the sign-in, the session ends too',
    section: 'TODO 3.9',
  },
  {
    id: 'dcr-any-redirect-uri',
    file: 'clients.ts',
    find: `if (url.protocol === 'javascript:' || url.protocol === 'data:' || (url.protocol === 'http:' && !loopback)) {`,
    replace: `if (url.protocol === 'javascript:') {`,
    rule: 'a client registers only https or loopback http redirect URIs',
    section: 'The confused deputy, and consent',
  },
  {
    id: 'graph-error-thrown',
    file: 'tools.ts',
    find: `        return errorResult(describeGraphError(error, 'User.Read'));`,
    replace: `        throw error;`,
    rule: 'a failed Graph call becomes a tool error that says what to do',
    section: 'TODO 3.10',
  },
  {
    id: 'revoke-finds-refresh-tokens-only',
    file: 'tokens.ts',
    find: `const grant = (await accessTokens.get(key)) ?? (await refreshTokens.get(key));`,
    replace: `const grant = await refreshTokens.get(key);`,
    rule: 'revoking either token, access or refresh, ends the session',
    section: 'TODO 3.8',
  },
  {
    id: 'code-lives-as-long-as-the-session',
    file: 'callback.ts',
    find: `      lifetimes.codeSeconds,
    );`,
    replace: `      lifetimes.sessionSeconds,
    );`,
    rule: 'our authorization code is good for codeSeconds only',
    section: 'TODO 3.5',
  },
  {
    id: 'loopback-by-prefix',
    file: 'clients.ts',
    find: `const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);`,
    replace: `const loopback = ['localhost', '127.0.0.1', '[::1]'].some((host) => url.hostname.startsWith(host));`,
    rule: 'plain http only for a loopback host, named exactly',
    section: 'The confused deputy, and consent',
  },
  {
    id: 'any-entra-error-signs-out',
    file: 'entra.ts',
    find: `if (error instanceof InteractionRequiredAuthError || (error instanceof ServerError && error.errorCode === 'invalid_grant')) {`,
    replace: `if (error instanceof InteractionRequiredAuthError || error instanceof ServerError) {`,
    rule: 'only a verdict on the user (interaction required, invalid_grant) ends a session, never an outage',
    section: 'TODO 3.9',
  },
  {
    id: 'expires-in-milliseconds',
    file: 'tokens.ts',
    find: `      expires_in: clock.secondsUntil(accessExpiresAt),`,
    replace: `      expires_in: lifetimes.accessTokenSeconds * 1000,`,
    rule: 'expires_in is in seconds',
    section: 'Sessions: expire, refresh, revoke',
  },
  {
    id: 'anything-but-deny-approves',
    file: 'consent.ts',
    find: `    if (req.body.decision !== 'approve') {`,
    replace: `    if (req.body.decision === 'deny') {`,
    rule: 'only an explicit Approve approves',
    section: 'TODO 3.4',
  },
  {
    id: 'one-msal-app-for-everyone',
    file: 'entra.ts',
    find: `  private msal(): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.config.entra.webClientId,
        // A secret proves this server is the registered web app. Lesson 5 replaces it with a credential that cannot leak.
        clientSecret: this.config.entra.webClientSecret,
        ...this.config.entra.msal,
      },
      // Warnings only, on stderr, and never personal data or tokens.
      system: { loggerOptions: { logLevel: LogLevel.Warning, piiLoggingEnabled: false, loggerCallback: (_level, message) => console.error(\`[msal] \${message}\`) } },
    });
  }`,
    replace: `  private shared?: ConfidentialClientApplication;
  private msal(): ConfidentialClientApplication {
    return (this.shared ??= new ConfidentialClientApplication({
      auth: {
        clientId: this.config.entra.webClientId,
        // A secret proves this server is the registered web app. Lesson 5 replaces it with a credential that cannot leak.
        clientSecret: this.config.entra.webClientSecret,
        ...this.config.entra.msal,
      },
      // Warnings only, on stderr, and never personal data or tokens.
      system: { loggerOptions: { logLevel: LogLevel.Warning, piiLoggingEnabled: false, loggerCallback: (_level, message) => console.error(\`[msal] \${message}\`) } },
    }));
  }`,
    rule: 'a session holds one user\'s Entra tokens and no one else\'s',
    section: 'Sessions: expire, refresh, revoke',
  },
]);
