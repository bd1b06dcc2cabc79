/** Lesson 2's mutants: the mistakes that break a rule the lesson's text teaches (see mutant.ts). */
import { mutants } from './mutant.ts';

export default mutants([
  {
    id: 'cache-never-saved',
    file: 'tokenCache.ts',
    find: `      if (!context.cacheHasChanged) return;`,
    replace: `      return;`,
    rule: 'the token cache is saved to disk when it changed',
    section: 'TODO 2.2',
  },
  {
    id: 'damaged-cache-deserialized',
    file: 'tokenCache.ts',
    find: `        JSON.parse(contents);
`,
    replace: ``,
    rule: 'a damaged cache is checked before deserialize and costs one sign-in, never a crash',
    section: 'TODO 2.2',
  },
  {
    id: 'cache-file-world-readable',
    file: 'tokenCache.ts',
    find: `{ mode: FILE_MODE, flag: 'wx' });
        // \`mode\` only applies to new files and the umask could narrow it, never widen it; set it anyway.
        await chmod(temporary, FILE_MODE);`,
    replace: `{ flag: 'wx' });`,
    rule: 'the cache file is readable and writable by its owner only (0600)',
    section: 'TODO 2.2',
  },
  {
    id: 'cache-written-in-place',
    file: 'tokenCache.ts',
    find: `        await writeFile(temporary, context.tokenCache.serialize(), { mode: FILE_MODE, flag: 'wx' });
        // \`mode\` only applies to new files and the umask could narrow it, never widen it; set it anyway.
        await chmod(temporary, FILE_MODE);
        await rename(temporary, file);`,
    replace: `        await writeFile(file, context.tokenCache.serialize(), { mode: FILE_MODE });`,
    rule: 'the cache is written atomically: a new private file renamed over the old one',
    section: 'TODO 2.2',
  },
  {
    id: 'no-shared-sign-in',
    file: 'authService.ts',
    find: `    this.inFlight ??= this.acquire(options).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;`,
    replace: `    return this.acquire(options);`,
    rule: 'one sign-in at a time: callers that arrive meanwhile share it',
    section: 'TODO 2.3',
  },
  {
    id: 'failed-sign-in-sticks',
    file: 'authService.ts',
    find: `    this.inFlight ??= this.acquire(options).finally(() => {
      this.inFlight = undefined;
    });`,
    replace: `    this.inFlight ??= this.acquire(options);`,
    rule: 'a finished (or failed) acquisition is not shared with later callers',
    section: 'TODO 2.3',
  },
  {
    id: 'never-silent',
    file: 'authService.ts',
    find: `    if (account) {
      try {`,
    replace: `    if (account && false) {
      try {`,
    rule: 'silent first: the cache answers while it can',
    section: 'TODO 2.3',
  },
  {
    id: 'revoked-refresh-token-is-an-error',
    file: 'authService.ts',
    find: `  return error instanceof InteractionRequiredAuthError || (error instanceof ServerError && error.errorCode === 'invalid_grant');`,
    replace: `  return error instanceof InteractionRequiredAuthError;`,
    rule: 'a refused refresh token (invalid_grant) means: sign in again',
    section: 'TODO 2.3',
  },
  {
    id: 'any-error-opens-a-browser',
    file: 'authService.ts',
    find: `        if (!needsSignIn(error)) throw error;`,
    replace: ``,
    rule: 'an error a browser cannot fix (the network) goes back to the caller, with no sign-in',
    section: 'TODO 2.3',
  },
  {
    id: 'force-refresh-ignored',
    file: 'authService.ts',
    find: `forceRefresh: options.forceRefresh });`,
    replace: `forceRefresh: false });`,
    rule: 'after Graph refused a token, the next call fetches a new one (forceRefresh)',
    section: 'TODO 2.6',
  },
  {
    id: 'no-device-code-fallback',
    file: 'authService.ts',
    find: `              browserFailed = error as Error;`,
    replace: ``,
    rule: 'no browser: sign in with a device code',
    section: 'TODO 2.4',
  },
  {
    id: 'cancel-becomes-device-code',
    file: 'authService.ts',
    find: `        if (!browserFailed) throw error;`,
    replace: `        browserFailed ??= error as Error;`,
    rule: 'a cancelled or refused sign-in is the answer, not a reason to try a device code',
    section: 'TODO 2.4',
  },
  {
    id: 'device-code-prompt-on-stdout',
    file: 'authService.ts',
    find: `      deviceCodeCallback: (response) => this.log(response.message),`,
    replace: `      deviceCodeCallback: (response) => void process.stdout.write(\`\${response.message}\\n\`),`,
    rule: 'the device code prompt goes to stderr: stdout is the protocol',
    section: 'TODO 2.4',
  },
  {
    id: 'sleeping-retry-handler',
    file: 'server.ts',
    find: `  return Client.initWithMiddleware({ middleware: authentication });`,
    replace: `  return Client.init({ authProvider: (done) => void getAccessToken().then((token) => done(null, token), (error) => done(error, null)) });`,
    rule: 'the Graph client has no retry handler that sleeps inside a tool call',
    section: 'TODO 2.5',
  },
  {
    id: 'sign-in-failure-as-graph-error',
    file: 'server.ts',
    find: `        return errorResult(\`Sign-in did not complete: \${firstLine(error)}. Call the tool again to sign in.\`);`,
    replace: `        return errorResult(describeGraphError(error));`,
    rule: 'a failed sign-in is reported as a sign-in problem, not as a Graph error',
    section: 'TODO 2.5',
  },
  {
    id: 'forbidden-without-permission',
    file: 'server.ts',
    find: `      \`Microsoft Graph denied access (\${detail}). The app needs the delegated permission User.Read, consented for you: \` +`,
    replace: `      \`Microsoft Graph denied access (\${detail}). \` +`,
    rule: 'a 403 names the permission to grant (User.Read)',
    section: 'TODO 2.6',
  },
  {
    id: 'retry-after-ignored',
    file: 'server.ts',
    find: `  const when = wait === undefined ? 'in a little while' : \`in \${wait} seconds\`;`,
    replace: `  const when = 'in a little while';`,
    rule: 'throttling and outages say how long to wait (Retry-After)',
    section: 'TODO 2.6',
  },
  {
    id: 'refused-token-sent-again',
    file: 'server.ts',
    find: `        if (error instanceof GraphError && error.statusCode === 401) tokenRefused = true;`,
    replace: ``,
    rule: 'after a 401 from Graph, the next call does not send the refused token again',
    section: 'TODO 2.6',
  },
]);
