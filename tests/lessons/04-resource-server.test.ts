/**
 * Lesson 4: the MCP server as an OAuth resource server, on SDK v1. The tests themselves live in
 * tests/support/resourceServerSuite.ts, shared with lesson 6 (the same server on SDK v2).
 */
import { resourceServerSuite } from '../support/resourceServerSuite.ts';

resourceServerSuite({
  lesson: 4,
  todos: (files) => ({
    prm: `TODO 4.1 in ${files.app}`,
    verify: `TODO 4.2 in ${files.verifier}`,
    claims: `TODO 4.3 in ${files.verifier}`,
    claimChecks: `TODO 4.3 in ${files.verifier}`,
    gate: `TODO 4.4 in ${files.scopes}`,
    obo: `TODO 4.5 in ${files.graph}`,
    serve: `TODO 4.1 in ${files.app}`,
    caller: `TODO 4.3 in ${files.verifier}`,
    graphErrors: `callGraph in ${files.graph} and describeGraphError in shared/graph.ts`,
  }),
  invalidTokenError: "the SDK's InvalidTokenError",
  unknownToolRefusal: 'challenge',
});
