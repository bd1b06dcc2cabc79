/**
 * Step 6: a tool needs the caller's Microsoft Graph token. It comes from the caller's own session,
 * whose MSAL cache renews it silently (entra.ts), and from nowhere else.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { AuthError } from '@azure/msal-node';
import { describeEntraError, isUnreachable } from '../../shared/entraErrors.ts';
import { SignInRequiredError } from './entra.ts';
import { endSession, type FlowContext } from './records.ts';

export class GraphTokens {
  /** Graph token requests in flight, per session: concurrent tool calls share one renewal. */
  private readonly renewing = new Map<string, Promise<string>>();

  constructor(private readonly flow: FlowContext) {}

  /**
   * A Microsoft Graph token for the user behind an MCP request, from that request's session.
   * Renewed silently by MSAL when it has expired; throws SignInRequiredError when only the user can help.
   */
  async graphTokenFor(authInfo: AuthInfo): Promise<string> {
    const sessionId = authInfo.extra?.sessionId;
    if (typeof sessionId !== 'string') throw new SignInRequiredError('This request carries no session. Sign in again.');
    const inFlight = this.renewing.get(sessionId);
    if (inFlight) return inFlight;
    const pending = this.renewGraphToken(sessionId)
      .catch((error: unknown) => {
        // MSAL says "network_error: Network request failed: fetch failed"; the person needs the cause in words.
        if (error instanceof AuthError || isUnreachable(error)) throw new Error(describeEntraError(error, this.flow.config), { cause: error });
        throw error;
      })
      .finally(() => this.renewing.delete(sessionId));
    this.renewing.set(sessionId, pending);
    return pending;
  }

  private async renewGraphToken(sessionId: string): Promise<string> {
    const { sessions, entra, clock } = this.flow;
    // TODO 3.9 (part 1): Read the session (gone: throw SignInRequiredError), get a Graph token with
    // entra.graphToken(session), and save the session again when the returned cache changed.
    // On SignInRequiredError, end the session (endSession) before you rethrow. See README, step 3.9.
    throw new Error('TODO 3.9: a Graph token for the session (graphTokens.ts, renewGraphToken)');
  }
}
