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
    const session = await sessions.get(sessionId);
    if (!session) throw new SignInRequiredError('Your session has ended. Sign in again.');
    try {
      const { accessToken, tokenCache } = await entra.graphToken(session);
      // MSAL renewed the tokens: keep the new cache, or the next renewal uses a spent refresh token.
      if (tokenCache !== session.tokenCache) {
        await sessions.set(sessionId, { ...session, tokenCache }, clock.secondsUntil(session.expiresAt));
      }
      return accessToken;
    } catch (error) {
      // Entra ID has ended the user's sign-in: end ours too, so the client's next request gets a 401 and signs in again.
      if (error instanceof SignInRequiredError) await endSession(sessions, sessionId);
      throw error;
    }
  }
}
