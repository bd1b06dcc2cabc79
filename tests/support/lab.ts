/**
 * The offline tenant every test talks to: one Entra ID emulator and one Graph fake per test file,
 * served in-process by msw at the same URLs the lessons use (see tests/support/network.ts).
 */
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { createEntraEmulator, type EntraEmulator } from '../../shared/emulator/entra.ts';
import type { EmulatorEvent } from '../../shared/emulator/events.ts';
import { GraphFake } from '../../shared/emulator/graph.ts';

/** The settings lessons see in tests: offline, whatever the learner's shell or .env says. */
export const offlineConfig = loadConfig({ PORT: '3001' });

let clockOffsetMs = 0;

export const emulator = await createEntraEmulator({
  url: offlineConfig.emulatorUrl,
  now: () => Date.now() + clockOffsetMs,
  // MSAL waits `interval` seconds after each device-code poll that is still pending, so a sign-in the
  // test approves at once costs up to one interval: keep it short (RFC 8628 leaves it to the server).
  settings: { deviceCodeIntervalSeconds: 0.1 },
});

export const graph = new GraphFake(emulator);

/** Moves the emulator's clock (codes, refresh tokens, new tokens' iat/exp), instead of sleeping. */
export const clock = {
  advance(seconds: number): void {
    clockOffsetMs += seconds * 1000;
  },
  reset(): void {
    clockOffsetMs = 0;
  },
};

/**
 * Records what an emulator does from now until the current test ends: call it inside a test, read
 * the array afterwards. Only this test's events are in it, however many ran before.
 *
 * @param source The emulator to follow; the shared in-process one by default.
 */
export function recordEvents(source: Pick<EntraEmulator, 'events'> = emulator): EmulatorEvent[] {
  const events: EmulatorEvent[] = [];
  onTestFinished(source.events.on((event) => events.push(event)));
  return events;
}
