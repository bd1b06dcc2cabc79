import { defineConfig } from 'vitest/config';

// The real-client suite (npm run e2e). One file at a time: each starts browsers, servers and Inspector.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
