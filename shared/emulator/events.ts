/**
 * What the emulator does, as a stream of typed events that adapters and tests subscribe to (the way
 * msw's core emits lifecycle events). Nothing is kept: an event reaches the listeners subscribed when
 * it happens, and then it is gone, so a console that follows the stream never falls behind and a test
 * that records one test's events never sees another's. Tokens and secrets are never part of an event.
 */
import type { EntraError } from './errors.ts';

/** Stops a subscription. Calling it again does nothing. */
export type Unsubscribe = () => void;

/** A listener of an {@link EventStream}. */
export type Listener<Event> = (event: Event) => void;

/**
 * A minimal typed event emitter: subscribe with {@link EventStream.on}, publish with {@link EventStream.emit}.
 *
 * @example
 * ```ts
 * const stop = emulator.events.on((event) => {
 *   if (event.code === 'token-issued') console.log(event.grant, event.clientId);
 * });
 * // …
 * stop();
 * ```
 */
export class EventStream<Event> {
  readonly #listeners = new Set<Listener<Event>>();

  /**
   * Calls `listener` with every event emitted from now on, until the returned function is called.
   * Listeners run synchronously, in the order they subscribed; one that throws fails the request
   * being handled (the emulator answers it with a server error), so listeners should not throw.
   */
  on(listener: Listener<Event>): Unsubscribe {
    // A wrapper per subscription, so the same function can subscribe twice and unsubscribe once.
    const subscription: Listener<Event> = (event) => listener(event);
    this.#listeners.add(subscription);
    return () => {
      this.#listeners.delete(subscription);
    };
  }

  /** Hands `event` to every current listener. */
  emit(event: Event): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

/** A user picked an account on a sign-in page (authorize) or approved a device code. */
export interface SignedInEvent {
  code: 'signed-in';
  /** The app the user signed in to. */
  clientId: string;
  /** The user's UPN, e.g. `ada@contoso.test`. */
  user: string;
}

/** The token endpoint issued tokens. */
export interface TokenIssuedEvent {
  code: 'token-issued';
  /** The `grant_type` as the client sent it, e.g. `authorization_code` or `device_code`. */
  grant: string;
  clientId: string;
  /** The user's UPN; absent for app-only tokens (client credentials). */
  user?: string;
  /** The client ID of the access token's resource (its `aud`, or Graph's app ID). */
  resource: string;
}

/** The device authorization endpoint issued a device code (RFC 8628 §3.2). */
export interface DeviceCodeIssuedEvent {
  code: 'device-code-issued';
  clientId: string;
}

/** The emulator refused a request with an Entra error (or failed with a server error, AADSTS50000). */
export interface RequestRefusedEvent {
  code: 'request-refused';
  /** The client, when the refusal happened on the sign-in page of a known app. */
  clientId?: string;
  /** The OAuth error code, e.g. `invalid_grant`. */
  error: string;
  /** Entra's AADSTS number, e.g. 70016 (authorization pending). */
  aadsts: number;
  /** The learner-facing description, `AADSTS<n>: …`. */
  message: string;
}

/** The platform's identity endpoint gave a managed identity a token (lesson 5; managedIdentity.ts). */
export interface ManagedIdentityTokenIssuedEvent {
  code: 'managed-identity-token-issued';
  /** The managed identity's client ID. */
  clientId: string;
  /** What the token is for, e.g. `api://AzureADTokenExchange`. */
  resource: string;
}

/** Everything the Entra ID emulator reports; `code` tells which kind it is and never changes. */
export type EmulatorEvent = SignedInEvent | TokenIssuedEvent | DeviceCodeIssuedEvent | RequestRefusedEvent | ManagedIdentityTokenIssuedEvent;

/**
 * The `request-refused` event for an Entra error.
 *
 * @param clientId The client, when the request named a known one.
 */
export function refusedEvent(error: EntraError, clientId?: string): RequestRefusedEvent {
  return { code: 'request-refused', ...(clientId ? { clientId } : {}), error: error.error, aadsts: error.code, message: error.message };
}
