import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Files may run side by side (vitest's default): every suite listens on free ports of its own
    // (tests/support/harness.ts).
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
