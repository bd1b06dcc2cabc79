/**
 * Vitest setup, run before every test file: start the strict test network and give every test a
 * clean Graph fake and clock.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { clock, graph } from './lab.ts';
import { network } from './network.ts';

beforeAll(() => network.listen({ onUnhandledFrame: 'error' }));
afterEach(() => {
  network.resetHandlers();
  graph.reset();
  clock.reset();
});
afterAll(() => network.close());
