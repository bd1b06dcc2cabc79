import { defineConfig } from 'vitest/config';

// The real-client suite (npm run e2e). One file at a time: each starts browsers, servers and Inspector.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // A real browser and a real Inspector process have timing of their own; one retry keeps a slow
    // machine from failing CI, and the reporter still marks a retried test ("retry x1") so a flaky
    // test is seen, not hidden.
    retry: 1,
  },
});
