/**
 * The offline tenant every test talks to: one Entra ID emulator and one Graph fake per test file,
 * served in-process by msw at the same URLs the lessons use (see tests/support/network.ts).
 */
import { loadConfig } from '../../shared/config.ts';
import { createEntraEmulator } from '../../shared/emulator/entra.ts';
import { GraphFake } from '../../shared/emulator/graph.ts';

/** The settings lessons see in tests: offline, whatever the learner's shell or .env says. */
export const offlineConfig = loadConfig({ PORT: '3001' });

let clockOffsetMs = 0;

export const emulator = await createEntraEmulator({
  url: offlineConfig.emulatorUrl,
  now: () => Date.now() + clockOffsetMs,
  // MSAL waits `interval` seconds between device-code polls: keep tests quick.
  settings: { deviceCodeIntervalSeconds: 1 },
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
