/**
 * The tests' network: msw intercepts every request made in the test process. Entra ID and Graph
 * are answered by the emulator; loopback traffic (our own servers) passes through; anything else
 * fails the test, so no test can reach the internet.
 */
import { http, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { emulatorHandlers } from '../../shared/emulator/msw.ts';
import { emulator, graph } from './lab.ts';

const LOOPBACK = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;

/** Lets requests to our own local servers through. Always the last handler. */
export const loopbackPassthrough = http.all(LOOPBACK, () => passthrough());

export const network = setupServer(...emulatorHandlers(emulator, graph), loopbackPassthrough);
