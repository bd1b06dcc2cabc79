/**
 * The emulator as msw handlers: Entra ID at the emulator's origin and the Graph fake at
 * https://graph.microsoft.com, answered in-process (no ports).
 */
import { http } from 'msw';
import type { EntraEmulator } from './entra.ts';
import type { GraphFake } from './graph.ts';

/** Where Microsoft Graph lives; msw answers it in-process. */
export const GRAPH_ORIGIN = 'https://graph.microsoft.com';

/**
 * msw request handlers that answer the emulator's origin with the emulator and Graph with the fake.
 *
 * @example
 * ```ts
 * const network = setupServer(...emulatorHandlers(emulator, graph));
 * ```
 */
export function emulatorHandlers(emulator: EntraEmulator, graph: GraphFake) {
  return [
    http.all(`${emulator.origin}/*`, ({ request }) => emulator.handle(request)),
    http.all(`${GRAPH_ORIGIN}/*`, ({ request }) => graph.handle(request)),
  ];
}
