/**
 * Entra ID failures in words a person can act on, for the servers that call Entra ID themselves
 * (lesson 3 renewing a session's tokens, lesson 4 asking On-Behalf-Of). It tells apart the two
 * causes a learner must not confuse: Entra ID could not be reached at all (the network, or the
 * emulator is not running), or it answered and refused (with its AADSTS code and what to do).
 * It never quotes a token, and never passes on MSAL's raw `network_error: Network request failed`.
 *
 * AADSTS codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
import { AuthError } from '@azure/msal-node';
import type { WorkshopConfig } from './config.ts';

/** MSAL's codes for "no answer from Entra ID": no connection, a timeout, or metadata it could not fetch. */
const UNREACHABLE = new Set(['network_error', 'no_network_connectivity', 'endpoints_resolution_error', 'openid_config_error']);

/** What to do about the AADSTS codes a learner meets here. */
const ADVICE: Record<string, string> = {
  AADSTS65001: 'The app has no consent for this permission: grant admin consent in its app registration (API permissions).',
  AADSTS50173: 'The user\'s sign-in was revoked: sign in again.',
  AADSTS700082: 'The sign-in has expired: sign in again.',
  AADSTS7000215: 'The client secret is wrong: copy the secret\'s value (not its ID) into .env.',
  AADSTS7000222: 'The client secret has expired: create a new one and put it in .env.',
  AADSTS500011: 'Entra ID does not know the resource asked for: check the App ID URI and that its app registration exists in this tenant.',
};

/**
 * One sentence about a failed call to Entra ID: unreachable (with where, and what to check), or
 * refused (with Entra's error code and, where we know one, the fix).
 * @param permission the permission asked for, named when Entra ID says consent is missing.
 */
export function describeEntraError(error: unknown, config: Pick<WorkshopConfig, 'mode' | 'emulatorUrl' | 'entra'>, permission?: string): string {
  if (isUnreachable(error)) {
    const where = new URL(config.entra.msal.authority).origin;
    const hint =
      config.mode === 'offline'
        ? `Is the emulator running at ${config.emulatorUrl.origin}? Start it with npm run emulator, then try again.`
        : 'Check this machine\'s network connection (and proxy), then try again.';
    return `Could not reach Entra ID at ${where} (${cause(error)}). ${hint}`;
  }
  if (error instanceof AuthError) {
    const aadsts = /AADSTS\d+/.exec(error.errorMessage)?.[0];
    const detail = firstLine(error.errorMessage.replace(/^AADSTS\d+:\s*/, ''));
    const consent = aadsts === 'AADSTS65001' || error.errorCode === 'consent_required';
    const advice = consent && permission ? `The app has no consent for ${permission}: grant admin consent in its app registration (API permissions).` : aadsts ? ADVICE[aadsts] : undefined;
    return `Entra ID refused the request (${[error.errorCode, aadsts].filter(Boolean).join(', ')}: ${detail}).${advice ? ` ${advice}` : ''}`;
  }
  return `The request to Entra ID failed (${firstLine(error instanceof Error ? error.message : String(error))}).`;
}

/** True when Entra ID never answered: MSAL's network errors, or a bare fetch failure. */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof AuthError) return UNREACHABLE.has(error.errorCode);
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

/** "fetch failed", "Request timeout": MSAL's own words for the cause, without its prefix and extra info. */
function cause(error: unknown): string {
  const message = error instanceof AuthError ? error.errorMessage : error instanceof Error ? error.message : String(error);
  return firstLine(message.replace(/^Network request failed:\s*/i, '').replace(/,\s*additionalErrorInfo:.*$/s, '')) || 'no answer';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim().replace(/\.$/, '');
}
