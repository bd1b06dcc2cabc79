/**
 * The device authorization grant's two halves that are not the token endpoint (RFC 8628):
 *
 *   POST /{tenant}/oauth2/v2.0/devicecode   issues a device code and a user code (§3.1–3.2)
 *   GET  /devicelogin                        the page where the user types the code, then chooses an account (POST)
 *
 * The token endpoint redeems the device code (grants.ts).
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
 */
import { randomBytes } from 'node:crypto';
import { USERS, findApp, findUser } from './directory.ts';
import type { DeviceRecord, Exchange } from './context.ts';
import { Errors } from './errors.ts';
import { deviceConfirmPage, deviceLoginPage, htmlResponse, messagePage } from './pages.ts';
import { resolveScopes } from './scopes.ts';

/** The device code page's path, on the emulator's origin (Entra's is https://microsoft.com/devicelogin). */
export const DEVICE_LOGIN_PATH = '/devicelogin';

/** Letters and digits that cannot be mistaken for one another (no I/1, O/0). */
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const USER_CODE_LENGTH = 9;

/** `POST /{tenant}/oauth2/v2.0/devicecode`: a device code for a public client that allows public client flows. */
export async function issueDeviceCode({ request, emulator }: Exchange): Promise<Response> {
  const form = new URLSearchParams(await request.text());
  const client = findApp(form.get('client_id'));
  if (!client) throw Errors.unknownClient(form.get('client_id') ?? '(none)');
  if (client.kind !== 'public' || !client.allowPublicClientFlows) throw Errors.publicFlowsNotAllowed(client.clientId);
  const scope = form.get('scope') ?? '';
  resolveScopes(scope, form.get('resource'), emulator.identifierUris); // refuses a bad scope now, not at the first poll
  const deviceCode = randomBytes(32).toString('base64url');
  const userCode = randomUserCode();
  const lifetime = emulator.settings.deviceCodeLifetimeSeconds;
  const record: DeviceRecord = { clientId: client.clientId, scope, userCode, expiresAt: emulator.now() + lifetime * 1000, status: 'pending' };
  emulator.store.put('deviceCodes', deviceCode, record, lifetime + 3600);
  emulator.store.put('userCodes', userCode, deviceCode, lifetime);
  emulator.emit({ code: 'device-code-issued', clientId: client.clientId });
  const verificationUri = `${emulator.origin}${DEVICE_LOGIN_PATH}`;
  return Response.json({
    user_code: userCode,
    device_code: deviceCode,
    verification_uri: verificationUri,
    expires_in: lifetime,
    interval: emulator.settings.deviceCodeIntervalSeconds,
    message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
  });
}

/** `GET /devicelogin`: the empty code form. */
export function showDeviceLogin({ emulator }: Exchange): Response {
  return htmlResponse(deviceLoginPage(`${emulator.origin}${DEVICE_LOGIN_PATH}`));
}

/**
 * `POST /devicelogin`, in two steps: a user code alone (Next, or Enter in the code field) shows the
 * app's name and the accounts; the code with an account approves, with `action=decline` declines.
 * The code is used up only by that choice, so nobody is ever signed in by default.
 */
export async function submitDeviceLogin({ request, emulator }: Exchange): Promise<Response> {
  const action = `${emulator.origin}${DEVICE_LOGIN_PATH}`;
  const form = new URLSearchParams(await request.text());
  const userCode = (form.get('user_code') ?? '').trim().toUpperCase();
  const deviceCode = emulator.store.get<string>('userCodes', userCode);
  const record = deviceCode ? emulator.store.get<DeviceRecord>('deviceCodes', deviceCode) : undefined;
  if (!deviceCode || !record || record.status !== 'pending') {
    return htmlResponse(deviceLoginPage(action, 'That code is not valid or has expired. Check it and try again.', userCode), 400);
  }
  const app = findApp(record.clientId);
  const decline = form.get('action') === 'decline';
  const user = findUser(form.get('user') ?? '');
  if (!decline && !user) {
    const scopes = record.scope.split(' ').filter(Boolean);
    return htmlResponse(deviceConfirmPage({ action, userCode, clientName: app?.displayName ?? record.clientId, scopes, users: USERS }));
  }
  emulator.store.delete('userCodes', userCode);
  if (decline || !user) {
    emulator.store.update('deviceCodes', deviceCode, { ...record, status: 'declined' });
    return messagePage('Sign-in declined', 'You declined the sign-in. You can close this window.');
  }
  emulator.store.update('deviceCodes', deviceCode, { ...record, status: 'approved', userOid: user.oid });
  emulator.emit({ code: 'signed-in', clientId: record.clientId, user: user.userPrincipalName });
  return messagePage('You are signed in', `${user.displayName} is signed in to ${app?.displayName ?? 'the app'}. You can close this window.`);
}

function randomUserCode(): string {
  return Array.from(randomBytes(USER_CODE_LENGTH), (byte) => USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length]).join('');
}
