/**
 * The emulator as msw handlers: Entra ID at the emulator's origin and the Graph fake at
 * https://graph.microsoft.com, answered in-process (no ports).
 */
import { http } from 'msw';
import type { EntraEmulator } from './entra.ts';
import type { GraphFake } from './graph.ts';

export const GRAPH_ORIGIN = 'https://graph.microsoft.com';

export function emulatorHandlers(emulator: EntraEmulator, graph: GraphFake) {
  return [
    http.all(`${emulator.origin}/*`, ({ request }) => emulator.handle(request)),
    http.all(`${GRAPH_ORIGIN}/*`, ({ request }) => graph.handle(request)),
  ];
}
